package dynamostore_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"vigie/internal/store/dynamostore"
	"vigie/internal/store/storetest"
	"vigie/internal/testsrv"
	"vigie/internal/vigie"
)

// newClient returns a client for the local DynamoDB-compatible server at
// endpoint.
func newClient(endpoint string) *dynamodb.Client {
	return dynamodb.New(dynamodb.Options{
		Region:       testsrv.Region,
		Credentials:  credentials.NewStaticCredentialsProvider(testsrv.AccessKey, testsrv.SecretKey, ""),
		BaseEndpoint: aws.String(endpoint),
	})
}

var tables atomic.Int64

// newTable creates a table with a name unique in this test binary.
func newTable(t *testing.T, client *dynamodb.Client) string {
	t.Helper()
	table := fmt.Sprintf("vigie-test-%d", tables.Add(1))
	if err := dynamostore.CreateTable(context.Background(), client, table); err != nil {
		t.Fatalf("CreateTable: %v", err)
	}
	return table
}

func TestStore(t *testing.T) {
	client := newClient(testsrv.Dynoxide(t))
	storetest.Run(t, func(t *testing.T, clock vigie.Clock) vigie.Store {
		s, err := dynamostore.New(client, newTable(t, client), dynamostore.Options{Clock: clock, CursorKey: []byte("test cursor key")})
		if err != nil {
			t.Fatalf("New: %v", err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	})
}

func TestCreateTable_Schema(t *testing.T) {
	client := newClient(testsrv.Dynoxide(t))
	table := newTable(t, client)
	// Creating it again (local tooling does at every start) is fine.
	if err := dynamostore.CreateTable(t.Context(), client, table); err != nil {
		t.Fatalf("second CreateTable: %v", err)
	}
	out, err := client.DescribeTable(t.Context(), &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	if err != nil {
		t.Fatal(err)
	}
	d := out.Table
	type key struct{ Name, Type string }
	keys := func(ks []types.KeySchemaElement) []key {
		var out []key
		for _, k := range ks {
			out = append(out, key{aws.ToString(k.AttributeName), string(k.KeyType)})
		}
		return out
	}
	if diff := cmp.Diff([]key{{"PK", "HASH"}, {"SK", "RANGE"}}, keys(d.KeySchema)); diff != "" {
		t.Errorf("key schema (-want +got):\n%s", diff)
	}
	if d.TableStatus != types.TableStatusActive {
		t.Errorf("status %s, want ACTIVE", d.TableStatus)
	}
	if d.BillingModeSummary == nil || d.BillingModeSummary.BillingMode != types.BillingModePayPerRequest {
		t.Errorf("billing mode %+v, want PAY_PER_REQUEST", d.BillingModeSummary)
	}
	if len(d.GlobalSecondaryIndexes) != 1 {
		t.Fatalf("%d GSIs, want 1", len(d.GlobalSecondaryIndexes))
	}
	g := d.GlobalSecondaryIndexes[0]
	if aws.ToString(g.IndexName) != dynamostore.GSI1 || g.Projection.ProjectionType != types.ProjectionTypeAll {
		t.Errorf("GSI %s projecting %s, want %s projecting ALL", aws.ToString(g.IndexName), g.Projection.ProjectionType, dynamostore.GSI1)
	}
	if diff := cmp.Diff([]key{{"GSI1PK", "HASH"}, {"GSI1SK", "RANGE"}}, keys(g.KeySchema)); diff != "" {
		t.Errorf("GSI1 key schema (-want +got):\n%s", diff)
	}
	ttl, err := client.DescribeTimeToLive(t.Context(), &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(table)})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(ttl.TimeToLiveDescription.AttributeName); got != dynamostore.TTLAttribute || ttl.TimeToLiveDescription.TimeToLiveStatus != types.TimeToLiveStatusEnabled {
		t.Errorf("TTL on %q is %s, want enabled on %q", got, ttl.TimeToLiveDescription.TimeToLiveStatus, dynamostore.TTLAttribute)
	}
}

// TestStore_ItemLayout pins the documented item keys, which the template,
// the console and any migration rely on.
func TestStore_ItemLayout(t *testing.T) {
	client := newClient(testsrv.Dynoxide(t))
	table := newTable(t, client)
	s, err := dynamostore.New(client, table, dynamostore.Options{CursorKey: []byte("k")})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	created := time.Date(2026, 3, 1, 12, 0, 0, 5, time.FixedZone("CET", 3600))
	expires := time.Date(2099, 1, 1, 0, 0, 0, 500_000_000, time.UTC)
	if err := s.CreateWorkspace(ctx, &vigie.Workspace{ID: "acme", CreatedAt: created}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateAPIKey(ctx, &vigie.APIKey{Workspace: "acme", ID: "k1", Hash: []byte{1, 2}, CreatedAt: created}); err != nil {
		t.Fatal(err)
	}
	m := &vigie.Mention{ID: "m_1", Workspace: "acme", CreatedAt: created, ExpiresAt: &expires}
	if _, err := s.CreateMentions(ctx, "acme", []*vigie.Mention{m}); err != nil {
		t.Fatal(err)
	}
	ch := &vigie.Channel{Workspace: "acme", ID: "ch_1", Platform: "bluesky", AccountID: "did:plc:abc#x", Status: vigie.StatusActive, CreatedAt: created}
	if err := s.CreateChannel(ctx, ch); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateWatch(ctx, &vigie.Watch{Workspace: "acme", ID: "wa_1", Name: "n", Kind: vigie.WatchBrand, Query: "q", Status: vigie.StatusActive, CreatedAt: created}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutSource(ctx, &vigie.Source{Workspace: "acme", ID: "src_1"}); err != nil {
		t.Fatal(err)
	}
	out, err := client.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(table)})
	if err != nil {
		t.Fatal(err)
	}
	type keys struct{ PK, SK, GSI1PK, GSI1SK, TTL string }
	var got []keys
	for _, item := range out.Items {
		var k keys
		str := func(name string) string {
			switch v := item[name].(type) {
			case *types.AttributeValueMemberS:
				return v.Value
			case *types.AttributeValueMemberN:
				return "N:" + v.Value
			}
			return ""
		}
		k.PK, k.SK, k.GSI1PK, k.GSI1SK, k.TTL = str("PK"), str("SK"), str("GSI1PK"), str("GSI1SK"), str(dynamostore.TTLAttribute)
		got = append(got, k)
	}
	want := []keys{
		{PK: "WS#acme", SK: "WS", GSI1PK: "WORKSPACES", GSI1SK: "acme"},
		{PK: "WS#acme", SK: "KEY#k1"},
		{PK: "WS#acme", SK: "C#ch_1"},
		{PK: "ACCOUNT#bluesky#did:plc:abc#x", SK: "ACCOUNT"},
		{PK: "WS#acme", SK: "W#wa_1"},
		{PK: "WS#acme", SK: "S#src_1"},
		// created is 11:00:00.000000005 UTC; the TTL is rounded up.
		{PK: "WS#acme", SK: "M#m_1", GSI1PK: "WS#acme#M", GSI1SK: "2026-03-01T11:00:00.000000005Z#m_1", TTL: fmt.Sprintf("N:%d", expires.Unix()+1)},
	}
	sortKeys := cmpopts.SortSlices(func(a, b keys) bool { return a.SK < b.SK })
	if diff := cmp.Diff(want, got, sortKeys); diff != "" {
		t.Errorf("items (-want +got):\n%s", diff)
	}
}

// TestStore_WritesPerMention measures what the benchmark reports: one write
// request per new mention, whatever the batch size.
func TestStore_WritesPerMention(t *testing.T) {
	client := newClient(testsrv.Dynoxide(t))
	var mu sync.Mutex
	writes := map[string]int{}
	s, err := dynamostore.New(client, newTable(t, client), dynamostore.Options{
		CursorKey: []byte("k"),
		OnWrite: func(op string, items int) {
			mu.Lock()
			defer mu.Unlock()
			writes[op] += items
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	count := func() map[string]int {
		mu.Lock()
		defer mu.Unlock()
		c := maps.Clone(writes)
		clear(writes)
		return c
	}
	ctx := t.Context()
	var ms []*vigie.Mention
	for i := range 60 {
		ms = append(ms, &vigie.Mention{ID: fmt.Sprintf("m%02d", i), Workspace: "acme", CreatedAt: time.Unix(int64(i), 0)})
	}
	if _, err := s.CreateMentions(ctx, "acme", ms[:20]); err != nil {
		t.Fatal(err)
	}
	count()

	// The ingest path: ask which exist (a read), create the rest.
	exist, err := s.ExistingMentions(ctx, "acme", ids(ms))
	if err != nil {
		t.Fatal(err)
	}
	var fresh []*vigie.Mention
	for _, m := range ms {
		if !exist[m.ID] {
			fresh = append(fresh, m)
		}
	}
	created, err := s.CreateMentions(ctx, "acme", fresh)
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(created, false) || len(created) != 40 {
		t.Fatalf("created %v, want 40 trues", created)
	}
	if diff := cmp.Diff(map[string]int{"PutItem": 40}, count()); diff != "" {
		t.Errorf("writes for 40 new mentions (-want +got):\n%s", diff)
	}

	// A redelivery of the same batch, checked first, writes nothing.
	exist, err = s.ExistingMentions(ctx, "acme", ids(ms))
	if err != nil || len(exist) != 60 {
		t.Fatalf("ExistingMentions = %d, %v; want 60", len(exist), err)
	}
	if got := count(); len(got) != 0 {
		t.Errorf("reads counted as writes: %v", got)
	}
}

// TestStore_WritesPerRecord pins the write requests (and items) of the
// record operations: a channel and its account index item go together in
// one transaction; everything else is one item.
func TestStore_WritesPerRecord(t *testing.T) {
	client := newClient(testsrv.Dynoxide(t))
	var mu sync.Mutex
	writes := map[string]int{}
	s, err := dynamostore.New(client, newTable(t, client), dynamostore.Options{
		CursorKey: []byte("k"),
		OnWrite: func(op string, items int) {
			mu.Lock()
			defer mu.Unlock()
			writes[op] += items
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	ch := &vigie.Channel{Workspace: "acme", ID: "ch_1", Platform: "x", AccountID: "42", Status: vigie.StatusActive, CreatedAt: now}
	m := &vigie.Mention{ID: "m_1", Workspace: "acme", CreatedAt: now}
	w := &vigie.Watch{Workspace: "acme", ID: "wa_1", Name: "n", Kind: vigie.WatchBrand, Query: "q", Status: vigie.StatusActive, CreatedAt: now}
	src := &vigie.Source{Workspace: "acme", ID: "src_1"}
	steps := []struct {
		name string
		call func() error
		want map[string]int
	}{
		{"CreateChannel", func() error { return s.CreateChannel(ctx, ch) }, map[string]int{"TransactWriteItems": 2}},
		{"CreateChannel refused", func() error {
			err := s.CreateChannel(ctx, ch)
			if !vigie.IsKind(err, vigie.KindConflict) {
				return fmt.Errorf("got %v, want Conflict", err)
			}
			return nil
		}, map[string]int{"TransactWriteItems": 2}},
		{"UpdateChannel", func() error { return s.UpdateChannel(ctx, ch) }, map[string]int{"PutItem": 1}},
		{"ChannelByAccount", func() error { _, err := s.ChannelByAccount(ctx, "x", "42"); return err }, map[string]int{}},
		{"DeleteChannel", func() error { return s.DeleteChannel(ctx, "acme", "ch_1") }, map[string]int{"TransactWriteItems": 2}},
		{"CreateMentions", func() error { _, err := s.CreateMentions(ctx, "acme", []*vigie.Mention{m}); return err }, map[string]int{"PutItem": 1}},
		{"UpdateMention", func() error { return s.UpdateMention(ctx, m) }, map[string]int{"PutItem": 1}},
		{"CreateWatch", func() error { return s.CreateWatch(ctx, w) }, map[string]int{"PutItem": 1}},
		{"UpdateWatch", func() error { return s.UpdateWatch(ctx, w) }, map[string]int{"PutItem": 1}},
		{"DeleteWatch", func() error { return s.DeleteWatch(ctx, "acme", "wa_1") }, map[string]int{"DeleteItem": 1}},
		{"PutSource create", func() error { return s.PutSource(ctx, src) }, map[string]int{"PutItem": 1}},
		{"PutSource update", func() error { return s.PutSource(ctx, src) }, map[string]int{"PutItem": 1}},
		{"DeleteSource", func() error { return s.DeleteSource(ctx, "acme", "src_1") }, map[string]int{"DeleteItem": 1}},
	}
	for _, st := range steps {
		if err := st.call(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		mu.Lock()
		got := maps.Clone(writes)
		clear(writes)
		mu.Unlock()
		if diff := cmp.Diff(st.want, got); diff != "" {
			t.Errorf("%s: writes (-want +got):\n%s", st.name, diff)
		}
	}
}

func ids(ms []*vigie.Mention) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.ID
	}
	return out
}
