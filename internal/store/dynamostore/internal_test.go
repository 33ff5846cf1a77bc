package dynamostore

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/google/go-cmp/cmp"

	"vigie/internal/vigie"
)

func TestFail_Kinds(t *testing.T) {
	s := &Store{}
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"throughput exceeded", &smithy.GenericAPIError{Code: "ProvisionedThroughputExceededException"}, vigie.KindUnavailable},
		{"throttling", &smithy.GenericAPIError{Code: "ThrottlingException"}, vigie.KindUnavailable},
		{"request limit", &smithy.GenericAPIError{Code: "RequestLimitExceeded"}, vigie.KindUnavailable},
		{"server error", &smithy.GenericAPIError{Code: "InternalServerError"}, vigie.KindUnavailable},
		{"transaction conflict", &smithy.GenericAPIError{Code: "TransactionConflictException"}, vigie.KindUnavailable},
		{"network", &smithyhttp.RequestSendError{Err: io.ErrUnexpectedEOF}, vigie.KindUnavailable},
		{"canceled", fmt.Errorf("op: %w", context.Canceled), vigie.KindUnavailable},
		{"deadline", context.DeadlineExceeded, vigie.KindUnavailable},
		{"validation", &smithy.GenericAPIError{Code: "ValidationException"}, vigie.KindInternal},
		{"missing table", &smithy.GenericAPIError{Code: "ResourceNotFoundException"}, vigie.KindInternal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.fail("op", &smithy.OperationError{ServiceID: "DynamoDB", OperationName: "PutItem", Err: tt.err})
			if got := vigie.ErrorKind(err); got != tt.want {
				t.Errorf("kind = %q, want %q (err %v)", got, tt.want, err)
			}
		})
	}
}

// fakeBatchGet is a loopback stand-in for DynamoDB's BatchGetItem that
// processes at most perCall keys per request and returns the rest as
// UnprocessedKeys, as DynamoDB does under load. dynoxide never does, so
// the retry loop is tested here.
type fakeBatchGet struct {
	perCall int
	stored  map[string]bool // SK values that exist

	mu    sync.Mutex
	calls int
}

func (f *fakeBatchGet) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if got := r.Header.Get("X-Amz-Target"); got != "DynamoDB_20120810.BatchGetItem" {
		http.Error(w, "unexpected operation "+got, http.StatusBadRequest)
		return
	}
	var in struct {
		RequestItems map[string]struct {
			Keys                     []map[string]map[string]string
			ConsistentRead           bool
			ProjectionExpression     string
			ExpressionAttributeNames map[string]string
		}
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	f.calls++
	f.mu.Unlock()
	responses := map[string][]any{}
	unprocessed := map[string]any{}
	for table, req := range in.RequestItems {
		if len(req.Keys) > batchGetMax || !req.ConsistentRead {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		n := min(f.perCall, len(req.Keys))
		responses[table] = []any{}
		for _, k := range req.Keys[:n] {
			sk := k["SK"]["S"]
			if f.stored[sk] {
				responses[table] = append(responses[table], map[string]any{"id": map[string]string{"S": sk[len(prefixMention):]}})
			}
		}
		if n < len(req.Keys) {
			unprocessed[table] = map[string]any{
				"Keys": req.Keys[n:], "ConsistentRead": true,
				"ProjectionExpression": req.ProjectionExpression, "ExpressionAttributeNames": req.ExpressionAttributeNames,
			}
		}
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	_ = json.NewEncoder(w).Encode(map[string]any{"Responses": responses, "UnprocessedKeys": unprocessed})
}

func newFakeStore(t *testing.T, h http.Handler) *Store {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	client := dynamodb.New(dynamodb.Options{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint: aws.String(srv.URL),
		Retryer:      aws.NopRetryer{},
	})
	s, err := New(client, "vigie", Options{CursorKey: []byte("k")})
	if err != nil {
		t.Fatal(err)
	}
	s.sleep = func(ctx context.Context, _ time.Duration) error { return ctx.Err() }
	return s
}

func TestExistingMentions_RetriesUnprocessedKeys(t *testing.T) {
	f := &fakeBatchGet{perCall: 40, stored: map[string]bool{}}
	var ids []string
	want := map[string]bool{}
	for i := range 130 {
		id := fmt.Sprintf("m%03d", i)
		ids = append(ids, id)
		if i%2 == 0 {
			f.stored[prefixMention+id] = true
			want[id] = true
		}
	}
	s := newFakeStore(t, f)
	got, err := s.ExistingMentions(t.Context(), "acme", ids)
	if err != nil {
		t.Fatalf("ExistingMentions: %v", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ExistingMentions mismatch (-want +got):\n%s", diff)
	}
	// 100 keys in 3 requests of 40, 40, 20; then 30 keys in one.
	if f.calls != 4 {
		t.Errorf("made %d BatchGetItem requests, want 4", f.calls)
	}
}

func TestExistingMentions_GivesUpWhenNothingIsProcessed(t *testing.T) {
	f := &fakeBatchGet{perCall: 0}
	s := newFakeStore(t, f)
	_, err := s.ExistingMentions(t.Context(), "acme", []string{"m1", "m2"})
	if !vigie.IsKind(err, vigie.KindUnavailable) {
		t.Errorf("err = %v, want Unavailable", err)
	}
	if f.calls != batchGetAttempts {
		t.Errorf("made %d requests, want %d", f.calls, batchGetAttempts)
	}
}

func TestStore_ThrottledIsUnavailable(t *testing.T) {
	s := newFakeStore(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, `{"__type":"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException","message":"slow down"}`)
	}))
	_, err := s.GetMention(t.Context(), "acme", "m1")
	if !vigie.IsKind(err, vigie.KindUnavailable) {
		t.Errorf("GetMention = %v, want Unavailable", err)
	}
	_, err = s.CreateMentions(t.Context(), "acme", []*vigie.Mention{{ID: "m1", Workspace: "acme", CreatedAt: time.Now()}})
	if !vigie.IsKind(err, vigie.KindUnavailable) {
		t.Errorf("CreateMentions = %v, want Unavailable", err)
	}
}

func TestTTLSeconds_RoundsUp(t *testing.T) {
	tests := []struct {
		in   time.Time
		want int64
	}{
		{time.Unix(100, 0), 100},
		{time.Unix(100, 1), 101},
		{time.Unix(100, 999_999_999), 101},
	}
	for _, tt := range tests {
		if got := ttlSeconds(tt.in); got != tt.want {
			t.Errorf("ttlSeconds(%v) = %d, want %d", tt.in, got, tt.want)
		}
	}
}
