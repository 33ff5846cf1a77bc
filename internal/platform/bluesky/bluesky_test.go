package bluesky_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"vigie/internal/platform"
	"vigie/internal/platform/bluesky"
	"vigie/internal/platform/bluesky/blueskyfake"
	"vigie/internal/vigie"
)

var t0 = time.Date(2025, 5, 1, 20, 0, 0, 0, time.UTC)

var bob = blueskyfake.Author{DID: "did:plc:bob2gq7dqeb3oq5jrsmnxkfh", Handle: "bob.bsky.social", DisplayName: "Bob"}

const (
	nsidLogin   = "com.atproto.server.createSession"
	nsidRefresh = "com.atproto.server.refreshSession"
	nsidNotifs  = "app.bsky.notification.listNotifications"
	nsidSearch  = "app.bsky.feed.searchPosts"
)

// setup returns a fake and a client signed in to it, both on t0.
func setup(t *testing.T) (*blueskyfake.Server, *bluesky.Client) {
	t.Helper()
	fake := blueskyfake.New(t)
	fake.SetClock(func() time.Time { return t0 })
	return fake, client(fake, blueskyfake.Password)
}

func client(fake *blueskyfake.Server, password string) *bluesky.Client {
	return &bluesky.Client{BaseURL: fake.URL(), Identifier: blueskyfake.Identifier, Password: password, HTTP: http.DefaultClient, Now: func() time.Time { return t0 }}
}

// source is one of the client's two polls, with a way to seed its items.
type source struct {
	name string
	// seed adds n items named p0000… at the times at(i) and returns
	// their URIs.
	seed func(fake *blueskyfake.Server, p string, n int, at func(i int) time.Time) []string
	poll func(ctx context.Context, c *bluesky.Client, cursor string, l platform.Limits) (platform.PollResult, error)
}

var sources = []source{
	{
		name: "notifications",
		seed: func(fake *blueskyfake.Server, p string, n int, at func(int) time.Time) []string {
			var uris []string
			for i := range n {
				uri := blueskyfake.PostURI(bob.DID, fmt.Sprintf("%s%04d", p, i))
				fake.AddNotifications(blueskyfake.Notification{URI: uri, Author: bob, Reason: "mention", Text: "hey @acme.bsky.social " + uri,
					CreatedAt: at(i).Add(-time.Second), IndexedAt: at(i)})
				uris = append(uris, uri)
			}
			return uris
		},
		poll: func(ctx context.Context, c *bluesky.Client, cursor string, l platform.Limits) (platform.PollResult, error) {
			return c.Notifications(ctx, cursor, l)
		},
	},
	{
		name: "search",
		seed: func(fake *blueskyfake.Server, p string, n int, at func(int) time.Time) []string {
			var uris []string
			for i := range n {
				uri := blueskyfake.PostURI(bob.DID, fmt.Sprintf("%s%04d", p, i))
				fake.AddPosts(blueskyfake.Post{URI: uri, Author: bob, Text: "I love Acme " + uri, CreatedAt: at(i), IndexedAt: at(i).Add(700 * time.Millisecond)})
				uris = append(uris, uri)
			}
			return uris
		},
		poll: func(ctx context.Context, c *bluesky.Client, cursor string, l platform.Limits) (platform.PollResult, error) {
			return c.SearchPosts(ctx, "acme", cursor, l)
		},
	},
}

// every returns item times one a second from start.
func every(start time.Time) func(int) time.Time {
	return func(i int) time.Time { return start.Add(time.Duration(i) * time.Second) }
}

func mustPoll(t *testing.T, src source, c *bluesky.Client, cursor string, l platform.Limits) platform.PollResult {
	t.Helper()
	res, err := src.poll(context.Background(), c, cursor, l)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// ids returns the changes' external ids.
func ids(cs []platform.Change) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Mention.ExternalID)
	}
	return out
}

func reversed(s []string) []string {
	s = slices.Clone(s)
	slices.Reverse(s)
	return s
}

func TestPoll_FirstPollReadsOnePage(t *testing.T) {
	for _, src := range sources {
		t.Run(src.name, func(t *testing.T) {
			fake, c := setup(t)
			uris := src.seed(fake, "old", 150, every(t0.Add(-time.Hour)))
			res := mustPoll(t, src, c, "", platform.Limits{})
			if diff := cmp.Diff(reversed(uris[50:]), ids(res.Changes)); diff != "" {
				t.Errorf("first poll (-want +got):\n%s", diff)
			}
			if res.More || res.Requests != 2 {
				t.Errorf("More %v, %d requests; want false, 2 (login and one page)", res.More, res.Requests)
			}
			res = mustPoll(t, src, c, res.Cursor, platform.Limits{})
			if len(res.Changes) != 0 || res.More || res.Requests != 1 {
				t.Errorf("second poll: %v, More %v, %d requests; want nothing in one request", ids(res.Changes), res.More, res.Requests)
			}
		})
	}
}

func TestPoll_EmptyFirstPoll(t *testing.T) {
	for _, src := range sources {
		t.Run(src.name, func(t *testing.T) {
			fake, c := setup(t)
			res := mustPoll(t, src, c, "", platform.Limits{})
			if len(res.Changes) != 0 || res.Cursor == "" {
				t.Fatalf("first poll: %v, cursor %q", ids(res.Changes), res.Cursor)
			}
			// More than a page arrives: all of it is new.
			uris := src.seed(fake, "new", 12, every(t0.Add(time.Second)))
			res = mustPoll(t, src, c, res.Cursor, platform.Limits{PageSize: 5})
			if diff := cmp.Diff(reversed(uris), ids(res.Changes)); diff != "" {
				t.Errorf("second poll (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPoll_BacklogAcrossPolls(t *testing.T) {
	for _, src := range sources {
		for _, l := range []platform.Limits{{MaxPages: 1, PageSize: 7}, {MaxPages: 3, PageSize: 4}} {
			t.Run(fmt.Sprintf("%s %d×%d", src.name, l.MaxPages, l.PageSize), func(t *testing.T) {
				fake, c := setup(t)
				start := t0.Add(-time.Hour)
				src.seed(fake, "old", 5, every(start))
				cursor := mustPoll(t, src, c, "", l).Cursor

				// A backlog of 40 items, three sharing the instant of the
				// newest old one, and more arriving while the sweep runs.
				want := map[string]bool{}
				for _, u := range src.seed(fake, "new", 40, func(i int) time.Time { return start.Add(time.Duration(max(i+2, 4)) * time.Second) }) {
					want[u] = true
				}
				seen := map[string]int{}
				more, done := false, false
				for i := 0; ; i++ {
					if i == 40 {
						t.Fatal("no end after 40 polls")
					}
					if i == 2 {
						for _, u := range src.seed(fake, "late", 6, every(start.Add(50*time.Second))) {
							want[u] = true
						}
					}
					res := mustPoll(t, src, c, cursor, l)
					for _, id := range ids(res.Changes) {
						seen[id]++
					}
					if n := len(res.Changes); n > l.MaxPages*l.PageSize {
						t.Errorf("poll %d returned %d changes, over its bound", i, n)
					}
					more = more || res.More
					cursor = res.Cursor
					// Items that arrive during a sweep come with the next
					// one: two finished sweeps after the last arrival read
					// everything.
					if i > 2 && !res.More && done {
						break
					}
					done = i > 2 && !res.More
				}
				if !more {
					t.Error("More was never set")
				}
				if res := mustPoll(t, src, c, cursor, l); len(res.Changes) != 0 || res.More {
					t.Errorf("after the end: %v, More %v", ids(res.Changes), res.More)
				}
				for id, n := range seen {
					if n != 1 {
						t.Errorf("%s returned %d times", id, n)
					}
					if !want[id] {
						t.Errorf("%s returned, not new", id)
					}
				}
				for id := range want {
					if seen[id] == 0 {
						t.Errorf("%s skipped", id)
					}
				}
			})
		}
	}
}

func TestPoll_LateItemWithinOverlap(t *testing.T) {
	for _, src := range sources {
		t.Run(src.name, func(t *testing.T) {
			fake, c := setup(t)
			src.seed(fake, "a", 3, every(t0.Add(-time.Hour)))
			cursor := mustPoll(t, src, c, "", platform.Limits{}).Cursor
			b := src.seed(fake, "b", 3, every(t0.Add(-time.Minute)))
			res := mustPoll(t, src, c, cursor, platform.Limits{})
			if diff := cmp.Diff(reversed(b), ids(res.Changes)); diff != "" {
				t.Errorf("changes (-want +got):\n%s", diff)
			}
			// Sorted 20 s below the newest item returned, but listed only
			// now (search indexing lag).
			late := src.seed(fake, "late", 1, every(t0.Add(-time.Minute-18*time.Second)))
			res = mustPoll(t, src, c, res.Cursor, platform.Limits{})
			if diff := cmp.Diff(late, ids(res.Changes)); diff != "" {
				t.Errorf("changes (-want +got):\n%s", diff)
			}
			if res = mustPoll(t, src, c, res.Cursor, platform.Limits{}); len(res.Changes) != 0 {
				t.Errorf("again: %v", ids(res.Changes))
			}
		})
	}
}

func TestPoll_ResumeCursorRefused(t *testing.T) {
	for _, src := range sources {
		t.Run(src.name, func(t *testing.T) {
			fake, c := setup(t)
			src.seed(fake, "old", 2, every(t0.Add(-time.Hour)))
			l := platform.Limits{MaxPages: 1, PageSize: 5}
			cursor := mustPoll(t, src, c, "", l).Cursor
			src.seed(fake, "new", 12, every(t0.Add(-time.Minute)))
			res := mustPoll(t, src, c, cursor, l)
			if !res.More || len(res.Changes) != 5 {
				t.Fatalf("More %v, %d changes", res.More, len(res.Changes))
			}
			got := ids(res.Changes)
			fake.Fail(http.StatusBadRequest, "InvalidRequest", "disallowed size/offset parameters")
			for i := 0; res.More; i++ {
				if i == 10 {
					t.Fatal("no end after 10 polls")
				}
				res = mustPoll(t, src, c, res.Cursor, platform.Limits{MaxPages: 3, PageSize: 5})
				got = append(got, ids(res.Changes)...)
			}
			seen := map[string]bool{}
			for _, id := range got {
				if seen[id] {
					t.Errorf("%s twice", id)
				}
				seen[id] = true
			}
			if len(seen) != 12 {
				t.Errorf("%d distinct, want 12: %v", len(seen), got)
			}
		})
	}
}

func TestNotifications_Kinds(t *testing.T) {
	fake, c := setup(t)
	res := mustPoll(t, sources[0], c, "", platform.Limits{})
	reply := blueskyfake.PostURI(bob.DID, "reply1")
	own := blueskyfake.PostURI(blueskyfake.DID, "own1")
	fake.AddNotifications(
		blueskyfake.Notification{URI: blueskyfake.PostURI(bob.DID, "like1"), Author: bob, Reason: "like", Subject: own, CreatedAt: t0.Add(1 * time.Second)},
		blueskyfake.Notification{URI: reply, Author: bob, Reason: "reply", Subject: own, Text: "Is it blue?", ReplyParent: own, CreatedAt: t0.Add(2 * time.Second)},
		blueskyfake.Notification{URI: blueskyfake.PostURI(bob.DID, "mention1"), Author: bob, Reason: "mention", Text: "@acme.bsky.social hello", CreatedAt: t0.Add(3 * time.Second)},
		blueskyfake.Notification{URI: blueskyfake.PostURI(bob.DID, "quote1"), Author: bob, Reason: "quote", Subject: own, Text: "Look", CreatedAt: t0.Add(4 * time.Second)},
		blueskyfake.Notification{URI: blueskyfake.PostURI(bob.DID, "follow1"), Author: bob, Reason: "follow", CreatedAt: t0.Add(5 * time.Second)},
	)
	res = mustPoll(t, sources[0], c, res.Cursor, platform.Limits{})
	type kind struct{ Account, ID, Kind, Parent, Thread, URL string }
	var got []kind
	for _, ch := range res.Changes {
		m := ch.Mention
		if ch.Op != platform.OpNew || m.Platform != platform.Bluesky || m.Author.ID != bob.DID || m.Author.Handle != bob.Handle || m.Author.Name != bob.DisplayName {
			t.Errorf("change %+v, mention %+v", ch, m)
		}
		got = append(got, kind{ch.Account, m.ExternalID, m.Kind, m.ParentID, m.ThreadID, m.URL})
	}
	want := []kind{
		{blueskyfake.DID, blueskyfake.PostURI(bob.DID, "quote1"), vigie.KindMention, "", blueskyfake.PostURI(bob.DID, "quote1"), "https://bsky.app/profile/bob.bsky.social/post/quote1"},
		{blueskyfake.DID, blueskyfake.PostURI(bob.DID, "mention1"), vigie.KindMention, "", blueskyfake.PostURI(bob.DID, "mention1"), "https://bsky.app/profile/bob.bsky.social/post/mention1"},
		{blueskyfake.DID, reply, vigie.KindReply, own, own, "https://bsky.app/profile/bob.bsky.social/post/reply1"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("changes (-want +got):\n%s", diff)
	}
	r := fake.Requests()
	q := url.Values(r[len(r)-1].Query)
	if diff := cmp.Diff([]string{"mention", "reply", "quote"}, q["reasons"]); diff != "" {
		t.Errorf("reasons (-want +got):\n%s", diff)
	}
	if q.Get("limit") != "100" {
		t.Errorf("limit %q, want 100", q.Get("limit"))
	}
}

func TestSearchPosts_Request(t *testing.T) {
	fake, c := setup(t)
	gina := blueskyfake.Author{DID: "did:plc:gina6vw3kq9xz2bt5mr7ny4c", Handle: "gina.example.com", DisplayName: "Gina"}
	root := blueskyfake.PostURI(gina.DID, "root")
	fake.AddPosts(
		blueskyfake.Post{URI: root, Author: gina, Text: "Café Acme, déçue", Likes: 3, Reposts: 2, Replies: 1, Quotes: 4, CreatedAt: t0.Add(-time.Minute)},
		blueskyfake.Post{URI: blueskyfake.PostURI(bob.DID, "r"), Author: bob, Text: "@gina café acme aussi", ReplyParent: root, CreatedAt: t0.Add(-30 * time.Second)},
		blueskyfake.Post{URI: blueskyfake.PostURI(bob.DID, "other"), Author: bob, Text: "Acme only", CreatedAt: t0.Add(-20 * time.Second)},
	)
	res, err := c.SearchPosts(context.Background(), "café acme", "", platform.Limits{PageSize: 30})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Changes) != 2 {
		t.Fatalf("changes %v", ids(res.Changes))
	}
	r, p := res.Changes[0], res.Changes[1].Mention
	if r.Account != "" || r.Mention.Kind != vigie.KindReply || r.Mention.ParentID != root || r.Mention.ThreadID != root {
		t.Errorf("reply %+v", r.Mention)
	}
	if p.Kind != vigie.KindPost || p.ThreadID != root || p.Text != "Café Acme, déçue" {
		t.Errorf("post %+v", p)
	}
	if diff := cmp.Diff(map[string]int64{"likes": 3, "reposts": 2, "replies": 1, "quotes": 4}, p.Metrics); diff != "" {
		t.Errorf("metrics (-want +got):\n%s", diff)
	}
	reqs := fake.Requests()
	last := reqs[len(reqs)-1]
	if q := url.Values(last.Query); q.Get("q") != "café acme" || q.Get("sort") != "latest" || q.Get("limit") != "30" || q.Has("cursor") {
		t.Errorf("query %v", q)
	}
}

func TestSession_SharedByPolls(t *testing.T) {
	fake, c := setup(t)
	sources[0].seed(fake, "n", 3, every(t0.Add(-time.Hour)))
	sources[1].seed(fake, "p", 3, every(t0.Add(-time.Hour)))

	// Concurrent first calls: one login.
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var err error
			if i%2 == 0 {
				_, err = c.Notifications(context.Background(), "", platform.Limits{})
			} else {
				_, err = c.SearchPosts(context.Background(), fmt.Sprintf("acme %d", i), "", platform.Limits{})
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, term := range []string{"acme", "love"} {
		if _, err := c.SearchPosts(context.Background(), term, "", platform.Limits{}); err != nil {
			t.Fatal(err)
		}
	}
	if n := fake.Calls(nsidLogin); n != 1 {
		t.Errorf("%d createSession calls, want 1", n)
	}
	var token string
	for _, r := range fake.Requests() {
		if r.Path == "/xrpc/"+nsidLogin {
			continue
		}
		h := r.Header.Get("Authorization")
		if !strings.HasPrefix(h, "Bearer ey") || token != "" && h != token {
			t.Errorf("%s with Authorization %q, want the one access token", r.Path, h)
		}
		token = h
	}
}

func TestSession_RefreshOnExpiry(t *testing.T) {
	fake, c := setup(t)
	sources[0].seed(fake, "n", 3, every(t0.Add(-time.Hour)))
	mustPoll(t, sources[0], c, "", platform.Limits{})
	fake.ExpireAccess()

	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := sources[i%2].poll(context.Background(), c, "", platform.Limits{}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if n, m := fake.Calls(nsidLogin), fake.Calls(nsidRefresh); n != 1 || m != 1 {
		t.Errorf("%d createSession and %d refreshSession calls, want 1 and 1", n, m)
	}
	// Expired again: the rotated refresh token works.
	fake.ExpireAccess()
	res := mustPoll(t, sources[0], c, "", platform.Limits{})
	if res.Requests != 3 {
		t.Errorf("%d requests, want 3 (refused read, refresh, read)", res.Requests)
	}
	if n, m := fake.Calls(nsidLogin), fake.Calls(nsidRefresh); n != 1 || m != 2 {
		t.Errorf("%d createSession and %d refreshSession calls, want 1 and 2", n, m)
	}
	for _, r := range fake.Requests() {
		if r.Path == "/xrpc/"+nsidRefresh && (len(r.Body) != 0 || !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ")) {
			t.Errorf("refreshSession request %+v", r)
		}
	}
}

func TestSession_RevokedLogsInAgain(t *testing.T) {
	fake, c := setup(t)
	mustPoll(t, sources[0], c, "", platform.Limits{})
	fake.RevokeSessions()
	res := mustPoll(t, sources[1], c, "", platform.Limits{})
	if res.Requests != 4 {
		t.Errorf("%d requests, want 4 (refused read, refused refresh, login, read)", res.Requests)
	}
	if n, m := fake.Calls(nsidLogin), fake.Calls(nsidRefresh); n != 2 || m != 1 {
		t.Errorf("%d createSession and %d refreshSession calls, want 2 and 1", n, m)
	}
}

func TestSession_RefusedOnce(t *testing.T) {
	fake, c := setup(t)
	fake.Fail(http.StatusUnauthorized, "AuthenticationRequired", "Authentication Required")
	res := mustPoll(t, sources[0], c, "", platform.Limits{})
	if res.Requests != 4 {
		t.Errorf("%d requests, want 4 (login, refused read, refresh, read)", res.Requests)
	}
}

// secrets returns the password and every token the fake saw.
func secrets(fake *blueskyfake.Server, password string) []string {
	out := []string{password}
	for _, r := range fake.Requests() {
		if h, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
			out = append(out, h)
		}
	}
	return out
}

func TestSession_BadPassword(t *testing.T) {
	fake, _ := setup(t)
	c := client(fake, "wrong-password")
	for _, src := range sources {
		_, err := src.poll(context.Background(), c, "", platform.Limits{})
		var ae *platform.APIError
		if !errors.As(err, &ae) || !ae.Auth || ae.Status != http.StatusUnauthorized || ae.Code != "AuthenticationRequired" {
			t.Fatalf("err = %#v, want an Auth error", err)
		}
		if strings.Contains(err.Error(), "wrong-password") {
			t.Errorf("error %q shows the password", err)
		}
	}
	if n := len(fake.Requests()); n != 1 {
		t.Errorf("%d requests, want 1: a refused password is not tried again", n)
	}
}

func TestSession_PasswordChanged(t *testing.T) {
	fake, c := setup(t)
	mustPoll(t, sources[0], c, "", platform.Limits{})
	fake.SetPassword("new-app-password")
	fake.RevokeSessions()
	_, err := c.Notifications(context.Background(), "", platform.Limits{})
	if !platform.IsAuth(err) {
		t.Fatalf("err = %v, want Auth", err)
	}
	for _, s := range secrets(fake, blueskyfake.Password) {
		if strings.Contains(err.Error(), s) {
			t.Errorf("error %q shows a secret", err)
		}
	}
	if n, m := fake.Calls(nsidLogin), fake.Calls(nsidRefresh); n != 2 || m != 1 {
		t.Errorf("%d createSession and %d refreshSession calls, want 2 and 1", n, m)
	}
}

func TestSession_NoCredentials(t *testing.T) {
	fake, _ := setup(t)
	c := &bluesky.Client{BaseURL: fake.URL(), Identifier: blueskyfake.Identifier}
	if _, err := c.Notifications(context.Background(), "", platform.Limits{}); !platform.IsAuth(err) {
		t.Errorf("err = %v, want Auth", err)
	}
	if n := len(fake.Requests()); n != 0 {
		t.Errorf("%d requests", n)
	}
}

func TestSession_LoginRateLimited(t *testing.T) {
	fake, _ := setup(t)
	for range blueskyfake.LoginLimit5Min {
		if _, err := client(fake, "nope").Notifications(context.Background(), "", platform.Limits{}); !platform.IsAuth(err) {
			t.Fatalf("err = %v, want Auth", err)
		}
	}
	c := client(fake, blueskyfake.Password)
	for range 2 {
		_, err := c.Notifications(context.Background(), "", platform.Limits{})
		var rl *platform.RateLimitError
		if !errors.As(err, &rl) || !rl.Reset.Equal(t0.Add(5*time.Minute)) {
			t.Fatalf("err = %v, want a rate limit until %v", err, t0.Add(5*time.Minute))
		}
	}
	if n := fake.Calls(nsidLogin); n != blueskyfake.LoginLimit5Min+1 {
		t.Errorf("%d createSession calls, want %d: a limited login waits for its reset", n, blueskyfake.LoginLimit5Min+1)
	}
}

func TestPoll_Errors(t *testing.T) {
	html := http.Header{"Content-Type": {"text/html"}}
	tests := []struct {
		name      string
		inject    func(*blueskyfake.Server)
		wantReset time.Time // for rate limits
		want      *platform.APIError
		message   string // when want.Message is not known exactly
	}{
		{name: "rate limit", inject: func(f *blueskyfake.Server) { f.RateLimit(t0.Add(90 * time.Second)) }, wantReset: t0.Add(90 * time.Second)},
		{name: "429 with Retry-After", inject: func(f *blueskyfake.Server) {
			f.Reply(http.StatusTooManyRequests, http.Header{"Retry-After": {"30"}}, "Too Many Requests")
		}, wantReset: t0.Add(30 * time.Second)},
		{name: "429 bare", inject: func(f *blueskyfake.Server) { f.Reply(http.StatusTooManyRequests, nil, "") }, wantReset: t0.Add(time.Minute)},
		{name: "429 with a past reset", inject: func(f *blueskyfake.Server) {
			f.Reply(http.StatusTooManyRequests, http.Header{"RateLimit-Reset": {fmt.Sprint(t0.Add(-time.Second).Unix())}}, `{"error":"RateLimitExceeded","message":"Rate Limit Exceeded"}`)
		}, wantReset: t0.Add(time.Minute)},
		{name: "server", inject: func(f *blueskyfake.Server) { f.Fail(500, "InternalServerError", "Internal Server Error") },
			want: &platform.APIError{Status: 500, Code: "InternalServerError", Message: "Internal Server Error", Retryable: true}},
		{name: "upstream", inject: func(f *blueskyfake.Server) { f.Fail(502, "UpstreamFailure", "Upstream Failure") },
			want: &platform.APIError{Status: 502, Code: "UpstreamFailure", Message: "Upstream Failure", Retryable: true}},
		{name: "proxy page", inject: func(f *blueskyfake.Server) { f.Reply(503, html, "<html><body>Service Unavailable</body></html>") },
			want: &platform.APIError{Status: 503, Retryable: true}},
		{name: "bad request", inject: func(f *blueskyfake.Server) { f.Fail(400, "BadQueryString", "Error: query could not be parsed") },
			want: &platform.APIError{Status: 400, Code: "BadQueryString", Message: "Error: query could not be parsed"}},
		{name: "takedown", inject: func(f *blueskyfake.Server) { f.Fail(400, "AccountTakedown", "Account has been taken down") },
			want: &platform.APIError{Status: 400, Code: "AccountTakedown", Message: "Account has been taken down", Auth: true}},
		{name: "expired twice", inject: func(f *blueskyfake.Server) {
			f.Fail(400, "ExpiredToken", "Token has expired")
			f.Fail(400, "ExpiredToken", "Token has expired")
		}, want: &platform.APIError{Status: 400, Code: "ExpiredToken", Message: "Token has expired", Auth: true}},
		{name: "malformed body", inject: func(f *blueskyfake.Server) {
			f.Reply(200, http.Header{"Content-Type": {"application/json"}}, `{"notifications":[{"uri":`)
		}, want: &platform.APIError{Status: 200, Retryable: true}, message: "malformed JSON"},
		{name: "wrong shape", inject: func(f *blueskyfake.Server) { f.Reply(200, nil, `{"feed":[]}`) },
			want: &platform.APIError{Status: 200, Retryable: true}, message: "missing"},
	}
	for _, src := range sources {
		for _, tt := range tests {
			t.Run(src.name+" "+tt.name, func(t *testing.T) {
				fake, c := setup(t)
				if tt.name == "malformed body" || tt.name == "wrong shape" {
					if src.name == "search" {
						tt.message = strings.Replace(tt.message, "notifications", "posts", 1)
					}
				}
				tt.inject(fake)
				_, err := src.poll(context.Background(), c, "", platform.Limits{})
				if !tt.wantReset.IsZero() {
					var rl *platform.RateLimitError
					if !errors.As(err, &rl) || !rl.Reset.Equal(tt.wantReset) || rl.Platform != platform.Bluesky {
						t.Fatalf("err = %v, want a rate limit until %v", err, tt.wantReset)
					}
					return
				}
				var ae *platform.APIError
				if !errors.As(err, &ae) {
					t.Fatalf("err = %v, want an APIError", err)
				}
				want := *tt.want
				want.Platform = platform.Bluesky
				if tt.message != "" {
					if !strings.Contains(ae.Message, tt.message) {
						t.Errorf("message %q, want it to say %q", ae.Message, tt.message)
					}
					want.Message = ae.Message
				}
				if diff := cmp.Diff(&want, ae); diff != "" {
					t.Errorf("error (-want +got):\n%s", diff)
				}
			})
		}
	}
}

func TestPoll_InvalidInput(t *testing.T) {
	fake, c := setup(t)
	for _, cursor := range []string{"{nope", `{"page":"x"}`, `{"mark":{"floor":"2025-05-01T00:00:00Z","top":"2025-05-01T00:00:00Z"},"sweepTop":{}}`, "12345"} {
		for _, src := range sources {
			if _, err := src.poll(context.Background(), c, cursor, platform.Limits{}); !vigie.IsKind(err, vigie.KindInvalid) {
				t.Errorf("%s cursor %q: err = %v, want Invalid", src.name, cursor, err)
			}
		}
	}
	for _, term := range []string{"", "  "} {
		if _, err := c.SearchPosts(context.Background(), term, "", platform.Limits{}); !vigie.IsKind(err, vigie.KindInvalid) {
			t.Errorf("term %q: err = %v, want Invalid", term, err)
		}
	}
	if n := len(fake.Requests()); n != 0 {
		t.Errorf("%d requests for invalid input", n)
	}
}

func TestPoll_Canceled(t *testing.T) {
	_, c := setup(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Notifications(ctx, "", platform.Limits{}); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	// The session is still made by the next call.
	if _, err := c.Notifications(context.Background(), "", platform.Limits{}); err != nil {
		t.Fatal(err)
	}
}

func TestClient_BaseURL(t *testing.T) {
	fake, _ := setup(t)
	host := strings.TrimPrefix(fake.URL(), "http://")
	// A base URL without a scheme is taken as https: the plain-HTTP fake
	// then fails at the transport, as a retryable error.
	c := &bluesky.Client{BaseURL: host, Identifier: blueskyfake.Identifier, Password: blueskyfake.Password}
	_, err := c.Notifications(context.Background(), "", platform.Limits{})
	var ae *platform.APIError
	if !errors.As(err, &ae) || !ae.Retryable || strings.Contains(err.Error(), blueskyfake.Password) {
		t.Errorf("err = %v, want a retryable transport error", err)
	}
	c = &bluesky.Client{BaseURL: fake.URL() + "/", Identifier: blueskyfake.Identifier, Password: blueskyfake.Password}
	if _, err := c.Notifications(context.Background(), "", platform.Limits{}); err != nil {
		t.Errorf("trailing slash: %v", err)
	}
}
