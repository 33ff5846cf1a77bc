package eventbridgebus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"vigie/internal/vigie"
)

// stub is a PutEventsAPI whose answer a test chooses per call; it records
// the entries of every call. A nil put accepts everything.
type stub struct {
	mu    sync.Mutex
	calls [][]types.PutEventsRequestEntry
	put   func(call int, entries []types.PutEventsRequestEntry) (*eventbridge.PutEventsOutput, error)
}

func (s *stub) PutEvents(_ context.Context, in *eventbridge.PutEventsInput, _ ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error) {
	s.mu.Lock()
	s.calls = append(s.calls, in.Entries)
	call := len(s.calls)
	s.mu.Unlock()
	if s.put == nil {
		return accept(in.Entries, nil), nil
	}
	return s.put(call, in.Entries)
}

// accept answers entries, failing those whose detail-type is a key of fail
// with the mapped error code.
func accept(entries []types.PutEventsRequestEntry, fail map[string]string) *eventbridge.PutEventsOutput {
	out := &eventbridge.PutEventsOutput{}
	for i, e := range entries {
		if code, ok := fail[aws.ToString(e.DetailType)]; ok {
			out.FailedEntryCount++
			out.Entries = append(out.Entries, types.PutEventsResultEntry{ErrorCode: aws.String(code), ErrorMessage: aws.String("no")})
			continue
		}
		out.Entries = append(out.Entries, types.PutEventsResultEntry{EventId: aws.String(fmt.Sprintf("eb-%d", i))})
	}
	return out
}

// types of the entries of each call, to compare calls compactly. Tests give
// each event a distinct type equal to its id.
func callTypes(calls [][]types.PutEventsRequestEntry) [][]string {
	var out [][]string
	for _, c := range calls {
		var ts []string
		for _, e := range c {
			ts = append(ts, aws.ToString(e.DetailType))
		}
		out = append(out, ts)
	}
	return out
}

var noWait = Options{Backoff: func(int) time.Duration { return 0 }}

// events returns n events whose id and type are "e0", "e1"... .
func events(n int) []vigie.Event {
	var evs []vigie.Event
	for i := range n {
		id := fmt.Sprintf("e%d", i)
		evs = append(evs, vigie.Event{ID: id, Type: id, Workspace: "acme", Time: time.Date(2026, 3, 1, 12, 0, i, 0, time.UTC), Detail: json.RawMessage(`{"workspace":"acme"}`)})
	}
	return evs
}

// detailOfSize returns a JSON object of exactly n bytes (n >= 8).
func detailOfSize(n int) json.RawMessage {
	return json.RawMessage(`{"p":"` + strings.Repeat("x", n-8) + `"}`)
}

// eventOfSize returns an event whose entry counts exactly size bytes.
func eventOfSize(t *testing.T, id string, size int) vigie.Event {
	t.Helper()
	ev := vigie.Event{ID: id, Type: id, Time: time.Unix(1700000000, 0).UTC()}
	ev.Detail = detailOfSize(size - timeSize - len(vigie.EventSource) - len(id))
	if got := EntrySize(types.PutEventsRequestEntry{Time: &ev.Time, Source: aws.String(vigie.EventSource), DetailType: &ev.Type, Detail: aws.String(string(ev.Detail))}); got != size {
		t.Fatalf("eventOfSize(%d) = %d bytes", size, got)
	}
	return ev
}

func TestBus_Publish_Entry(t *testing.T) {
	when := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		ev   vigie.Event
		want types.PutEventsRequestEntry
	}{
		{
			name: "with time",
			ev:   vigie.Event{ID: "ev_1", Type: vigie.EventMentionReceived, Workspace: "acme", Time: when, Detail: json.RawMessage(`{"workspace":"acme","platform":"generic"}`)},
			want: types.PutEventsRequestEntry{EventBusName: aws.String("vigie-test"), Source: aws.String("vigie"), DetailType: aws.String("mention.received"), Detail: aws.String(`{"workspace":"acme","platform":"generic"}`), Time: aws.Time(when)},
		},
		{
			name: "zero time is left to EventBridge",
			ev:   vigie.Event{ID: "ev_2", Type: vigie.EventMentionReceived, Workspace: "acme", Detail: json.RawMessage(`{"workspace":"acme"}`)},
			want: types.PutEventsRequestEntry{EventBusName: aws.String("vigie-test"), Source: aws.String("vigie"), DetailType: aws.String("mention.received"), Detail: aws.String(`{"workspace":"acme"}`)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &stub{}
			if err := New(s, "vigie-test", noWait).Publish(context.Background(), tt.ev); err != nil {
				t.Fatalf("Publish: %v", err)
			}
			want := [][]types.PutEventsRequestEntry{{tt.want}}
			if diff := cmp.Diff(want, s.calls, cmpopts.IgnoreUnexported(types.PutEventsRequestEntry{})); diff != "" {
				t.Errorf("PutEvents calls (-want +got):\n%s", diff)
			}
		})
	}
}

func TestBus_Publish_Batches(t *testing.T) {
	tests := []struct {
		name   string
		events []vigie.Event
		want   [][]string // detail-types per call
	}{
		{name: "none", events: nil, want: nil},
		{name: "one", events: events(1), want: [][]string{{"e0"}}},
		{name: "ten in one call", events: events(10), want: [][]string{{"e0", "e1", "e2", "e3", "e4", "e5", "e6", "e7", "e8", "e9"}}},
		{
			name:   "25 by tens",
			events: events(25),
			want: [][]string{
				{"e0", "e1", "e2", "e3", "e4", "e5", "e6", "e7", "e8", "e9"},
				{"e10", "e11", "e12", "e13", "e14", "e15", "e16", "e17", "e18", "e19"},
				{"e20", "e21", "e22", "e23", "e24"},
			},
		},
		{
			name:   "exactly the size limit in one call",
			events: []vigie.Event{eventOfSize(t, "a", MaxBatchBytes/2), eventOfSize(t, "b", MaxBatchBytes/2)},
			want:   [][]string{{"a", "b"}},
		},
		{
			name:   "one byte over the size limit in two calls",
			events: []vigie.Event{eventOfSize(t, "a", MaxBatchBytes/2), eventOfSize(t, "b", MaxBatchBytes/2+1)},
			want:   [][]string{{"a"}, {"b"}},
		},
		{
			name: "size and count together",
			events: []vigie.Event{
				eventOfSize(t, "a", 100_000), eventOfSize(t, "b", 100_000), eventOfSize(t, "c", 100_000),
				eventOfSize(t, "d", 1000), eventOfSize(t, "e", MaxBatchBytes),
			},
			want: [][]string{{"a", "b"}, {"c", "d"}, {"e"}},
		},
		{
			name:   "a single event of the maximum size",
			events: []vigie.Event{eventOfSize(t, "a", MaxBatchBytes)},
			want:   [][]string{{"a"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &stub{}
			var onPut []int
			opts := noWait
			opts.OnPut = func(n int) { onPut = append(onPut, n) }
			if err := New(s, "b", opts).Publish(context.Background(), tt.events...); err != nil {
				t.Fatalf("Publish: %v", err)
			}
			if diff := cmp.Diff(tt.want, callTypes(s.calls)); diff != "" {
				t.Errorf("calls (-want +got):\n%s", diff)
			}
			var wantPut []int
			for _, c := range tt.want {
				wantPut = append(wantPut, len(c))
			}
			if diff := cmp.Diff(wantPut, onPut); diff != "" {
				t.Errorf("OnPut counts (-want +got):\n%s", diff)
			}
			for i, c := range s.calls {
				size := 0
				for _, e := range c {
					size += EntrySize(e)
				}
				if len(c) > MaxBatchEntries || size > MaxBatchBytes {
					t.Errorf("call %d: %d entries, %d bytes: over the limits", i, len(c), size)
				}
			}
		})
	}
}

func TestBus_Publish_Invalid(t *testing.T) {
	tests := []struct {
		name   string
		events []vigie.Event
		names  []string // in the message
	}{
		{
			name:   "one byte over the maximum size",
			events: []vigie.Event{events(1)[0], eventOfSize(t, "big", MaxBatchBytes+1)},
			names:  []string{"big (262145 bytes, over 262144)"},
		},
		{
			name:   "no type",
			events: []vigie.Event{{ID: "untyped", Detail: json.RawMessage(`{}`)}},
			names:  []string{"untyped (no type)"},
		},
		{
			name: "detail not a JSON object",
			events: []vigie.Event{
				{ID: "arr", Type: "t", Detail: json.RawMessage(`[1]`)},
				{ID: "broken", Type: "t", Detail: json.RawMessage(`{"a":`)},
				{ID: "empty", Type: "t"},
			},
			names: []string{"arr (detail is not a JSON object)", "broken (detail is not a JSON object)", "empty (detail is not a JSON object)"},
		},
		{
			name:   "no id is named by position",
			events: []vigie.Event{events(1)[0], {Type: "t", Detail: json.RawMessage(`"s"`)}},
			names:  []string{"#1 (detail is not a JSON object)"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &stub{}
			err := New(s, "b", noWait).Publish(context.Background(), tt.events...)
			if !vigie.IsKind(err, vigie.KindInvalid) {
				t.Fatalf("Publish error = %v, want kind invalid", err)
			}
			for _, n := range tt.names {
				if !strings.Contains(err.Error(), n) {
					t.Errorf("error %q does not name %q", err, n)
				}
			}
			if len(s.calls) != 0 {
				t.Errorf("%d PutEvents calls, want none: nothing is sent when an event is invalid", len(s.calls))
			}
		})
	}
}

func TestBus_Publish_Retries(t *testing.T) {
	throttled := &smithy.GenericAPIError{Code: "ThrottlingException", Message: "slow down", Fault: smithy.FaultClient}
	internal := &smithy.GenericAPIError{Code: "InternalException", Message: "oops", Fault: smithy.FaultServer}
	noBus := &smithy.GenericAPIError{Code: "ResourceNotFoundException", Message: "no bus", Fault: smithy.FaultClient}
	tests := []struct {
		name      string
		n         int
		attempts  int
		put       func(call int, entries []types.PutEventsRequestEntry) (*eventbridge.PutEventsOutput, error)
		wantCalls [][]string
		wantFail  []Failure // nil: Publish succeeds
	}{
		{
			name:     "partial failure then success resends only the failed",
			n:        4,
			attempts: 5,
			put: func(call int, es []types.PutEventsRequestEntry) (*eventbridge.PutEventsOutput, error) {
				if call == 1 {
					return accept(es, map[string]string{"e1": "ThrottlingException", "e3": "InternalFailure"}), nil
				}
				return accept(es, nil), nil
			},
			wantCalls: [][]string{{"e0", "e1", "e2", "e3"}, {"e1", "e3"}},
		},
		{
			name:     "failed entries of several batches are sent again together",
			n:        12,
			attempts: 5,
			put: func(call int, es []types.PutEventsRequestEntry) (*eventbridge.PutEventsOutput, error) {
				if call <= 2 {
					return accept(es, map[string]string{"e9": "InternalFailure", "e10": "InternalFailure"}), nil
				}
				return accept(es, nil), nil
			},
			wantCalls: [][]string{{"e0", "e1", "e2", "e3", "e4", "e5", "e6", "e7", "e8", "e9"}, {"e10", "e11"}, {"e9", "e10"}},
		},
		{
			name:     "entries that keep failing are all named after the last attempt",
			n:        5,
			attempts: 3,
			put: func(call int, es []types.PutEventsRequestEntry) (*eventbridge.PutEventsOutput, error) {
				return accept(es, map[string]string{"e1": "InternalFailure", "e3": "ThrottlingException"}), nil
			},
			wantCalls: [][]string{{"e0", "e1", "e2", "e3", "e4"}, {"e1", "e3"}, {"e1", "e3"}},
			wantFail:  []Failure{{"e1", "InternalFailure"}, {"e3", "ThrottlingException"}},
		},
		{
			name:     "permanent entry codes are not resent",
			n:        3,
			attempts: 5,
			put: func(call int, es []types.PutEventsRequestEntry) (*eventbridge.PutEventsOutput, error) {
				return accept(es, map[string]string{"e0": "NotAuthorizedForSourceException", "e2": "InternalFailure"}), nil
			},
			wantCalls: [][]string{{"e0", "e1", "e2"}, {"e2"}, {"e2"}, {"e2"}, {"e2"}},
			wantFail:  []Failure{{"e0", "NotAuthorizedForSourceException"}, {"e2", "InternalFailure"}},
		},
		{
			name:     "throttled call is retried",
			n:        2,
			attempts: 5,
			put: func(call int, es []types.PutEventsRequestEntry) (*eventbridge.PutEventsOutput, error) {
				if call == 1 {
					return nil, throttled
				}
				return accept(es, nil), nil
			},
			wantCalls: [][]string{{"e0", "e1"}, {"e0", "e1"}},
		},
		{
			name:     "server error is retried, then every event is named",
			n:        11,
			attempts: 2,
			put: func(call int, es []types.PutEventsRequestEntry) (*eventbridge.PutEventsOutput, error) {
				if len(es) == 1 {
					return accept(es, nil), nil
				}
				return nil, internal
			},
			wantCalls: [][]string{
				{"e0", "e1", "e2", "e3", "e4", "e5", "e6", "e7", "e8", "e9"}, {"e10"},
				{"e0", "e1", "e2", "e3", "e4", "e5", "e6", "e7", "e8", "e9"},
			},
			wantFail: []Failure{
				{"e0", "InternalException"}, {"e1", "InternalException"}, {"e2", "InternalException"}, {"e3", "InternalException"}, {"e4", "InternalException"},
				{"e5", "InternalException"}, {"e6", "InternalException"}, {"e7", "InternalException"}, {"e8", "InternalException"}, {"e9", "InternalException"},
			},
		},
		{
			name:     "network error is retried",
			n:        1,
			attempts: 2,
			put: func(call int, es []types.PutEventsRequestEntry) (*eventbridge.PutEventsOutput, error) {
				return nil, errors.New("connection reset")
			},
			wantCalls: [][]string{{"e0"}, {"e0"}},
			wantFail:  []Failure{{"e0", "RequestFailed"}},
		},
		{
			name:     "client error is not retried",
			n:        2,
			attempts: 5,
			put: func(call int, es []types.PutEventsRequestEntry) (*eventbridge.PutEventsOutput, error) {
				return nil, noBus
			},
			wantCalls: [][]string{{"e0", "e1"}},
			wantFail:  []Failure{{"e0", "ResourceNotFoundException"}, {"e1", "ResourceNotFoundException"}},
		},
		{
			name:     "a short response fails its batch",
			n:        2,
			attempts: 1,
			put: func(call int, es []types.PutEventsRequestEntry) (*eventbridge.PutEventsOutput, error) {
				return accept(es[:1], nil), nil
			},
			wantCalls: [][]string{{"e0", "e1"}},
			wantFail:  []Failure{{"e0", "IncompleteResponse"}, {"e1", "IncompleteResponse"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &stub{put: tt.put}
			var waits []int
			opts := Options{MaxAttempts: tt.attempts, Backoff: func(a int) time.Duration { waits = append(waits, a); return 0 }}
			err := New(s, "b", opts).Publish(context.Background(), events(tt.n)...)
			if diff := cmp.Diff(tt.wantCalls, callTypes(s.calls)); diff != "" {
				t.Errorf("calls (-want +got):\n%s", diff)
			}
			if tt.wantFail == nil {
				if err != nil {
					t.Fatalf("Publish: %v", err)
				}
				return
			}
			if !vigie.IsKind(err, vigie.KindUnavailable) {
				t.Fatalf("Publish error = %v, want kind unavailable", err)
			}
			var nae *NotAcceptedError
			if !errors.As(err, &nae) {
				t.Fatalf("Publish error = %v, want a *NotAcceptedError in its chain", err)
			}
			if diff := cmp.Diff(tt.wantFail, nae.Failures); diff != "" {
				t.Errorf("failures (-want +got):\n%s", diff)
			}
			for _, f := range tt.wantFail {
				if s := fmt.Sprintf("%s (%s)", f.EventID, f.Code); !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not name %q", err, s)
				}
			}
			for i, a := range waits {
				if a != i+1 {
					t.Errorf("Backoff called with attempts %v, want 1, 2, ...", waits)
					break
				}
			}
		})
	}
}

func TestBus_Publish_ContextCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := &stub{put: func(call int, es []types.PutEventsRequestEntry) (*eventbridge.PutEventsOutput, error) {
		return accept(es, map[string]string{"e1": "ThrottlingException"}), nil
	}}
	// The backoff cancels: Publish must stop waiting and not call again.
	opts := Options{MaxAttempts: 10, Backoff: func(int) time.Duration { cancel(); return time.Hour }}
	err := New(s, "b", opts).Publish(ctx, events(12)...)
	if !errors.Is(err, context.Canceled) || !vigie.IsKind(err, vigie.KindUnavailable) {
		t.Fatalf("Publish error = %v, want unavailable wrapping context.Canceled", err)
	}
	var nae *NotAcceptedError
	if !errors.As(err, &nae) {
		t.Fatalf("no *NotAcceptedError in %v", err)
	}
	if diff := cmp.Diff([]Failure{{"e1", "ThrottlingException"}}, nae.Failures); diff != "" {
		t.Errorf("failures (-want +got):\n%s", diff)
	}
	if len(s.calls) != 2 {
		t.Errorf("%d calls, want 2 (one attempt of two batches)", len(s.calls))
	}
}

func TestBus_Publish_ContextCanceledBeforehand(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s := &stub{}
	err := New(s, "b", noWait).Publish(ctx, events(2)...)
	var nae *NotAcceptedError
	if !errors.As(err, &nae) || !errors.Is(err, context.Canceled) {
		t.Fatalf("Publish error = %v, want a NotAcceptedError wrapping context.Canceled", err)
	}
	if diff := cmp.Diff([]Failure{{"e0", "NotSent"}, {"e1", "NotSent"}}, nae.Failures); diff != "" {
		t.Errorf("failures (-want +got):\n%s", diff)
	}
	if len(s.calls) != 0 {
		t.Errorf("%d calls, want none", len(s.calls))
	}
}

func TestEntrySize(t *testing.T) {
	now := time.Now()
	tests := []struct {
		name  string
		entry types.PutEventsRequestEntry
		want  int
	}{
		{name: "source and detail-type only", entry: types.PutEventsRequestEntry{Source: aws.String("vigie"), DetailType: aws.String("a.b")}, want: 8},
		{name: "time counts 14", entry: types.PutEventsRequestEntry{Source: aws.String("vigie"), DetailType: aws.String("a.b"), Time: &now}, want: 22},
		{name: "detail in UTF-8 bytes", entry: types.PutEventsRequestEntry{Source: aws.String("s"), DetailType: aws.String("t"), Detail: aws.String(`{"t":"été"}`)}, want: 2 + 13},
		{name: "resources count, bus name does not", entry: types.PutEventsRequestEntry{Source: aws.String("s"), DetailType: aws.String("t"), Resources: []string{"ab", "cde"}, EventBusName: aws.String("long-bus-name")}, want: 2 + 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := EntrySize(tt.entry); got != tt.want {
				t.Errorf("EntrySize = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestDefaultBackoff(t *testing.T) {
	tests := []struct {
		attempt  int
		min, max time.Duration
	}{
		{1, 50 * time.Millisecond, 100 * time.Millisecond},
		{2, 100 * time.Millisecond, 200 * time.Millisecond},
		{5, 800 * time.Millisecond, 1600 * time.Millisecond},
		{6, time.Second, 2 * time.Second},
		{60, time.Second, 2 * time.Second},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.attempt), func(t *testing.T) {
			for range 100 {
				if d := defaultBackoff(tt.attempt); d < tt.min || d > tt.max {
					t.Fatalf("defaultBackoff(%d) = %v, want in [%v, %v]", tt.attempt, d, tt.min, tt.max)
				}
			}
		})
	}
}
