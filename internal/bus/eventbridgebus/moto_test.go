package eventbridgebus

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/google/go-cmp/cmp"

	"vigie/internal/testsrv"
	"vigie/internal/vigie"
)

func TestMain(m *testing.M) { testsrv.Main(m) }

// TestBus_Moto publishes through a real EventBridge API (moto's) to a rule
// that targets an SQS queue, and reads the events back from the queue.
func TestBus_Moto(t *testing.T) {
	endpoint := testsrv.Moto(t)
	ctx := context.Background()
	cfg := testsrv.AWSConfig(endpoint)
	eb := eventbridge.NewFromConfig(cfg)
	sq := sqs.NewFromConfig(cfg)

	// Moto is shared by the package's tests: names must be unique.
	suffix := randomSuffix(t)
	busName := "vigie-it-" + suffix
	if _, err := eb.CreateEventBus(ctx, &eventbridge.CreateEventBusInput{Name: aws.String(busName)}); err != nil {
		t.Fatalf("CreateEventBus: %v", err)
	}
	q, err := sq.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("vigie-it-" + suffix)})
	if err != nil {
		t.Fatalf("CreateQueue: %v", err)
	}
	attrs, err := sq.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: q.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		t.Fatalf("GetQueueAttributes: %v", err)
	}
	pattern := `{"source":["vigie"],"detail-type":["mention.received"],"detail":{"workspace":["acme"]}}`
	if _, err := eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("acme-mentions"), EventBusName: aws.String(busName), EventPattern: aws.String(pattern)}); err != nil {
		t.Fatalf("PutRule: %v", err)
	}
	if _, err := eb.PutTargets(ctx, &eventbridge.PutTargetsInput{
		Rule:         aws.String("acme-mentions"),
		EventBusName: aws.String(busName),
		Targets:      []ebtypes.Target{{Id: aws.String("queue"), Arn: aws.String(attrs.Attributes[string(sqstypes.QueueAttributeNameQueueArn)])}},
	}); err != nil {
		t.Fatalf("PutTargets: %v", err)
	}

	// 25 events for the rule, and 3 it must filter out.
	var evs []vigie.Event
	var want []string
	when := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for i := range 25 {
		detail := fmt.Sprintf(`{"workspace":"acme","platform":"generic","n":%d,"text":"très bien ✓"}`, i)
		evs = append(evs, vigie.Event{ID: fmt.Sprintf("ev_%d", i), Type: vigie.EventMentionReceived, Workspace: "acme", Time: when, Detail: json.RawMessage(detail)})
		want = append(want, canonical(t, []byte(detail)))
	}
	evs = append(evs,
		vigie.Event{ID: "ev_other_ws", Type: vigie.EventMentionReceived, Workspace: "other", Time: when, Detail: json.RawMessage(`{"workspace":"other"}`)},
		vigie.Event{ID: "ev_other_type", Type: "post.published", Workspace: "acme", Time: when, Detail: json.RawMessage(`{"workspace":"acme"}`)},
		vigie.Event{ID: "ev_no_time", Type: "post.published", Workspace: "acme", Detail: json.RawMessage(`{"workspace":"acme"}`)},
	)

	var puts []int
	bus := New(eb, busName, Options{OnPut: func(n int) { puts = append(puts, n) }})
	if err := bus.Publish(ctx, evs...); err != nil {
		t.Fatalf("Publish: %v", err)
	}
	if diff := cmp.Diff([]int{10, 10, 8}, puts); diff != "" {
		t.Errorf("entries per PutEvents call (-want +got):\n%s", diff)
	}

	// Moto delivers to rule targets inside the PutEvents call, so every
	// message is in the queue once Publish returns: drain it until empty.
	var got []string
	for {
		out, err := sq.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: q.QueueUrl, MaxNumberOfMessages: 10})
		if err != nil {
			t.Fatalf("ReceiveMessage: %v", err)
		}
		if len(out.Messages) == 0 {
			break
		}
		for _, m := range out.Messages {
			var env struct {
				Source     string          `json:"source"`
				DetailType string          `json:"detail-type"`
				Detail     json.RawMessage `json:"detail"`
			}
			if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &env); err != nil {
				t.Fatalf("message body: %v", err)
			}
			if env.Source != vigie.EventSource || env.DetailType != vigie.EventMentionReceived {
				t.Errorf("message source %q, detail-type %q, want %q, %q", env.Source, env.DetailType, vigie.EventSource, vigie.EventMentionReceived)
			}
			got = append(got, canonical(t, env.Detail))
			if _, err := sq.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: q.QueueUrl, ReceiptHandle: m.ReceiptHandle}); err != nil {
				t.Fatalf("DeleteMessage: %v", err)
			}
		}
	}
	sort.Strings(want)
	sort.Strings(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("details delivered to the queue (-want +got):\n%s", diff)
	}
}

// TestBus_Moto_MissingBus checks that a call EventBridge refuses for good is
// reported for every event, without retries.
func TestBus_Moto_MissingBus(t *testing.T) {
	endpoint := testsrv.Moto(t)
	cfg := testsrv.AWSConfig(endpoint)
	eb := eventbridge.NewFromConfig(cfg)
	calls := 0
	bus := New(eb, "vigie-missing-"+randomSuffix(t), Options{Backoff: func(int) time.Duration { return 0 }, OnPut: func(int) { calls++ }})
	err := bus.Publish(context.Background(), events(2)...)
	if !vigie.IsKind(err, vigie.KindUnavailable) {
		t.Fatalf("Publish error = %v, want kind unavailable", err)
	}
	t.Logf("error: %v", err)
	if calls != 1 {
		t.Errorf("%d PutEvents calls, want 1: a missing bus is not retried", calls)
	}
}

func canonical(t *testing.T, raw []byte) string {
	t.Helper()
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("detail %s: %v", raw, err)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func randomSuffix(t *testing.T) string {
	t.Helper()
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}
