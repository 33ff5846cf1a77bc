package meta_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"vigie/internal/platform"
	"vigie/internal/platform/meta"
	"vigie/internal/platform/meta/metafake"
	"vigie/internal/vigie"
)

var now = time.Date(2025, 5, 12, 10, 0, 0, 0, time.UTC)

// thinMentions are the changes of the instagram-mention.json sample.
func thinMentions(t *testing.T) (comment, media platform.Change) {
	t.Helper()
	d, err := meta.ParseDelivery(sample(t, "instagram-mention.json"))
	if err != nil || len(d.Changes) != 2 {
		t.Fatalf("sample: %v, %d changes", err, len(d.Changes))
	}
	return d.Changes[0], d.Changes[1]
}

func newFake(t *testing.T) (*metafake.Server, *meta.Client) {
	t.Helper()
	f := metafake.New(t)
	f.AddMentionedComments(metafake.MentionedComment{IGUserID: igUser, ID: "17894227972186120",
		Text: "@acme.lighting the Lumen lamp is perfect on my desk", Username: "julie.designs",
		Timestamp: time.Date(2025, 5, 12, 9, 41, 7, 0, time.UTC), LikeCount: 4, MediaID: "17918195224117851",
		Permalink: "https://www.instagram.com/p/DJk2mXqNq3a/"})
	f.AddMentionedMedia(metafake.MentionedMedia{IGUserID: igUser, ID: "17920238422030506",
		Caption: "Weekend reading corner ✨ lamp by @acme.lighting #interiordesign", Username: "homebyclara",
		Timestamp: time.Date(2025, 5, 11, 17, 2, 44, 0, time.UTC), Permalink: "https://www.instagram.com/p/DJh7QwLs9Pk/",
		LikeCount: 212, CommentsCount: 18})
	return f, &meta.Client{BaseURL: f.URL(), Now: func() time.Time { return now }}
}

func TestClient_CompleteMention(t *testing.T) {
	f, c := newFake(t)
	comment, media := thinMentions(t)
	ctx := context.Background()

	got, err := c.CompleteMention(ctx, metafake.Token, igUser, comment)
	if err != nil {
		t.Fatal(err)
	}
	want := platform.Change{Op: platform.OpNew, Account: igUser, Mention: &vigie.Mention{Platform: platform.Instagram,
		Kind: vigie.KindMention, ExternalID: "17894227972186120", ThreadID: "17918195224117851",
		Author: vigie.Author{Handle: "julie.designs"}, Text: "@acme.lighting the Lumen lamp is perfect on my desk",
		URL: "https://www.instagram.com/p/DJk2mXqNq3a/", CreatedAt: time.Date(2025, 5, 12, 9, 41, 7, 0, time.UTC),
		Metrics: map[string]int64{"likes": 4}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("comment mention (-want +got):\n%s", diff)
	}
	if !comment.Thin || comment.Mention.Text != "" {
		t.Error("CompleteMention changed its argument")
	}

	got, err = c.CompleteMention(ctx, metafake.Token, "", media) // igUserID from the change
	if err != nil {
		t.Fatal(err)
	}
	want = platform.Change{Op: platform.OpNew, Account: igUser, Mention: &vigie.Mention{Platform: platform.Instagram,
		Kind: vigie.KindMention, ExternalID: "17920238422030506", ThreadID: "17920238422030506",
		Author: vigie.Author{Handle: "homebyclara"}, Text: "Weekend reading corner ✨ lamp by @acme.lighting #interiordesign",
		URL: "https://www.instagram.com/p/DJh7QwLs9Pk/", CreatedAt: time.Date(2025, 5, 11, 17, 2, 44, 0, time.UTC),
		Metrics: map[string]int64{"likes": 212, "replies": 18}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("media mention (-want +got):\n%s", diff)
	}

	reqs := f.Requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests", len(reqs))
	}
	for i, wantFields := range []string{
		"mentioned_comment.comment_id(17894227972186120){text,username,timestamp,like_count,media{permalink}}",
		"mentioned_media.media_id(17920238422030506){caption,username,timestamp,permalink,like_count,comments_count}",
	} {
		r := reqs[i]
		if r.Method != "GET" || r.Path != "/v21.0/"+igUser || r.Query["fields"][0] != wantFields || r.Query["access_token"][0] != metafake.Token {
			t.Errorf("request %d: %s %s %v", i, r.Method, r.Path, r.Query)
		}
	}

	// Not thin: nothing to do, no request.
	full := got
	if again, err := c.CompleteMention(ctx, metafake.Token, igUser, full); err != nil || again.Mention != full.Mention {
		t.Errorf("complete change: %v", err)
	}
	if n := len(f.Requests()); n != 2 {
		t.Errorf("%d requests after a complete change", n)
	}
}

func TestClient_CompleteMention_SampleResponses(t *testing.T) {
	comment, media := thinMentions(t)
	for _, tc := range []struct {
		file string
		ch   platform.Change
		text string
	}{
		{"graph-mentioned-comment.json", comment, "@acme.lighting the Lumen lamp is perfect on my desk"},
		{"graph-mentioned-media.json", media, "Weekend reading corner ✨ lamp by @acme.lighting #interiordesign"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			body := sample(t, tc.file)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write(body)
			}))
			t.Cleanup(srv.Close)
			c := &meta.Client{BaseURL: srv.URL, Version: "v19.0"}
			got, err := c.CompleteMention(context.Background(), "tok", igUser, tc.ch)
			if err != nil {
				t.Fatal(err)
			}
			if got.Thin || got.Mention.Text != tc.text || got.Mention.URL == "" || got.Mention.CreatedAt.Year() != 2025 {
				t.Errorf("completed %+v", got.Mention)
			}
		})
	}
}

func TestClient_CompleteMention_Errors(t *testing.T) {
	comment, _ := thinMentions(t)
	ctx := context.Background()
	type check func(t *testing.T, err error)
	apiErr := func(code string, auth, retry bool) check {
		return func(t *testing.T, err error) {
			t.Helper()
			var e *platform.APIError
			if !errors.As(err, &e) || e.Code != code || e.Auth != auth || e.Retryable != retry {
				t.Fatalf("err = %#v; want APIError code %s auth %v retryable %v", err, code, auth, retry)
			}
		}
	}
	rateLimit := func(reset time.Time) check {
		return func(t *testing.T, err error) {
			t.Helper()
			var e *platform.RateLimitError
			if !errors.As(err, &e) || !e.Reset.Equal(reset) || e.Platform != platform.Instagram {
				t.Fatalf("err = %v; want a rate limit until %v", err, reset)
			}
		}
	}
	tests := []struct {
		name  string
		setup func(f *metafake.Server)
		token string
		check check
	}{
		{"expired token", func(f *metafake.Server) { f.ExpireToken(metafake.Token) }, metafake.Token, apiErr("190/463", true, false)},
		{"wrong token", nil, "other", apiErr("190", true, false)},
		{"app rate limit with regain time", func(f *metafake.Server) { f.RateLimit(4, 30*time.Minute) }, metafake.Token, rateLimit(now.Add(30 * time.Minute))},
		{"page rate limit, no regain time", func(f *metafake.Server) { f.RateLimit(32, 0) }, metafake.Token, rateLimit(now.Add(time.Hour))},
		{"instagram BUC limit", func(f *metafake.Server) { f.RateLimit(80002, 12*time.Minute) }, metafake.Token, rateLimit(now.Add(12 * time.Minute))},
		{"user limit", func(f *metafake.Server) { f.RateLimit(17, 0) }, metafake.Token, rateLimit(now.Add(time.Hour))},
		{"budget spent", func(f *metafake.Server) { f.SetBudget(0) }, metafake.Token, rateLimit(now.Add(time.Hour))},
		{"transient", func(f *metafake.Server) {
			f.Fail(500, 2, 0, "An unexpected error has occurred. Please retry your request later.")
		}, metafake.Token, apiErr("2", false, true)},
		{"unknown error", func(f *metafake.Server) { f.Fail(400, 1, 0, "An unknown error occurred") }, metafake.Token, apiErr("1", false, true)},
		{"permission removed", func(f *metafake.Server) {
			f.Fail(403, 10, 0, "(#10) Application does not have permission for this action")
		}, metafake.Token, apiErr("10", true, false)},
		{"invalid parameter", func(f *metafake.Server) { f.Fail(400, 100, 0, "(#100) Invalid parameter") }, metafake.Token, apiErr("100", false, false)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, c := newFake(t)
			if tc.setup != nil {
				tc.setup(f)
			}
			_, err := c.CompleteMention(ctx, tc.token, igUser, comment)
			tc.check(t, err)
			if err != nil && (strings.Contains(err.Error(), tc.token) || strings.Contains(err.Error(), "access_token")) {
				t.Errorf("the error shows the token: %v", err)
			}
		})
	}

	t.Run("unknown comment", func(t *testing.T) {
		_, c := newFake(t)
		ch := comment
		m := *ch.Mention
		m.ExternalID = "17800000000000000"
		ch.Mention = &m
		_, err := c.CompleteMention(ctx, metafake.Token, igUser, ch)
		apiErr("100", false, false)(t, err)
	})

	// Answers the fake does not give: a proxy's page, a 200 without the
	// field, a rate limit with only an HTTP status.
	for _, tc := range []struct {
		name   string
		status int
		header map[string]string
		body   string
		check  check
	}{
		{"html 502", 502, nil, "<html>Bad Gateway</html>", apiErr("", false, true)},
		{"html 401", 401, nil, "<html>no</html>", apiErr("", true, false)},
		{"bare 429", 429, nil, "", rateLimit(now.Add(time.Hour))},
		{"BUC header", 400, map[string]string{"X-Business-Use-Case-Usage": `{"448242228374517":[{"type":"pages","call_count":100,"total_cputime":4,"total_time":5,"estimated_time_to_regain_access":0}],"17841405726653026":[{"type":"instagram","call_count":100,"estimated_time_to_regain_access":45}]}`},
			`{"error":{"message":"(#80002) There have been too many calls to this Instagram account.","type":"OAuthException","code":80002,"fbtrace_id":"x"}}`, rateLimit(now.Add(45 * time.Minute))},
		{"is_transient", 400, nil, `{"error":{"message":"(#9007) busy","type":"OAuthException","code":9007,"is_transient":true}}`, apiErr("9007", false, true)},
		{"no mentioned comment", 200, nil, `{"id":"17841405726653026"}`, func(t *testing.T, err error) {
			if !vigie.IsKind(err, vigie.KindNotFound) {
				t.Fatalf("err = %v; want not found", err)
			}
		}},
		{"200 not json", 200, nil, `<html>`, apiErr("", false, true)},
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
			c := &meta.Client{BaseURL: srv.URL, Now: func() time.Time { return now }}
			_, err := c.CompleteMention(ctx, "secret-token", igUser, comment)
			tc.check(t, err)
		})
	}

	t.Run("bad input", func(t *testing.T) {
		_, c := newFake(t)
		notIG := platform.Change{Op: platform.OpNew, Thin: true, Mention: &vigie.Mention{Platform: platform.Facebook, Kind: vigie.KindMention, ExternalID: "1"}}
		badID := comment
		m := *comment.Mention
		m.ExternalID = "1){id},x.y("
		badID.Mention = &m
		for name, ch := range map[string]platform.Change{"not instagram": notIG, "hostile id": badID, "no mention": {Thin: true}} {
			if _, err := c.CompleteMention(ctx, metafake.Token, igUser, ch); !vigie.IsKind(err, vigie.KindInvalid) {
				t.Errorf("%s: err = %v; want invalid", name, err)
			}
		}
		if _, err := c.CompleteMention(ctx, "", igUser, comment); !platform.IsAuth(err) {
			t.Errorf("no token: err = %v; want an auth error", err)
		}
	})
}

func TestMetafake_UsageHeaders(t *testing.T) {
	f, c := newFake(t)
	f.SetBudget(4)
	comment, _ := thinMentions(t)
	srvURL := f.URL() + "/v21.0/" + igUser + "?access_token=" + metafake.Token +
		"&fields=mentioned_comment.comment_id(17894227972186120){text,media{permalink,id}}"
	res, err := http.Get(srvURL)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 || res.Header.Get("X-App-Usage") != `{"call_count":25,"total_cputime":12,"total_time":12}` ||
		!strings.Contains(res.Header.Get("X-Business-Use-Case-Usage"), `"`+igUser+`":[{"call_count":25`) {
		t.Errorf("%d, X-App-Usage %s, BUC %s", res.StatusCode, res.Header.Get("X-App-Usage"), res.Header.Get("X-Business-Use-Case-Usage"))
	}
	for range 3 {
		if _, err := c.CompleteMention(context.Background(), metafake.Token, igUser, comment); err != nil {
			t.Fatal(err)
		}
	}
	_, err = c.CompleteMention(context.Background(), metafake.Token, igUser, comment)
	var rl *platform.RateLimitError
	if !errors.As(err, &rl) {
		t.Fatalf("over budget: %v", err)
	}
}
