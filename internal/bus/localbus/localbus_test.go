package localbus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"
	"go.etcd.io/bbolt"

	"vigie/internal/samtemplate"
	"vigie/internal/vigie"
)

func fixtureRules(t *testing.T) []samtemplate.Rule {
	t.Helper()
	tmpl, err := samtemplate.Load("../../samtemplate/testdata/fixture.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return tmpl.Rules()
}

func event(id, typ, ws string, extra map[string]string) vigie.Event {
	d := map[string]string{"workspace": ws}
	for k, v := range extra {
		d[k] = v
	}
	detail, _ := json.Marshal(d)
	return vigie.Event{ID: id, Type: typ, Workspace: ws, Time: time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC), Detail: detail}
}

// recorder is a set of targets that record what they got and can fail.
type recorder struct {
	mu    sync.Mutex
	got   map[string][]string // function → event ids
	fails map[string]int      // function → failures left
	done  chan struct{}
}

func newRecorder() *recorder {
	return &recorder{got: map[string][]string{}, fails: map[string]int{}, done: make(chan struct{}, 100)}
}

func (r *recorder) targets(fns ...string) map[string]Target {
	m := map[string]Target{}
	for _, fn := range fns {
		m[fn] = func(_ context.Context, ev events.EventBridgeEvent) error {
			r.mu.Lock()
			defer r.mu.Unlock()
			defer func() { r.done <- struct{}{} }()
			if r.fails[fn] != 0 {
				r.fails[fn]--
				return errors.New("target down")
			}
			if ev.Source != vigie.EventSource || ev.DetailType == "" {
				return fmt.Errorf("bad envelope %+v", ev)
			}
			r.got[fn] = append(r.got[fn], ev.ID)
			return nil
		}
	}
	return m
}

var allFns = []string{"AlertFunction", "ModerateFunction", "PublishFunction", "ReportFunction"}

func openDB(t *testing.T, path string) *bbolt.DB {
	t.Helper()
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return db
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
		{"acme positive", event("2", "mention.received", "acme", map[string]string{"sentiment": "positive"}), []string{"AlertFunction.AcmeEverything"}},
		{"spam on sandbox", event("3", "mention.received", "globex", map[string]string{"spam": "true", "platform": "sandbox"}), []string{}},
		{"spam and toxic", event("4", "mention.received", "globex", map[string]string{"spam": "true", "toxic": "true", "platform": "x"}), []string{"ModerateFunction.Spam", "ModerateFunction.Toxic"}},
		{"post prefix", event("5", "post.scheduled", "globex", nil), []string{"PublishFunction.Scheduled"}},
		{"nothing", event("6", "report.ready", "globex", nil), []string{}},
	}
	for _, tt := range tests {
		env, err := Envelope(tt.ev, "000000000000", "local")
		if err != nil {
			t.Fatal(err)
		}
		got, err := m.Match(env)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
	}
}

func TestEveryTemplateRuleLoads(t *testing.T) {
	for _, path := range []string{"../../samtemplate/testdata/fixture.yaml", "../../../template.yaml"} {
		tmpl, err := samtemplate.Load(path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := NewMatcher(tmpl.Rules()); err != nil {
			t.Errorf("%s: %v", path, err)
		}
	}
	bad := []samtemplate.Rule{{Name: "F.Bad", Function: "F", Pattern: json.RawMessage(`{"detail":{"n":[{"numeric":[">",1]}]}}`)}}
	if _, err := NewMatcher(bad); err == nil {
		t.Error("a numeric-range pattern loaded; quamina 1.5.1 should refuse it")
	}
}

func waitFor(t *testing.T, r *recorder, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		select {
		case <-r.done:
		case <-time.After(10 * time.Second):
			t.Fatalf("only %d of %d deliveries happened", i, n)
		}
	}
}

func TestBus_RetryThenDeliver(t *testing.T) {
	db := openDB(t, filepath.Join(t.TempDir(), "bus.db"))
	defer db.Close()
	r := newRecorder()
	r.fails["AlertFunction"] = 2 // the rule allows 2 retries
	b, err := New(db, fixtureRules(t), r.targets(allFns...), Options{Backoff: func(int) time.Duration { return 0 }})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := b.Publish(context.Background(), event("e1", "mention.received", "globex", map[string]string{"sentiment": "negative"})); err != nil {
		t.Fatal(err)
	}
	waitFor(t, r, 3)
	r.mu.Lock()
	got := r.got["AlertFunction"]
	r.mu.Unlock()
	if diff := cmp.Diff([]string{"e1"}, got); diff != "" {
		t.Errorf("delivered (-want +got):\n%s", diff)
	}
	if dl, _ := b.DeadLetters(context.Background()); len(dl) != 0 {
		t.Errorf("dead letters = %+v", dl)
	}
}

func TestBus_ExhaustThenReplay(t *testing.T) {
	db := openDB(t, filepath.Join(t.TempDir(), "bus.db"))
	defer db.Close()
	r := newRecorder()
	r.fails["AlertFunction"] = 3 // one more than the rule's 2 retries
	b, err := New(db, fixtureRules(t), r.targets(allFns...), Options{Backoff: func(int) time.Duration { return 0 }})
	if err != nil {
		t.Fatal(err)
	}
	_ = b.Start(context.Background())
	defer b.Close()
	_ = b.Publish(context.Background(), event("e1", "mention.received", "globex", map[string]string{"sentiment": "negative"}))
	waitFor(t, r, 3)
	var dl []DeadLetter
	for range 100 {
		if dl, _ = b.DeadLetters(context.Background()); len(dl) == 1 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if len(dl) != 1 || dl[0].Rule != "AlertFunction.Negative" || dl[0].Attempts != 3 || dl[0].LastError != "target down" {
		t.Fatalf("dead letters = %+v", dl)
	}
	if err := b.Replay(context.Background(), dl[0].ID); err != nil {
		t.Fatal(err)
	}
	waitFor(t, r, 1)
	r.mu.Lock()
	got := r.got["AlertFunction"]
	r.mu.Unlock()
	if diff := cmp.Diff([]string{"e1"}, got); diff != "" {
		t.Errorf("after replay (-want +got):\n%s", diff)
	}
	if err := b.Replay(context.Background(), "nope"); !vigie.IsKind(err, vigie.KindNotFound) {
		t.Errorf("Replay(unknown) = %v, want not found", err)
	}
}

// An event accepted before a stop is delivered at the next start, once.
func TestBus_DurableAcrossRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bus.db")
	db := openDB(t, path)
	r := newRecorder()
	b, err := New(db, fixtureRules(t), r.targets(allFns...), Options{})
	if err != nil {
		t.Fatal(err)
	}
	// Accepted, never started: like a stop right after Publish.
	if err := b.Publish(context.Background(),
		event("e1", "mention.received", "acme", map[string]string{"sentiment": "negative"}),
		event("e2", "report.ready", "acme", nil)); err != nil {
		t.Fatal(err)
	}
	if n, _ := b.Pending(); n != 3 { // e1 → two rules, e2 → AcmeEverything
		t.Fatalf("pending = %d, want 3", n)
	}
	_ = b.Close()
	_ = db.Close()

	db = openDB(t, path)
	defer db.Close()
	b, err = New(db, fixtureRules(t), r.targets(allFns...), Options{})
	if err != nil {
		t.Fatal(err)
	}
	_ = b.Start(context.Background())
	waitFor(t, r, 3)
	_ = b.Close()
	got := r.got["AlertFunction"]
	sort.Strings(got)
	if diff := cmp.Diff([]string{"e1", "e1", "e2"}, got); diff != "" {
		t.Errorf("delivered after restart (-want +got):\n%s", diff)
	}
	if n, _ := b.Pending(); n != 0 {
		t.Errorf("pending after delivery = %d", n)
	}
}

func TestBus_ConcurrentPublish(t *testing.T) {
	db := openDB(t, filepath.Join(t.TempDir(), "bus.db"))
	defer db.Close()
	r := newRecorder()
	r.done = make(chan struct{}, 1000)
	b, _ := New(db, fixtureRules(t), r.targets(allFns...), Options{})
	_ = b.Start(context.Background())
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := b.Publish(context.Background(), event(fmt.Sprint(i), "post.scheduled", "globex", nil)); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	waitFor(t, r, 50)
	_ = b.Close()
	if n := len(r.got["PublishFunction"]); n != 50 {
		t.Errorf("delivered %d, want 50", n)
	}
}

func TestNew_MissingTarget(t *testing.T) {
	db := openDB(t, filepath.Join(t.TempDir(), "bus.db"))
	defer db.Close()
	if _, err := New(db, fixtureRules(t), newRecorder().targets("AlertFunction"), Options{}); err == nil {
		t.Error("New accepted rules whose functions have no target")
	}
}

// A delivery cut short by Close stays queued, its attempt not counted, and
// is delivered at the next start.
func TestBus_CloseCutsDeliveryShort(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bus.db")
	db := openDB(t, path)
	started := make(chan struct{}, 1)
	blocking := map[string]Target{}
	for _, fn := range allFns {
		blocking[fn] = func(ctx context.Context, _ events.EventBridgeEvent) error {
			started <- struct{}{}
			<-ctx.Done()
			return ctx.Err()
		}
	}
	b, _ := New(db, fixtureRules(t), blocking, Options{ShutdownGrace: 50 * time.Millisecond})
	_ = b.Start(context.Background())
	_ = b.Publish(context.Background(), event("e1", "post.scheduled", "globex", nil))
	<-started
	_ = b.Close()
	_ = db.Close()

	db = openDB(t, path)
	defer db.Close()
	r := newRecorder()
	b, _ = New(db, fixtureRules(t), r.targets(allFns...), Options{})
	_ = b.Start(context.Background())
	waitFor(t, r, 1)
	_ = b.Close()
	if diff := cmp.Diff([]string{"e1"}, r.got["PublishFunction"]); diff != "" {
		t.Errorf("delivered after restart (-want +got):\n%s", diff)
	}
	if dl, _ := b.DeadLetters(context.Background()); len(dl) != 0 {
		t.Errorf("dead letters = %+v", dl)
	}
}
