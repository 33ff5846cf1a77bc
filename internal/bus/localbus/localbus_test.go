package localbus

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"
	"go.etcd.io/bbolt"

	"vigie/internal/samtemplate"
	"vigie/internal/vigie"
)

const fixturePath = "../../samtemplate/testdata/fixture.yaml"

var t0 = time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)

func fixtureRules(t *testing.T) []samtemplate.Rule {
	t.Helper()
	tmpl, err := samtemplate.Load(fixturePath)
	if err != nil {
		t.Fatal(err)
	}
	return tmpl.Rules()
}

// event is a Vigie event whose detail carries ws and the extra fields.
func event(id, typ, ws string, extra map[string]string) vigie.Event {
	d := map[string]string{"workspace": ws}
	for k, v := range extra {
		d[k] = v
	}
	detail, _ := json.Marshal(d)
	return vigie.Event{ID: id, Type: typ, Workspace: ws, Time: t0, Detail: detail}
}

// fakeClock is a clock tests move by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// outcome is one recorded attempt.
type outcome struct{ Rule, EventID, Outcome string }

// recorder is the targets of every fixture function: each records what it
// got and fails while it has failures left.
type recorder struct {
	mu    sync.Mutex
	got   map[string][]events.EventBridgeEvent // function → events
	fails map[string]int                       // function → failures left
	panic map[string]bool                      // function → panics
}

func newRecorder() *recorder {
	return &recorder{got: map[string][]events.EventBridgeEvent{}, fails: map[string]int{}, panic: map[string]bool{}}
}

var fixtureFns = []string{"AlertFunction", "ModerateFunction", "PublishFunction", "ReportFunction"}

func (r *recorder) targets() map[string]Target {
	m := map[string]Target{}
	for _, fn := range fixtureFns {
		m[fn] = func(_ context.Context, ev events.EventBridgeEvent) error {
			r.mu.Lock()
			defer r.mu.Unlock()
			if r.panic[fn] {
				panic("boom")
			}
			if r.fails[fn] > 0 {
				r.fails[fn]--
				return errors.New("target down")
			}
			r.got[fn] = append(r.got[fn], ev)
			return nil
		}
	}
	return m
}

// ids returns the ids of the events fn received, in order.
func (r *recorder) ids(fn string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, ev := range r.got[fn] {
		out = append(out, ev.ID)
	}
	return out
}

func openDB(t *testing.T, path string) *bbolt.DB {
	t.Helper()
	// NoSync: a reopened file still sees every commit (the page cache has
	// them); the tests need not wait for the disk.
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: 5 * time.Second, NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// harness is a bus on a bolt file in t.TempDir, whose attempts' outcomes
// arrive on outcomes.
type harness struct {
	bus      *Bus
	path     string
	outcomes chan outcome
}

// newBus opens path (a new file if empty) and makes a bus on it with the
// fixture's rules, targets and o; backoff is nil unless o sets it. The bus
// is closed at cleanup; it is not started.
func newBus(t *testing.T, path string, targets map[string]Target, o Options) *harness {
	t.Helper()
	if path == "" {
		path = filepath.Join(t.TempDir(), "vigie.db")
	}
	h := &harness{path: path, outcomes: make(chan outcome, 1000)}
	if o.Backoff == nil {
		o.Backoff = func(int) time.Duration { return 0 }
	}
	o.observe = func(d delivery, out string) { h.outcomes <- outcome{d.Rule, d.EventID, out} }
	b, err := New(openDB(t, path), fixtureRules(t), targets, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	h.bus = b
	return h
}

func (h *harness) start(t *testing.T) {
	t.Helper()
	if err := h.bus.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func (h *harness) publish(t *testing.T, evs ...vigie.Event) {
	t.Helper()
	if err := h.bus.Publish(context.Background(), evs...); err != nil {
		t.Fatal(err)
	}
}

// wait returns the next n outcomes. The deadline only guards against a
// hang; nothing is asserted about time.
func (h *harness) wait(t *testing.T, n int) []outcome {
	t.Helper()
	var out []outcome
	for len(out) < n {
		select {
		case o := <-h.outcomes:
			out = append(out, o)
		case <-time.After(30 * time.Second):
			t.Fatalf("only %d of %d attempts happened: %v", len(out), n, out)
		}
	}
	return out
}

func (h *harness) pending(t *testing.T) int {
	t.Helper()
	n, err := h.bus.Pending()
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func (h *harness) deadLetters(t *testing.T) []DeadLetter {
	t.Helper()
	dl, err := h.bus.DeadLetters(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return dl
}

func TestMatcher_Routes(t *testing.T) {
	m, err := NewMatcher(fixtureRules(t))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		ev   vigie.Event
		want []string
	}{
		{"negative mention", event("1", "mention.received", "globex", map[string]string{"sentiment": "negative"}), []string{"AlertFunction.Negative"}},
		{"positive mention", event("2", "mention.received", "globex", map[string]string{"sentiment": "positive"}), []string{}},
		{"anything of acme", event("3", "post.published", "acme", nil), []string{"AlertFunction.AcmeEverything"}},
		{"acme negative", event("4", "mention.received", "acme", map[string]string{"sentiment": "negative"}), []string{"AlertFunction.AcmeEverything", "AlertFunction.Negative"}},
		{"workspace is case-sensitive", event("5", "post.published", "ACME", nil), []string{}},
		{"toxic", event("6", "mention.received", "globex", map[string]string{"toxic": "true"}), []string{"ModerateFunction.Toxic"}},
		{"toxic false", event("7", "mention.received", "globex", map[string]string{"toxic": "false"}), []string{}},
		{"spam elsewhere", event("8", "mention.received", "globex", map[string]string{"spam": "true", "platform": "mastodon"}), []string{"ModerateFunction.Spam"}},
		{"spam on sandbox", event("9", "mention.received", "globex", map[string]string{"spam": "true", "platform": "sandbox"}), []string{}},
		{"spam and toxic", event("10", "mention.received", "globex", map[string]string{"spam": "true", "toxic": "true", "platform": "x"}), []string{"ModerateFunction.Spam", "ModerateFunction.Toxic"}},
		{"toxic of another type", event("11", "post.scheduled", "globex", map[string]string{"toxic": "true"}), []string{"PublishFunction.Scheduled"}},
		{"post scheduled", event("12", "post.scheduled", "globex", nil), []string{"PublishFunction.Scheduled"}},
		{"post published", event("13", "post.published", "globex", nil), []string{}},
		{"report requested", event("14", "report.requested", "globex", nil), []string{"ReportFunction.Requested"}},
		{"agency prefix", event("15", "mention.moderated", "agency-north", nil), []string{"ReportFunction.AgencyMentions"}},
		{"agency prefix, other type", event("16", "post.scheduled", "agency-north", nil), []string{"PublishFunction.Scheduled"}},
		{"nothing", event("17", "report.ready", "globex", nil), []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, err := Envelope(tt.ev, "000000000000", "local")
			if err != nil {
				t.Fatal(err)
			}
			got, err := m.Match(env)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("rules (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("report requested without workspace", func(t *testing.T) {
		env, _ := Envelope(vigie.Event{ID: "x", Type: "report.requested", Time: t0, Detail: json.RawMessage(`{}`)}, "1", "r")
		if got, _ := m.Match(env); len(got) != 0 {
			t.Errorf("matched %v; the rule asks for a workspace", got)
		}
	})
}

// Every rule pattern of the fixture and of the project's template loads;
// patterns outside what quamina 1.5.1 supports are refused, naming the rule.
func TestNewMatcher_TemplatesLoad(t *testing.T) {
	for _, path := range []string{fixturePath, "../../../template.yaml"} {
		t.Run(filepath.Base(path), func(t *testing.T) {
			if _, err := os.Stat(path); err != nil {
				t.Skipf("%v", err)
			}
			tmpl, err := samtemplate.Load(path)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := NewMatcher(tmpl.Rules()); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestNewMatcher_Refuses(t *testing.T) {
	tests := []struct{ name, pattern string }{
		{"numeric range", `{"detail":{"n":[{"numeric":[">",1]}]}}`},
		{"suffix", `{"detail":{"n":[{"suffix":"x"}]}}`},
		{"$or", `{"$or":[{"detail":{"a":["b"]}},{"detail":{"c":["d"]}}]}`},
		{"cidr", `{"detail":{"ip":[{"cidr":"10.0.0.0/24"}]}}`},
		{"value not in an array", `{"detail":{"a":"b"}}`},
		{"not JSON", `{"detail"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewMatcher([]samtemplate.Rule{{Name: "F.Bad", Function: "F", Pattern: json.RawMessage(tt.pattern)}})
			if err == nil || !strings.Contains(err.Error(), "rule F.Bad") {
				t.Errorf("NewMatcher = %v, want an error naming rule F.Bad", err)
			}
		})
	}
	t.Run("duplicate name", func(t *testing.T) {
		r := samtemplate.Rule{Name: "F.E", Function: "F", Pattern: json.RawMessage(`{"source":["vigie"]}`)}
		if _, err := NewMatcher([]samtemplate.Rule{r, r}); err == nil {
			t.Error("two rules with one name loaded")
		}
	})
}

func TestEnvelope(t *testing.T) {
	ev := vigie.Event{ID: "ev_1", Type: "mention.received", Time: time.Date(2026, 3, 1, 13, 4, 5, 999, time.FixedZone("CET", 3600)),
		Detail: json.RawMessage(`{ "workspace": "acme" }`)}
	got, err := Envelope(ev, "123456789012", "eu-west-3")
	if err != nil {
		t.Fatal(err)
	}
	want := `{"version":"0","id":"ev_1","detail-type":"mention.received","source":"vigie","account":"123456789012",` +
		`"time":"2026-03-01T12:04:05Z","region":"eu-west-3","resources":[],"detail":{"workspace":"acme"}}`
	if string(got) != want {
		t.Errorf("Envelope =\n%s\nwant\n%s", got, want)
	}
	for _, detail := range []string{``, `[]`, `"s"`, `{`} {
		if _, err := Envelope(vigie.Event{ID: "x", Type: "t", Detail: json.RawMessage(detail)}, "a", "r"); !vigie.IsKind(err, vigie.KindInvalid) {
			t.Errorf("Envelope(detail %q) = %v, want Invalid", detail, err)
		}
	}
}

// Deliveries reach each matching rule's function, once, as EventBridge
// would invoke it.
func TestBus_Delivers(t *testing.T) {
	rec := newRecorder()
	h := newBus(t, "", rec.targets(), Options{Account: "111122223333", Region: "eu-west-3"})
	h.start(t)
	ev := event("e1", "mention.received", "acme", map[string]string{"sentiment": "negative", "toxic": "true"})
	if got, _ := h.bus.Match(ev); !slices.Equal(got, []string{"AlertFunction.AcmeEverything", "AlertFunction.Negative", "ModerateFunction.Toxic"}) {
		t.Errorf("Match = %v", got)
	}
	h.publish(t, ev)
	h.wait(t, 3)
	if diff := cmp.Diff([]string{"e1", "e1"}, rec.ids("AlertFunction")); diff != "" {
		t.Errorf("AlertFunction got (-want +got):\n%s", diff)
	}
	rec.mu.Lock()
	got := rec.got["ModerateFunction"]
	rec.mu.Unlock()
	if len(got) != 1 {
		t.Fatalf("ModerateFunction got %d events, want 1", len(got))
	}
	want := events.EventBridgeEvent{Version: "0", ID: "e1", DetailType: "mention.received", Source: vigie.EventSource,
		AccountID: "111122223333", Time: t0, Region: "eu-west-3", Resources: []string{}, Detail: ev.Detail}
	if diff := cmp.Diff(want, got[0], asJSON); diff != "" {
		t.Errorf("event (-want +got):\n%s", diff)
	}
	if n := h.pending(t); n != 0 {
		t.Errorf("pending = %d after delivery", n)
	}
}

var asJSON = cmp.Transformer("json", func(raw json.RawMessage) any {
	var v any
	_ = json.Unmarshal(raw, &v)
	return v
})

func TestBus_Unmatched(t *testing.T) {
	called := map[string]Target{}
	for _, fn := range fixtureFns {
		called[fn] = func(context.Context, events.EventBridgeEvent) error {
			t.Errorf("%s invoked for an event no rule matches", fn)
			return nil
		}
	}
	h := newBus(t, "", called, Options{})
	h.start(t)
	h.publish(t, event("e1", "report.ready", "globex", nil))
	if n := h.pending(t); n != 0 {
		t.Errorf("pending = %d; an unmatched event is dropped", n)
	}
	if err := h.bus.Close(); err != nil {
		t.Fatal(err)
	}
}

// A failing target is retried on its own: the other rules' functions get
// the event once.
func TestBus_RetryThenDeliver(t *testing.T) {
	rec := newRecorder()
	rec.fails["AlertFunction"] = 2 // AlertFunction.Negative allows 2 retries
	h := newBus(t, "", rec.targets(), Options{})
	h.start(t)
	h.publish(t, event("e1", "mention.received", "globex", map[string]string{"sentiment": "negative", "toxic": "true"}))
	got := h.wait(t, 4)
	var alert []string
	for _, o := range got {
		if o.Rule == "AlertFunction.Negative" {
			alert = append(alert, o.Outcome)
		}
	}
	if diff := cmp.Diff([]string{"retry", "retry", "delivered"}, alert); diff != "" {
		t.Errorf("AlertFunction.Negative attempts (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"e1"}, rec.ids("AlertFunction")); diff != "" {
		t.Errorf("AlertFunction got (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"e1"}, rec.ids("ModerateFunction")); diff != "" {
		t.Errorf("ModerateFunction got (-want +got):\n%s", diff)
	}
	if dl := h.deadLetters(t); len(dl) != 0 {
		t.Errorf("dead letters = %+v", dl)
	}
}

func TestBus_ExhaustThenReplay(t *testing.T) {
	clock := &fakeClock{now: t0}
	rec := newRecorder()
	rec.fails["AlertFunction"] = 3 // one more than AlertFunction.Negative's 2 retries
	rec.fails["ReportFunction"] = 1
	h := newBus(t, "", rec.targets(), Options{Clock: clock})
	h.start(t)
	h.publish(t,
		event("e1", "mention.received", "globex", map[string]string{"sentiment": "negative"}),
		event("e2", "report.requested", "globex", nil), // ReportFunction.Requested: no retries
	)
	h.wait(t, 4)
	want := []DeadLetter{
		{Rule: "AlertFunction.Negative", Function: "AlertFunction", EventID: "e1", EventType: "mention.received",
			Accepted: t0, Attempts: 3, LastError: "target down", DeadAt: t0},
		{Rule: "ReportFunction.Requested", Function: "ReportFunction", EventID: "e2", EventType: "report.requested",
			Accepted: t0, Attempts: 1, LastError: "target down", DeadAt: t0},
	}
	dl := h.deadLetters(t)
	ignoreID := cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".ID" }, cmp.Ignore())
	if diff := cmp.Diff(want, dl, ignoreID); diff != "" {
		t.Fatalf("dead letters (-want +got):\n%s", diff)
	}
	if n := h.pending(t); n != 0 {
		t.Errorf("pending = %d with everything dead", n)
	}

	clock.Advance(time.Hour)
	if err := h.bus.Replay(context.Background(), dl[0].ID); err != nil {
		t.Fatal(err)
	}
	if got := h.wait(t, 1); got[0] != (outcome{"AlertFunction.Negative", "e1", "delivered"}) {
		t.Errorf("after replay: %+v", got)
	}
	if diff := cmp.Diff([]string{"e1"}, rec.ids("AlertFunction")); diff != "" {
		t.Errorf("AlertFunction got (-want +got):\n%s", diff)
	}
	if dl := h.deadLetters(t); len(dl) != 1 || dl[0].EventID != "e2" {
		t.Errorf("dead letters after replay = %+v, want e2's only", dl)
	}
	if err := h.bus.Replay(context.Background(), dl[0].ID); !vigie.IsKind(err, vigie.KindNotFound) {
		t.Errorf("Replay(replayed id) = %v, want NotFound", err)
	}
	if err := h.bus.Replay(context.Background(), "nope"); !vigie.IsKind(err, vigie.KindNotFound) {
		t.Errorf("Replay(unknown) = %v, want NotFound", err)
	}

	n, err := h.bus.ReplayAll(context.Background())
	if err != nil || n != 1 {
		t.Fatalf("ReplayAll = %d, %v; want 1", n, err)
	}
	h.wait(t, 1)
	if diff := cmp.Diff([]string{"e2"}, rec.ids("ReportFunction")); diff != "" {
		t.Errorf("ReportFunction got (-want +got):\n%s", diff)
	}
	if dl := h.deadLetters(t); len(dl) != 0 {
		t.Errorf("dead letters after ReplayAll = %+v", dl)
	}
}

// A delivery older than its rule's MaximumEventAgeInSeconds is not retried,
// whatever retries are left.
func TestBus_MaxEventAge(t *testing.T) {
	clock := &fakeClock{now: t0}
	rec := newRecorder()
	rec.fails["AlertFunction"] = 1
	h := newBus(t, "", rec.targets(), Options{Clock: clock})
	h.publish(t, event("e1", "mention.received", "globex", map[string]string{"sentiment": "negative"}))
	clock.Advance(time.Hour) // the rule's MaximumEventAgeInSeconds
	h.start(t)
	if got := h.wait(t, 1); got[0].Outcome != outcomeDead {
		t.Errorf("outcome = %+v, want dead", got)
	}
	if dl := h.deadLetters(t); len(dl) != 1 || dl[0].Attempts != 1 {
		t.Errorf("dead letters = %+v", dl)
	}
}

func TestBus_TargetPanics(t *testing.T) {
	rec := newRecorder()
	rec.panic["ReportFunction"] = true
	h := newBus(t, "", rec.targets(), Options{})
	h.start(t)
	h.publish(t, event("e1", "report.requested", "globex", nil))
	h.wait(t, 1)
	if dl := h.deadLetters(t); len(dl) != 1 || dl[0].LastError != "target panicked: boom" {
		t.Errorf("dead letters = %+v", dl)
	}
}

// An event accepted before a stop is delivered at the next start, once.
func TestBus_DurableAcrossRestart(t *testing.T) {
	rec := newRecorder()
	h := newBus(t, "", rec.targets(), Options{})
	// Accepted, never started: like a stop right after Publish.
	h.publish(t,
		event("e1", "mention.received", "acme", map[string]string{"sentiment": "negative"}),
		event("e2", "report.ready", "acme", nil))
	if n := h.pending(t); n != 3 { // e1 → Negative and AcmeEverything, e2 → AcmeEverything
		t.Fatalf("pending = %d, want 3", n)
	}
	if err := h.bus.Close(); err != nil {
		t.Fatal(err)
	}
	if err := h.bus.db.Close(); err != nil {
		t.Fatal(err)
	}

	h = newBus(t, h.path, rec.targets(), Options{})
	h.start(t)
	h.wait(t, 3)
	if err := h.bus.Close(); err != nil {
		t.Fatal(err)
	}
	got := rec.ids("AlertFunction")
	slices.Sort(got)
	if diff := cmp.Diff([]string{"e1", "e1", "e2"}, got); diff != "" {
		t.Errorf("delivered after restart (-want +got):\n%s", diff)
	}
	if n := h.pending(t); n != 0 {
		t.Errorf("pending after delivery = %d", n)
	}
}

// A retry waiting for its time when the process stops keeps its attempt
// count across the restart.
func TestBus_RetryStateAcrossRestart(t *testing.T) {
	rec := newRecorder()
	rec.fails["ReportFunction"] = 2
	h := newBus(t, "", rec.targets(), Options{Backoff: func(int) time.Duration { return time.Hour }})
	h.start(t)
	// ReportFunction.AgencyMentions: 185 retries within 24 h.
	h.publish(t, event("e1", "mention.received", "agency-north", nil))
	h.wait(t, 1)
	_ = h.bus.Close()
	_ = h.bus.db.Close()

	clock := &fakeClock{now: time.Now().Add(2 * time.Hour)} // the retry is due
	h = newBus(t, h.path, rec.targets(), Options{Clock: clock})
	h.start(t)
	got := h.wait(t, 2)
	if got[0].Outcome != outcomeRetry || got[1].Outcome != outcomeDelivered {
		t.Errorf("outcomes after restart = %+v, want retry then delivered", got)
	}
}

// A delivery cut short by Close stays queued, its attempt not counted, and
// is delivered at the next start.
func TestBus_CloseCutsDeliveryShort(t *testing.T) {
	started := make(chan struct{}, 1)
	blocking := map[string]Target{}
	for _, fn := range fixtureFns {
		blocking[fn] = func(ctx context.Context, _ events.EventBridgeEvent) error {
			started <- struct{}{}
			<-ctx.Done()
			return ctx.Err()
		}
	}
	h := newBus(t, "", blocking, Options{ShutdownGrace: 10 * time.Millisecond})
	h.start(t)
	h.publish(t, event("e1", "post.scheduled", "globex", nil))
	<-started
	if err := h.bus.Close(); err != nil {
		t.Fatal(err)
	}
	if got := h.wait(t, 1); got[0].Outcome != outcomeCut {
		t.Errorf("outcome = %+v, want cut", got)
	}
	_ = h.bus.db.Close()

	rec := newRecorder()
	h = newBus(t, h.path, rec.targets(), Options{})
	h.start(t)
	h.wait(t, 1)
	if diff := cmp.Diff([]string{"e1"}, rec.ids("PublishFunction")); diff != "" {
		t.Errorf("delivered after restart (-want +got):\n%s", diff)
	}
	if dl := h.deadLetters(t); len(dl) != 0 {
		t.Errorf("dead letters = %+v", dl)
	}
}

// Close waits for an attempt under way to finish and record its outcome.
func TestBus_CloseWaits(t *testing.T) {
	var h *harness
	var mu sync.Mutex
	delivered := false
	started := make(chan struct{}, 1)
	targets := map[string]Target{}
	for _, fn := range fixtureFns {
		targets[fn] = func(ctx context.Context, _ events.EventBridgeEvent) error {
			started <- struct{}{}
			// Finish only once Close has begun.
			for {
				h.bus.mu.Lock()
				closed := h.bus.closed
				h.bus.mu.Unlock()
				if closed {
					break
				}
				time.Sleep(time.Millisecond)
			}
			mu.Lock()
			delivered = true
			mu.Unlock()
			return ctx.Err()
		}
	}
	h = newBus(t, "", targets, Options{})
	h.start(t)
	h.publish(t, event("e1", "post.scheduled", "globex", nil))
	<-started
	if err := h.bus.Close(); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	ok := delivered
	mu.Unlock()
	if !ok {
		t.Error("Close returned before the attempt under way finished")
	}
	if n := h.pending(t); n != 0 {
		t.Errorf("pending = %d: Close did not wait for the outcome to be recorded", n)
	}
}

// Close gives up on a target that ignores its context, and says so.
func TestBus_CloseBounded(t *testing.T) {
	release := make(chan struct{})
	started := make(chan struct{}, 1)
	stuck := map[string]Target{}
	for _, fn := range fixtureFns {
		stuck[fn] = func(context.Context, events.EventBridgeEvent) error {
			started <- struct{}{}
			<-release
			return nil
		}
	}
	h := newBus(t, "", stuck, Options{ShutdownGrace: time.Millisecond})
	h.start(t)
	h.publish(t, event("e1", "post.scheduled", "globex", nil))
	<-started
	if err := h.bus.Close(); err == nil || !strings.Contains(err.Error(), "still running") {
		t.Errorf("Close = %v, want an error saying deliveries are still running", err)
	}
	close(release)
	h.wait(t, 1) // it records its outcome when it returns
}

func TestBus_StartErrors(t *testing.T) {
	h := newBus(t, "", newRecorder().targets(), Options{})
	h.start(t)
	if err := h.bus.Start(context.Background()); err == nil {
		t.Error("a second Start was accepted")
	}
	_ = h.bus.Close()
	if err := h.bus.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
	h2 := newBus(t, "", newRecorder().targets(), Options{})
	_ = h2.bus.Close()
	if err := h2.bus.Start(context.Background()); err == nil {
		t.Error("Start after Close was accepted")
	}
}

func TestBus_ConcurrentPublish(t *testing.T) {
	rec := newRecorder()
	h := newBus(t, "", rec.targets(), Options{MaxInFlight: 4})
	h.start(t)
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := h.bus.Publish(context.Background(), event(fmt.Sprint(i), "post.scheduled", "globex", nil)); err != nil {
				t.Error(err)
			}
			if _, err := h.bus.Match(event("m", "mention.received", "acme", nil)); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	h.wait(t, 50)
	_ = h.bus.Close()
	got := rec.ids("PublishFunction")
	slices.Sort(got)
	got = slices.Compact(got)
	if len(got) != 50 || len(rec.ids("PublishFunction")) != 50 {
		t.Errorf("delivered %d events (%d distinct), want 50 once each", len(rec.ids("PublishFunction")), len(got))
	}
}

func TestBus_PublishInvalid(t *testing.T) {
	good := event("good", "post.scheduled", "globex", nil)
	huge := event("huge", "post.scheduled", "globex", map[string]string{"text": strings.Repeat("x", MaxEntryBytes)})
	tests := []struct {
		name string
		bad  vigie.Event
		want string
	}{
		{"no type", vigie.Event{ID: "a", Detail: json.RawMessage(`{}`)}, "a (no type)"},
		{"detail not an object", vigie.Event{ID: "b", Type: "post.scheduled", Detail: json.RawMessage(`[1]`)}, "b (detail is not a JSON object)"},
		{"detail not JSON", vigie.Event{ID: "c", Type: "post.scheduled", Detail: json.RawMessage(`{"a":`)}, "c (detail is not a JSON object)"},
		{"too large", huge, "huge ("},
		{"no id", vigie.Event{Type: "post.scheduled"}, "#1 (detail"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newBus(t, "", newRecorder().targets(), Options{})
			err := h.bus.Publish(context.Background(), good, tt.bad)
			if !vigie.IsKind(err, vigie.KindInvalid) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Publish = %v, want Invalid naming %q", err, tt.want)
			}
			if n := h.pending(t); n != 0 {
				t.Errorf("pending = %d: a batch with a bad event accepts nothing", n)
			}
		})
	}
	t.Run("cancelled context", func(t *testing.T) {
		h := newBus(t, "", newRecorder().targets(), Options{})
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if err := h.bus.Publish(ctx, good); !errors.Is(err, context.Canceled) {
			t.Errorf("Publish = %v, want context.Canceled", err)
		}
	})
}

// An event without id or time gets them, as EventBridge gives them.
func TestBus_PublishDefaults(t *testing.T) {
	clock := &fakeClock{now: t0.Add(42 * time.Second)}
	rec := newRecorder()
	h := newBus(t, "", rec.targets(), Options{Clock: clock})
	h.start(t)
	h.publish(t, vigie.Event{Type: "post.scheduled", Detail: json.RawMessage(`{"workspace":"globex"}`)})
	h.wait(t, 1)
	rec.mu.Lock()
	got := rec.got["PublishFunction"][0]
	rec.mu.Unlock()
	if len(got.ID) != 36 || got.ID[14] != '4' {
		t.Errorf("id = %q, want a UUID v4", got.ID)
	}
	if !got.Time.Equal(clock.Now()) {
		t.Errorf("time = %v, want the clock's %v", got.Time, clock.Now())
	}
}

func TestNew_Errors(t *testing.T) {
	db := openDB(t, filepath.Join(t.TempDir(), "vigie.db"))
	some := map[string]Target{"AlertFunction": newRecorder().targets()["AlertFunction"]}
	if _, err := New(db, fixtureRules(t), some, Options{}); err == nil || !strings.Contains(err.Error(), "no target for function") {
		t.Errorf("New with missing targets = %v", err)
	}
	bad := []samtemplate.Rule{{Name: "F.Bad", Function: "F", Pattern: json.RawMessage(`{"a":[{"suffix":"x"}]}`)}}
	if _, err := New(db, bad, map[string]Target{"F": some["AlertFunction"]}, Options{}); err == nil {
		t.Error("New accepted a pattern quamina cannot load")
	}
}

func TestNew_BusName(t *testing.T) {
	tests := []struct {
		name, bus string
		want      []string
	}{
		{"every rule", "", []string{"PublishFunction.Scheduled"}},
		{"the fixture's bus", "Bus", []string{"PublishFunction.Scheduled"}},
		{"another bus", "Other", []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newBus(t, "", newRecorder().targets(), Options{BusName: tt.bus})
			got, err := h.bus.Match(event("e", "post.scheduled", "globex", nil))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("rules (-want +got):\n%s", diff)
			}
		})
	}
	// With only the other bus's rules, no target is needed.
	db := openDB(t, filepath.Join(t.TempDir(), "vigie.db"))
	if _, err := New(db, fixtureRules(t), nil, Options{BusName: "Other"}); err != nil {
		t.Errorf("New(BusName Other, no targets) = %v", err)
	}
}

// A delivery queued for a rule the template no longer has goes to the
// dead-letter list rather than nowhere.
func TestBus_RuleGoneAfterRestart(t *testing.T) {
	h := newBus(t, "", newRecorder().targets(), Options{})
	h.publish(t, event("e1", "post.scheduled", "globex", nil))
	_ = h.bus.Close()
	_ = h.bus.db.Close()

	var rules []samtemplate.Rule
	for _, r := range fixtureRules(t) {
		if r.Function != "PublishFunction" {
			rules = append(rules, r)
		}
	}
	db := openDB(t, h.path)
	outcomes := make(chan outcome, 10)
	b, err := New(db, rules, newRecorder().targets(), Options{observe: func(d delivery, o string) { outcomes <- outcome{d.Rule, d.EventID, o} }})
	if err != nil {
		t.Fatal(err)
	}
	_ = b.Start(context.Background())
	defer b.Close()
	if o := <-outcomes; o.Outcome != outcomeDead {
		t.Errorf("outcome = %+v, want dead", o)
	}
	dl, _ := b.DeadLetters(context.Background())
	if len(dl) != 1 || !strings.Contains(dl[0].LastError, "not routed") {
		t.Errorf("dead letters = %+v", dl)
	}
}

// Logs name the event, rule and attempt, never the detail.
func TestBus_LogsNoDetail(t *testing.T) {
	var buf syncBuffer
	rec := newRecorder()
	rec.fails["ReportFunction"] = 1
	h := newBus(t, "", rec.targets(), Options{Logger: slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	h.start(t)
	h.publish(t, event("e1", "report.requested", "globex", map[string]string{"text": "SECRET-DETAIL"}))
	h.wait(t, 1)
	_ = h.bus.Close()
	logs := buf.String()
	if strings.Contains(logs, "SECRET-DETAIL") {
		t.Errorf("logs carry the detail:\n%s", logs)
	}
	var rec0 map[string]any
	if err := json.Unmarshal([]byte(strings.SplitN(logs, "\n", 2)[0]), &rec0); err != nil {
		t.Fatalf("log %q: %v", logs, err)
	}
	for k, want := range map[string]any{"event_id": "e1", "event_type": "report.requested", "rule": "ReportFunction.Requested",
		"function": "ReportFunction", "attempt": 1.0, "error": "target down"} {
		if rec0[k] != want {
			t.Errorf("log %s = %v, want %v", k, rec0[k], want)
		}
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
