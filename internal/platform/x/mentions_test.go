package x_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"vigie/internal/platform"
	"vigie/internal/platform/x"
	"vigie/internal/platform/x/xfake"
	"vigie/internal/vigie"
)

var t0 = time.Date(2025, 5, 20, 9, 0, 0, 0, time.UTC)

func TestMentions_SamplePage(t *testing.T) {
	body := sample(t, "mentions-page.json")
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.URL.RequestURI(), r.Header.Get("Authorization"))
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		_, _ = w.Write(body)
	}))
	t.Cleanup(srv.Close)
	c := &x.Client{BaseURL: srv.URL, Token: "tok"}
	res, err := c.Mentions(context.Background(), brand, "", platform.Limits{MaxPages: 1})
	if err != nil {
		t.Fatal(err)
	}
	want := []platform.Change{
		{Op: platform.OpNew, Account: brand, Mention: &vigie.Mention{Platform: platform.X, Kind: vigie.KindMention,
			ExternalID: "1924743992345678912", ThreadID: "1924743992345678912",
			Author: vigie.Author{ID: "1400000000000000001", Handle: "lea_studio", Name: "Léa Studio", Followers: i64(12840), Verified: boolp(true)},
			Text:   "Long thread on why I switched to @BrandCo lamps for my studio. The light is warm, the dimmer is smooth, and the base doesn't wobble on my desk. Only downside: the cable is short so plan for an extension. 9/10 would recommend. Here are a few photos of the setup from this morning, with the Lumen on the left and the old lamp on the right & the difference is obvious.",
			URL:    "https://x.com/lea_studio/status/1924743992345678912", CreatedAt: time.Date(2025, 5, 20, 8, 30, 2, 0, time.UTC),
			Metrics: map[string]int64{"likes": 148, "reposts": 11, "replies": 5, "quotes": 2}}},
		{Op: platform.OpNew, Account: brand, Mention: &vigie.Mention{Platform: platform.X, Kind: vigie.KindReply,
			ExternalID: "1924466369989931010", ParentID: "1924460000000000000", ThreadID: "1924460000000000000",
			Author: vigie.Author{ID: "98765432", Handle: "claire_m", Name: "Claire M.", Followers: i64(87), Verified: boolp(false)},
			Text:   "@BrandCo my order never arrived", URL: "https://x.com/claire_m/status/1924466369989931010",
			CreatedAt: time.Date(2025, 5, 19, 14, 5, 12, 0, time.UTC), Metrics: map[string]int64{"likes": 2, "reposts": 0, "replies": 1, "quotes": 0}}},
		{Op: platform.OpNew, Account: brand, Mention: &vigie.Mention{Platform: platform.X, Kind: vigie.KindMention,
			ExternalID: "1924465506158878979", ThreadID: "1924465506158878979",
			Author: vigie.Author{ID: "6253282", Handle: "sam_example", Name: "Sam", Followers: i64(1532), Verified: boolp(false)},
			Text:   "Just tried the new Lumen lamp from @BrandCo & honestly it's great for late reading", URL: "https://x.com/sam_example/status/1924465506158878979",
			CreatedAt: time.Date(2025, 5, 19, 14, 1, 46, 0, time.UTC), Metrics: map[string]int64{"likes": 7, "reposts": 1, "replies": 0, "quotes": 0}}},
	}
	if diff := cmp.Diff(want, res.Changes); diff != "" {
		t.Errorf("changes (-want +got):\n%s", diff)
	}
	// A first poll does not page back into history.
	if res.More || res.Requests != 1 || res.Cursor != `{"since":"1924743992345678912"}` {
		t.Errorf("More %v, Requests %d, Cursor %s", res.More, res.Requests, res.Cursor)
	}
	wantReq := "/2/users/2244994945/mentions?expansions=author_id&max_results=100&tweet.fields=created_at%2Cauthor_id%2Cconversation_id%2Cin_reply_to_user_id%2Creferenced_tweets%2Cpublic_metrics%2Cnote_tweet&user.fields=username%2Cname%2Cpublic_metrics%2Cverified"
	if diff := cmp.Diff([]string{wantReq, "Bearer tok"}, got); diff != "" {
		t.Errorf("request (-want +got):\n%s", diff)
	}
}

// world is a fake with the brand account and a few authors.
type world struct {
	f    *xfake.Server
	c    *x.Client
	next int64 // the next post id
}

func newWorld(t *testing.T) *world {
	t.Helper()
	f := xfake.New(t)
	f.SetNow(func() time.Time { return t0 })
	f.AddUsers(xfake.User{ID: brand, Username: "BrandCo", Name: "Brand Co", Followers: 48210, Verified: true})
	for i := range 5 {
		f.AddUsers(xfake.User{ID: fmt.Sprint(1000 + i), Username: fmt.Sprintf("user%d", i), Name: fmt.Sprintf("User %d", i), Followers: int64(i * 10)})
	}
	return &world{f: f, c: &x.Client{BaseURL: f.URL(), Token: xfake.Token, Now: func() time.Time { return t0 }}, next: 1924000000000000000}
}

// post adds n mentions, every seventh one by the brand itself, and
// returns the ids of the others, newest first.
func (w *world) post(n int) []string {
	var ids []string
	var ps []xfake.Post
	for range n {
		w.next += 4096
		id := fmt.Sprint(w.next)
		author := fmt.Sprint(1000 + w.next%5)
		if w.next%7 == 0 {
			author = brand
		} else {
			ids = append([]string{id}, ids...)
		}
		ps = append(ps, xfake.Post{ID: id, AuthorID: author, Text: "@BrandCo post " + id, CreatedAt: t0.Add(-time.Hour)})
	}
	w.f.AddMentions(brand, ps...)
	return ids
}

func ids(cs []platform.Change) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Mention.ExternalID)
	}
	return out
}

func TestMentions_NoneTwiceNoneSkipped(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	lim := platform.Limits{MaxPages: 2, PageSize: 20}

	all := w.post(100)
	res, err := w.c.Mentions(ctx, brand, "", lim)
	if err != nil {
		t.Fatal(err)
	}
	// First poll: the newest 40 posts, no going back.
	if res.More || res.Requests != 2 || len(res.Changes) == 0 {
		t.Fatalf("first poll: More %v, %d requests, %d changes", res.More, res.Requests, len(res.Changes))
	}
	if diff := cmp.Diff(all[:len(res.Changes)], ids(res.Changes)); diff != "" {
		t.Errorf("first poll (-want +got):\n%s", diff)
	}
	cursor := res.Cursor

	// Nothing new.
	res, err = w.c.Mentions(ctx, brand, cursor, lim)
	if err != nil || len(res.Changes) != 0 || res.More || res.Requests != 1 || res.Cursor != cursor {
		t.Fatalf("idle poll: %v, %d changes, More %v, cursor %s", err, len(res.Changes), res.More, res.Cursor)
	}

	// A burst larger than a poll's pages, with more arriving meanwhile.
	burst := w.post(95)
	var got []string
	res, err = w.c.Mentions(ctx, brand, cursor, lim)
	if err != nil {
		t.Fatal(err)
	}
	if !res.More || res.Requests != 2 {
		t.Fatalf("burst poll: More %v, %d requests", res.More, res.Requests)
	}
	got = append(got, ids(res.Changes)...)
	later := w.post(10)
	for i := 0; res.More; i++ {
		if i > 10 {
			t.Fatal("the sweep does not end")
		}
		res, err = w.c.Mentions(ctx, brand, res.Cursor, lim)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, ids(res.Changes)...)
	}
	if diff := cmp.Diff(burst, got); diff != "" {
		t.Errorf("burst (-want +got):\n%s", diff)
	}
	res, err = w.c.Mentions(ctx, brand, res.Cursor, lim)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(later, ids(res.Changes)); diff != "" || res.More {
		t.Errorf("after the burst, More %v (-want +got):\n%s", res.More, diff)
	}

	for _, r := range w.f.Requests() {
		if r.Header.Get("Authorization") != "Bearer "+xfake.Token || url.Values(r.Query).Get("max_results") != "20" {
			t.Errorf("request %s %v", r.Path, r.Query)
		}
	}
}

func TestMentions_RefusedPageToken(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	old := w.post(10)
	res, err := w.c.Mentions(ctx, brand, "", platform.Limits{MaxPages: 1, PageSize: 100})
	if err != nil {
		t.Fatal(err)
	}
	since := old[0]
	burst := w.post(30)
	lim := platform.Limits{MaxPages: 1, PageSize: 10}
	res, err = w.c.Mentions(ctx, brand, res.Cursor, lim)
	if err != nil || !res.More {
		t.Fatalf("%v, More %v", err, res.More)
	}
	got := ids(res.Changes)
	// The stored token is refused (expired): the sweep restarts from the
	// newest and skips what it returned; newer posts wait for the next.
	cursor := strings.Replace(res.Cursor, `"next":"`, `"next":"zz`, 1)
	newest := w.post(3)
	for i := 0; ; i++ {
		if i > 10 {
			t.Fatal("the sweep does not end")
		}
		res, err = w.c.Mentions(ctx, brand, cursor, lim)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, ids(res.Changes)...)
		cursor = res.Cursor
		if !res.More {
			break
		}
	}
	if diff := cmp.Diff(burst, got); diff != "" {
		t.Errorf("burst (-want +got):\n%s", diff)
	}
	res, err = w.c.Mentions(ctx, brand, cursor, lim)
	if diff := cmp.Diff(newest, ids(res.Changes)); err != nil || diff != "" {
		t.Errorf("%v (-want +got):\n%s", err, diff)
	}
	// The refused request was followed by one without a token.
	reqs := w.f.Requests()
	restarted := false
	for i, r := range reqs[:len(reqs)-1] {
		if strings.HasPrefix(url.Values(r.Query).Get("pagination_token"), "zz") {
			next := url.Values(reqs[i+1].Query)
			restarted = next.Get("pagination_token") == "" && next.Get("since_id") == since
		}
	}
	if !restarted {
		t.Error("no restart after the refused token")
	}
}

func TestMentions_BareIDCursor(t *testing.T) {
	w := newWorld(t)
	posted := w.post(20)
	res, err := w.c.Mentions(context.Background(), brand, posted[5], platform.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(posted[:5], ids(res.Changes)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	reqs := w.f.Requests()
	if got := url.Values(reqs[len(reqs)-1].Query).Get("since_id"); got != posted[5] {
		t.Errorf("since_id = %s", got)
	}
}

func TestMentions_Errors(t *testing.T) {
	ctx := context.Background()
	type check func(t *testing.T, w *world, err error)
	apiErr := func(status int, code string, auth, retry bool) check {
		return func(t *testing.T, _ *world, err error) {
			t.Helper()
			var e *platform.APIError
			if !errors.As(err, &e) || e.Status != status || e.Code != code || e.Auth != auth || e.Retryable != retry {
				t.Fatalf("err = %#v; want APIError %d %s auth %v retryable %v", err, status, code, auth, retry)
			}
		}
	}
	tests := []struct {
		name   string
		setup  func(w *world)
		client func(c *x.Client)
		user   string
		cursor string
		check  check
	}{
		{"rate limited", func(w *world) { w.f.RateLimit() }, nil, brand, "", func(t *testing.T, w *world, err error) {
			var e *platform.RateLimitError
			if !errors.As(err, &e) || !e.Reset.Equal(w.f.Reset()) || e.Platform != platform.X {
				t.Fatalf("err = %v; want a rate limit until %v", err, w.f.Reset())
			}
		}},
		{"budget spent midway", func(w *world) { w.post(30); w.f.SetLimit(1) }, nil, brand, `{"since":"1"}`, func(t *testing.T, w *world, err error) {
			var e *platform.RateLimitError
			if !errors.As(err, &e) || !e.Reset.Equal(t0.Add(xfake.Window)) {
				t.Fatalf("err = %v", err)
			}
		}},
		{"wrong token", nil, func(c *x.Client) { c.Token = "nope" }, brand, "", apiErr(401, "Unauthorized", true, false)},
		{"no token", nil, func(c *x.Client) { c.Token = "" }, brand, "", func(t *testing.T, _ *world, err error) {
			if !platform.IsAuth(err) {
				t.Fatalf("err = %v", err)
			}
		}},
		{"server error", func(w *world) { w.f.Fail(503, "about:blank", "Service Unavailable", "Service Unavailable") }, nil, brand, "", apiErr(503, "Service Unavailable", false, true)},
		{"client forbidden", func(w *world) {
			w.f.Fail(403, "https://api.twitter.com/2/problems/client-forbidden", "Client Forbidden", "When authenticating requests to the Twitter API v2 endpoints, you must use keys and tokens from a Twitter developer App that is attached to a Project.")
		}, nil, brand, "", apiErr(403, "client-forbidden", true, false)},
		{"unknown user", nil, nil, "42", "", apiErr(200, "resource-not-found", false, false)},
		{"bad user id", nil, nil, "@BrandCo", "", func(t *testing.T, _ *world, err error) {
			if !vigie.IsKind(err, vigie.KindInvalid) {
				t.Fatalf("err = %v", err)
			}
		}},
		{"bad cursor", nil, nil, brand, "{not json", func(t *testing.T, _ *world, err error) {
			if !vigie.IsKind(err, vigie.KindInvalid) {
				t.Fatalf("err = %v", err)
			}
		}},
		{"cursor with a token but no bounds", nil, nil, brand, `{"since":"1","next":"abc"}`, func(t *testing.T, _ *world, err error) {
			if !vigie.IsKind(err, vigie.KindInvalid) {
				t.Fatalf("err = %v", err)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			if tc.setup != nil {
				tc.setup(w)
			}
			if tc.client != nil {
				tc.client(w.c)
			}
			res, err := w.c.Mentions(ctx, tc.user, tc.cursor, platform.Limits{PageSize: 10})
			if err == nil {
				t.Fatalf("no error: %+v", res)
			}
			if res.Cursor != "" || len(res.Changes) != 0 {
				t.Errorf("result with an error: %+v", res)
			}
			if strings.Contains(err.Error(), xfake.Token) {
				t.Errorf("the error shows the token: %v", err)
			}
			tc.check(t, w, err)
		})
	}
}

// Answers the fake does not give.
func TestMentions_RawErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		header map[string]string
		body   string
		check  func(t *testing.T, err error)
	}{
		{"429 with reset", 429, map[string]string{"x-rate-limit-reset": "1747735200"}, `{"errors":[{"code":88,"message":"Rate limit exceeded"}]}`, func(t *testing.T, err error) {
			var e *platform.RateLimitError
			if !errors.As(err, &e) || !e.Reset.Equal(time.Unix(1747735200, 0)) {
				t.Fatalf("err = %v", err)
			}
		}},
		{"429 with Retry-After", 429, map[string]string{"Retry-After": "120"}, ``, func(t *testing.T, err error) {
			var e *platform.RateLimitError
			if !errors.As(err, &e) || !e.Reset.Equal(t0.Add(2*time.Minute)) {
				t.Fatalf("err = %v", err)
			}
		}},
		{"429 bare", 429, nil, `<html>`, func(t *testing.T, err error) {
			var e *platform.RateLimitError
			if !errors.As(err, &e) || !e.Reset.Equal(t0.Add(15*time.Minute)) {
				t.Fatalf("err = %v", err)
			}
		}},
		{"legacy 401", 401, nil, `{"errors":[{"code":89,"message":"Invalid or expired token."}]}`, func(t *testing.T, err error) {
			var e *platform.APIError
			if !errors.As(err, &e) || !e.Auth || e.Code != "89" || e.Message != "Invalid or expired token." {
				t.Fatalf("err = %#v", err)
			}
		}},
		{"html 502", 502, nil, `<html>`, func(t *testing.T, err error) {
			var e *platform.APIError
			if !errors.As(err, &e) || !e.Retryable || e.Auth {
				t.Fatalf("err = %#v", err)
			}
		}},
		{"200 not json", 200, nil, `<html>`, func(t *testing.T, err error) {
			var e *platform.APIError
			if !errors.As(err, &e) || !e.Retryable {
				t.Fatalf("err = %#v", err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				for k, v := range tc.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(tc.status)
				_, _ = w.Write([]byte(tc.body))
			}))
			t.Cleanup(srv.Close)
			c := &x.Client{BaseURL: srv.URL, Token: "tok", Now: func() time.Time { return t0 }}
			_, err := c.Mentions(context.Background(), brand, "", platform.Limits{})
			tc.check(t, err)
		})
	}
}

func TestXfake_RateLimitHeaders(t *testing.T) {
	w := newWorld(t)
	w.f.SetLimit(2)
	w.post(3)
	target := w.f.URL() + "/2/users/" + brand + "/mentions?expansions=author_id&user.fields=username&tweet.fields=created_at&max_results=5"
	for i, want := range []struct {
		status    int
		remaining string
	}{{200, "1"}, {200, "0"}, {429, "0"}} {
		req, _ := http.NewRequest("GET", target, nil)
		req.Header.Set("Authorization", "Bearer "+xfake.Token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		h := res.Header
		if res.StatusCode != want.status || h.Get("x-rate-limit-limit") != "2" || h.Get("x-rate-limit-remaining") != want.remaining ||
			h.Get("x-rate-limit-reset") != fmt.Sprint(t0.Add(xfake.Window).Unix()) {
			t.Errorf("request %d: %d %v", i, res.StatusCode, h)
		}
	}
}
