// Package storetest is the contract of vigie.Store: one suite that every
// store driver must pass, so that the embedded store used by `make run` and
// DynamoDB in the cloud behave the same. A driver's test is one call:
//
//	func TestStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T, clock vigie.Clock) vigie.Store { ... })
//	}
//
// newStore must return an empty store that tells time with clock and is
// closed when t ends. Subtests run in parallel, each with its own store.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"vigie/internal/vigie"
)

// NewStore returns a fresh, empty store using clock, cleaned up with t.
type NewStore func(t *testing.T, clock vigie.Clock) vigie.Store

// Run runs the whole contract against stores made by newStore.
func Run(t *testing.T, newStore func(t *testing.T, clock vigie.Clock) vigie.Store) {
	t.Helper()
	groups := []struct {
		name  string
		tests []subtest
	}{
		{"Workspace", workspaceTests},
		{"APIKey", apiKeyTests},
		{"Mention", mentionTests},
		{"List", listTests},
		{"Channel", channelTests},
		{"Watch", watchTests},
		{"Source", sourceTests},
		{"Isolation", isolationTests},
		{"Context", contextTests},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			for _, st := range g.tests {
				t.Run(st.name, func(t *testing.T) {
					t.Parallel()
					clock := newFakeClock(t0)
					s := newStore(t, vigie.ClockFunc(clock.Now))
					st.fn(t, &env{Store: s, clock: clock, ctx: t.Context()})
				})
			}
		})
	}
}

type subtest struct {
	name string
	fn   func(t *testing.T, e *env)
}

// env is what each subtest gets: a fresh store and the clock it reads.
type env struct {
	vigie.Store
	clock *fakeClock
	ctx   context.Context
}

// t0 is "now" when each subtest starts.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// fakeClock is a clock that tests move by hand. Stores may read it from
// several goroutines at once.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock(now time.Time) *fakeClock { return &fakeClock{now: now} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Set(now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = now
}

// wantKind fails t unless err carries kind.
func wantKind(t *testing.T, err error, kind string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want kind %q", kind)
	}
	if got := vigie.ErrorKind(err); got != kind {
		t.Fatalf("got error %v of kind %q, want kind %q", err, got, kind)
	}
}

func (e *env) mustCreateWorkspace(t *testing.T, id string) *vigie.Workspace {
	t.Helper()
	w := &vigie.Workspace{ID: id, Name: "Workspace " + id, CreatedAt: t0}
	if err := e.CreateWorkspace(e.ctx, w); err != nil {
		t.Fatalf("CreateWorkspace(%q): %v", id, err)
	}
	return w
}

func (e *env) mustCreateMentions(t *testing.T, ws string, ms ...*vigie.Mention) []bool {
	t.Helper()
	created, err := e.CreateMentions(e.ctx, ws, ms)
	if err != nil {
		t.Fatalf("CreateMentions(%q, %d mentions): %v", ws, len(ms), err)
	}
	if len(created) != len(ms) {
		t.Fatalf("CreateMentions returned %d flags for %d mentions", len(created), len(ms))
	}
	return created
}

func (e *env) mustGetMention(t *testing.T, ws, id string) *vigie.Mention {
	t.Helper()
	m, err := e.GetMention(e.ctx, ws, id)
	if err != nil {
		t.Fatalf("GetMention(%q, %q): %v", ws, id, err)
	}
	return m
}

// newMention returns a mention of workspace ws with every field set.
func newMention(ws, id string, createdAt time.Time) *vigie.Mention {
	followers, verified := int64(1200), true
	return &vigie.Mention{
		ID:         id,
		Workspace:  ws,
		Platform:   "generic",
		Channel:    "ch_1",
		Kind:       vigie.KindReply,
		ExternalID: "ext-" + id,
		ParentID:   "ext-parent",
		ThreadID:   "ext-root",
		Watches:    []string{"wa_b", "wa_a"}, // kept in order
		Author:     vigie.Author{ID: "u1", Handle: "@ada", Name: "Ada", Followers: &followers, Verified: &verified},
		Text:       "Texte de " + id + " : très bien 👍 日本",
		URL:        "https://example.test/" + id,
		CreatedAt:  createdAt,
		ReceivedAt: createdAt.Add(time.Second),
		Metrics:    map[string]int64{"likes": 3, "shares": 1},
		Analysis: &vigie.Analysis{Lang: "fr", LangConfidence: 0.97, Sentiment: "positive", SentimentScore: 0.8,
			Toxicity: 0.02, SpamScore: 0.01, Spam: false, Toxic: false},
	}
}

// walk lists every page of q and returns the ids in order. It checks that
// every page but the last is full and that only the last has no Next.
func (e *env) walk(t *testing.T, ws string, q vigie.MentionQuery) []string {
	t.Helper()
	limit := q.Limit
	if limit == 0 {
		limit = vigie.DefaultPageSize
	}
	ids := []string{}
	for page := 1; ; page++ {
		if page > 1000 {
			t.Fatalf("walk: more than 1000 pages, the cursor does not advance")
		}
		p, err := e.ListMentions(e.ctx, ws, q)
		if err != nil {
			t.Fatalf("ListMentions(%q, %+v) page %d: %v", ws, q, page, err)
		}
		for _, m := range p.Mentions {
			if m.Workspace != ws {
				t.Fatalf("ListMentions(%q) returned mention %q of workspace %q", ws, m.ID, m.Workspace)
			}
			ids = append(ids, m.ID)
		}
		if p.Next == "" {
			return ids
		}
		if len(p.Mentions) != limit {
			t.Fatalf("page %d has %d mentions and a Next cursor, want a full page of %d", page, len(p.Mentions), limit)
		}
		q.Cursor = p.Next
	}
}

// errorsIsCanceled reports whether err says the context was canceled.
func errorsIsCanceled(err error) bool { return errors.Is(err, context.Canceled) }

func ids(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s%03d", prefix, i)
	}
	return out
}
