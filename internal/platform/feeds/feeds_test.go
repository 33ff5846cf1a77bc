package feeds_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"vigie/internal/platform"
	"vigie/internal/platform/feeds"
	"vigie/internal/platform/feeds/feedsfake"
	"vigie/internal/vigie"
)

func client() *feeds.Client {
	return &feeds.Client{HTTP: &http.Client{}, Now: func() time.Time { return now }}
}

// entries makes n entries, one a minute from start, ids prefixed by p.
func entries(p string, start time.Time, n int) []feedsfake.Entry {
	var es []feedsfake.Entry
	for i := range n {
		es = append(es, feedsfake.Entry{
			Title:     fmt.Sprintf("<b>Acme</b> story %s %d", p, i),
			URL:       fmt.Sprintf("https://news.example/%s/%d?utm=x", p, i),
			Content:   fmt.Sprintf("About <b>Acme</b> &amp; friends, part %d&nbsp;...", i),
			Published: start.Add(time.Duration(i) * time.Minute),
		})
	}
	return es
}

func fetch(t *testing.T, c *feeds.Client, u, cursor string) platform.PollResult {
	t.Helper()
	res, err := c.Fetch(context.Background(), u, cursor, platform.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func urls(cs []platform.Change) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Mention.URL)
	}
	return out
}

func TestFetch_GoogleAlerts(t *testing.T) {
	fake := feedsfake.New(t)
	path := feedsfake.GoogleAlertsPath("15842463258895766468")
	u := fake.AddFeed(path, feedsfake.GoogleAlerts, "Google Alert - Acme")
	fake.AddEntries(path, entries("a", now.Add(-time.Hour), 2)...)
	res := fetch(t, client(), u, "")
	want := []string{"https://news.example/a/1?utm=x", "https://news.example/a/0?utm=x"}
	if diff := cmp.Diff(want, urls(res.Changes)); diff != "" {
		t.Fatalf("urls (-want +got):\n%s", diff)
	}
	m := res.Changes[0].Mention
	if m.Text != "Acme story a 1\nAbout Acme & friends, part 1 ..." || m.Platform != platform.Web || m.Kind != vigie.KindArticle ||
		!m.CreatedAt.Equal(now.Add(-time.Hour+time.Minute)) {
		t.Errorf("mention = %+v", m)
	}
	req := fake.Requests()[0]
	if req.Header.Get("User-Agent") != feeds.DefaultUserAgent || req.Header.Get("If-None-Match") != "" {
		t.Errorf("first request headers %v", req.Header)
	}
}

func TestFetch_ConditionalGet(t *testing.T) {
	for _, format := range []feedsfake.Format{feedsfake.GoogleAlerts, feedsfake.Talkwalker} {
		t.Run(fmt.Sprint(format), func(t *testing.T) {
			fake := feedsfake.New(t)
			path := feedsfake.TalkwalkerPath("B2C9E8A0F3D54F7E9A1C6B8D2E4F0A13")
			u := fake.AddFeed(path, format, "Acme")
			fake.AddEntries(path, entries("a", now.Add(-time.Hour), 3)...)
			c := client()
			first := fetch(t, c, u, "")
			if len(first.Changes) != 3 {
				t.Fatalf("%d changes, want 3", len(first.Changes))
			}
			second := fetch(t, c, u, first.Cursor)
			if len(second.Changes) != 0 || second.Cursor != first.Cursor {
				t.Errorf("304: %d changes, cursor changed %v", len(second.Changes), second.Cursor != first.Cursor)
			}
			reqs := fake.Requests()
			if got := reqs[1].Header; got.Get("If-None-Match") == "" || got.Get("If-Modified-Since") == "" {
				t.Errorf("second request not conditional: %v", got)
			}
			fake.AddEntries(path, entries("b", now.Add(-time.Minute), 1)...)
			third := fetch(t, c, u, second.Cursor)
			if diff := cmp.Diff([]string{"https://news.example/b/0?utm=x"}, urls(third.Changes)); diff != "" {
				t.Errorf("after an addition (-want +got):\n%s", diff)
			}
		})
	}
}

// TestFetch_RollingFeed: the feed keeps only its last entries and sends no
// validators; polled often enough, every entry comes once.
func TestFetch_RollingFeed(t *testing.T) {
	fake := feedsfake.New(t)
	path := "/feeds/rolling.xml"
	u := fake.AddFeed(path, feedsfake.Talkwalker, "Acme")
	fake.Unconditional(path)
	fake.Keep(path, 5)
	c := client()
	seen := map[string]int{}
	cursor := ""
	all := entries("r", now.Add(-24*time.Hour), 40)
	for i := 0; i < len(all); i += 3 {
		fake.AddEntries(path, all[i:min(i+3, len(all))]...)
		res := fetch(t, c, u, cursor)
		for _, ch := range res.Changes {
			seen[ch.Mention.ExternalID]++
		}
		cursor = res.Cursor
	}
	if len(seen) != len(all) {
		t.Errorf("%d distinct entries, want %d", len(seen), len(all))
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("%s returned %d times", id, n)
		}
	}
}

func TestFetch_MaxEntries(t *testing.T) {
	fake := feedsfake.New(t)
	path := "/big.atom"
	u := fake.AddFeed(path, feedsfake.GoogleAlerts, "Big")
	fake.Keep(path, 0)
	fake.AddEntries(path, entries("x", now.Add(-48*time.Hour), feeds.MaxEntries+120)...)
	c := client()
	res := fetch(t, c, u, "")
	if len(res.Changes) != feeds.MaxEntries || !res.More {
		t.Fatalf("%d changes, More %v", len(res.Changes), res.More)
	}
	got := map[string]bool{}
	for _, ch := range res.Changes {
		got[ch.Mention.ExternalID] = true
	}
	res = fetch(t, c, u, res.Cursor)
	if len(res.Changes) != 120 || res.More {
		t.Fatalf("second fetch: %d changes, More %v", len(res.Changes), res.More)
	}
	for _, ch := range res.Changes {
		if got[ch.Mention.ExternalID] {
			t.Errorf("%s twice", ch.Mention.ExternalID)
		}
	}
	if res = fetch(t, c, u, res.Cursor); len(res.Changes) != 0 {
		t.Errorf("third fetch: %d changes", len(res.Changes))
	}
}

func TestFetch_SameArticleNewEntry(t *testing.T) {
	fake := feedsfake.New(t)
	path := "/alerts"
	u := fake.AddFeed(path, feedsfake.GoogleAlerts, "A")
	e := entries("s", now.Add(-time.Hour), 1)
	fake.AddEntries(path, e...)
	c := client()
	res := fetch(t, c, u, "")
	again := e[0]
	again.ID = "tag:google.com,2013:googlealerts/feed:999"
	again.Published = now.Add(-time.Minute)
	fake.AddEntries(path, again)
	if res = fetch(t, c, u, res.Cursor); len(res.Changes) != 0 {
		t.Errorf("the same article again: %v", urls(res.Changes))
	}
}

func TestFetch_Redirects(t *testing.T) {
	fake := feedsfake.New(t)
	path := feedsfake.TalkwalkerPath("TOKEN")
	fake.AddFeed(path, feedsfake.Talkwalker, "Acme")
	fake.AddEntries(path, entries("a", now.Add(-time.Hour), 1)...)
	old := fake.Redirect("/alerts/rss/old", path)
	if res := fetch(t, client(), old, ""); len(res.Changes) != 1 {
		t.Errorf("%d changes through a redirect", len(res.Changes))
	}
	// A loop stops after MaxRedirects.
	loop := fake.Redirect("/loop", "/loop")
	_, err := client().Fetch(context.Background(), loop, "", platform.Limits{})
	var ae *platform.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("err = %v, want an APIError", err)
	}
	n := 0
	for _, r := range fake.Requests() {
		if r.Path == "/loop" {
			n++
		}
	}
	if n != feeds.MaxRedirects+1 {
		t.Errorf("%d requests to the loop, want %d", n, feeds.MaxRedirects+1)
	}
}

func TestFetch_NotAFeed(t *testing.T) {
	fake := feedsfake.New(t)
	u := fake.AddHTML("/alerts", "<!doctype html><html><head><title>Google Alerts - Monitor the Web for interesting new content</title></head><body></body></html>")
	_, err := client().Fetch(context.Background(), u, "", platform.Limits{})
	e, ok := vigie.AsError(err)
	if !ok || e.Kind != vigie.KindInvalid || e.Field != "feed_url" {
		t.Fatalf("err = %#v, want Invalid feed_url", err)
	}
}

func TestFetch_Errors(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		retryAfter time.Duration
		wantReset  time.Time
		retryable  bool
	}{
		{name: "429 Retry-After", status: 429, retryAfter: 120 * time.Second, wantReset: now.Add(2 * time.Minute)},
		{name: "429 bare", status: 429, wantReset: now.Add(time.Minute)},
		{name: "503 Retry-After", status: 503, retryAfter: time.Hour, wantReset: now.Add(time.Hour)},
		{name: "503 bare", status: 503, retryable: true},
		{name: "500", status: 500, retryable: true},
		{name: "404", status: 404},
		{name: "410", status: 410},
		{name: "403", status: 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := feedsfake.New(t)
			u := fake.AddFeed("/f", feedsfake.Talkwalker, "F")
			fake.Fail("/f", tt.status, tt.retryAfter)
			_, err := client().Fetch(context.Background(), u, "", platform.Limits{})
			if !tt.wantReset.IsZero() {
				var rl *platform.RateLimitError
				if !errors.As(err, &rl) || !rl.Reset.Equal(tt.wantReset) {
					t.Fatalf("err = %v, want a rate limit until %v", err, tt.wantReset)
				}
				return
			}
			var ae *platform.APIError
			if !errors.As(err, &ae) || ae.Status != tt.status || ae.Retryable != tt.retryable || ae.Auth {
				t.Fatalf("err = %#v, want status %d retryable %v", err, tt.status, tt.retryable)
			}
		})
	}
}

func TestFetch_InvalidInput(t *testing.T) {
	fake := feedsfake.New(t)
	u := fake.AddFeed("/f", feedsfake.Talkwalker, "F")
	tests := []struct{ name, url, cursor, field string }{
		{"relative", "/feed.xml", "", "feed_url"},
		{"ftp", "ftp://example.com/feed", "", "feed_url"},
		{"no host", "https:///feed", "", "feed_url"},
		{"bad cursor", u, "{", "cursor"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := client().Fetch(context.Background(), tt.url, tt.cursor, platform.Limits{})
			e, ok := vigie.AsError(err)
			if !ok || e.Field != tt.field {
				t.Fatalf("err = %v, want Invalid %s", err, tt.field)
			}
		})
	}
	if n := len(fake.Requests()); n != 0 {
		t.Errorf("%d requests", n)
	}
}
