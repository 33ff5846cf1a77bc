package watch

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"vigie/internal/ingest"
	"vigie/internal/platform"
	"vigie/internal/secrets"
	"vigie/internal/store/boltstore"
	"vigie/internal/vigie"
)

var t0 = time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)

type recordBus struct {
	mu     sync.Mutex
	events []vigie.Event
	fail   bool
}

func (b *recordBus) Publish(_ context.Context, evs ...vigie.Event) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.fail {
		return &vigie.Error{Kind: vigie.KindUnavailable, Message: "bus down"}
	}
	b.events = append(b.events, evs...)
	return nil
}

func (b *recordBus) count() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.events)
}

type env struct {
	svc     *Service
	store   *boltstore.Store
	bus     *recordBus
	secrets secrets.File
	now     time.Time
}

func setup(t *testing.T) *env {
	t.Helper()
	dir := t.TempDir()
	e := &env{bus: &recordBus{}, secrets: secrets.File{Path: filepath.Join(dir, "secrets.json")}, now: t0}
	clock := vigie.ClockFunc(func() time.Time { return e.now })
	st, err := boltstore.Open(filepath.Join(dir, "vigie.db"), boltstore.Options{Clock: clock, CursorKey: []byte("k")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e.store = st
	for _, id := range []string{"acme", "globex"} {
		if err := st.CreateWorkspace(context.Background(), &vigie.Workspace{ID: id, Name: id, CreatedAt: t0, SecretGeneration: 1}); err != nil {
			t.Fatal(err)
		}
	}
	e.svc = New(Deps{Store: st, Secrets: e.secrets, Clock: clock,
		Pipeline: &ingest.Pipeline{Store: st, Bus: e.bus, Clock: clock}})
	return e
}

func post(id, text string) platform.Change {
	return platform.Change{Op: platform.OpNew, Mention: &vigie.Mention{Platform: platform.Mastodon, Kind: vigie.KindPost, ExternalID: id, Text: text, CreatedAt: t0}}
}

// TestPollOne_State: the cursor moves only with what was ingested; a rate
// limit waits for the reset; refused credentials wait an hour; other
// failures back off, doubling; a backlog is polled again at the next run.
func TestPollOne_State(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	var calls []string
	var next func(cursor string) (platform.PollResult, error)
	tg := &target{ws: "acme", id: "src:1", every: 5 * time.Minute, poll: func(_ context.Context, cursor string, _ platform.Limits) (platform.PollResult, error) {
		calls = append(calls, cursor)
		return next(cursor)
	}}
	state := func() *vigie.Source {
		t.Helper()
		s, err := e.store.GetSource(ctx, "acme", "src:1")
		if err != nil {
			t.Fatal(err)
		}
		tg.state = s
		return s
	}

	next = func(string) (platform.PollResult, error) {
		return platform.PollResult{Changes: []platform.Change{post("1", "a"), post("2", "b")}, Cursor: "c2", Requests: 1}, nil
	}
	if o := e.svc.pollOne(ctx, tg); o.err != nil || o.created != 2 {
		t.Fatalf("first poll = %+v", o)
	}
	s := state()
	if s.Cursor != "c2" || !s.NextPollAt.Equal(t0.Add(5*time.Minute)) || s.LastCreated != 2 || s.Failures != 0 {
		t.Errorf("after success: %+v", s)
	}

	// The bus fails: nothing stored, the cursor stays, so the next poll
	// reads the same items again.
	e.bus.fail = true
	next = func(string) (platform.PollResult, error) {
		return platform.PollResult{Changes: []platform.Change{post("3", "c")}, Cursor: "c3"}, nil
	}
	if o := e.svc.pollOne(ctx, tg); o.err == nil {
		t.Fatal("a failed ingestion was taken for a success")
	}
	if s := state(); s.Cursor != "c2" || s.Failures != 1 || s.LastError == "" || !s.NextPollAt.Equal(t0.Add(5*time.Minute)) {
		t.Errorf("after a failed ingestion: %+v", s)
	}
	e.bus.fail = false
	if o := e.svc.pollOne(ctx, tg); o.err != nil || o.created != 1 || calls[len(calls)-1] != "c2" {
		t.Errorf("retry = %+v, cursor given %q", o, calls[len(calls)-1])
	}
	state()

	// Failures back off, doubling.
	next = func(string) (platform.PollResult, error) {
		return platform.PollResult{}, &platform.APIError{Platform: "mastodon", Status: 503, Retryable: true}
	}
	for i, want := range []time.Duration{5 * time.Minute, 10 * time.Minute, 20 * time.Minute} {
		e.svc.pollOne(ctx, tg)
		if s := state(); s.Failures != i+1 || !s.NextPollAt.Equal(t0.Add(want)) || s.Cursor != "c3" {
			t.Errorf("failure %d: %+v, want next in %s", i+1, s, want)
		}
	}

	reset := t0.Add(37 * time.Minute)
	next = func(string) (platform.PollResult, error) {
		return platform.PollResult{}, &platform.RateLimitError{Platform: "mastodon", Reset: reset}
	}
	if o := e.svc.pollOne(ctx, tg); !o.rateLimited {
		t.Error("rate limit not reported")
	}
	if s := state(); !s.NextPollAt.Equal(reset) {
		t.Errorf("rate limited: next %s, want %s", s.NextPollAt, reset)
	}

	next = func(string) (platform.PollResult, error) {
		return platform.PollResult{}, &platform.APIError{Platform: "mastodon", Status: 401, Auth: true, Message: "The access token is invalid"}
	}
	e.svc.pollOne(ctx, tg)
	if s := state(); !s.NextPollAt.Equal(t0.Add(AuthRetry)) || s.LastError == "" {
		t.Errorf("auth failure: %+v", s)
	}

	next = func(string) (platform.PollResult, error) {
		return platform.PollResult{Changes: []platform.Change{post("4", "d")}, Cursor: "c4", More: true}, nil
	}
	e.svc.pollOne(ctx, tg)
	if s := state(); !s.NextPollAt.Equal(t0) || s.Failures != 0 || s.LastError != "" || s.Cursor != "c4" {
		t.Errorf("backlog: %+v, want due at once and healthy", s)
	}
}

// TestMatching: a watch's source keeps only what its query matches.
func TestMatching(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	w := &vigie.Watch{Workspace: "acme", ID: "wa_1", Name: "Lumen", Kind: "brand", Query: `lumen -job`, Status: vigie.StatusActive, CreatedAt: t0}
	if err := e.store.CreateWatch(ctx, w); err != nil {
		t.Fatal(err)
	}
	tg := &target{ws: "acme", id: "wa_1:tag", every: 5 * time.Minute, watch: w,
		poll: func(context.Context, string, platform.Limits) (platform.PollResult, error) {
			return platform.PollResult{Changes: []platform.Change{post("1", "Lumen !"), post("2", "Lumen job"), post("3", "autre"), {Op: platform.OpNew}}}, nil
		}}
	e.svc.pollOne(ctx, tg)
	page, err := e.store.ListMentions(ctx, "acme", vigie.MentionQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if got := page.Mentions; len(got) != 1 || got[0].ExternalID != "1" {
		t.Errorf("matching = %+v", got)
	}
}

func TestBackoff(t *testing.T) {
	for failures, want := range map[int]time.Duration{1: 5 * time.Minute, 2: 10 * time.Minute, 4: 40 * time.Minute, 20: MaxBackoff} {
		if got := backoff(5*time.Minute, failures); got != want {
			t.Errorf("backoff(5m, %d) = %s, want %s", failures, got, want)
		}
	}
}
