package bluesky

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"vigie/internal/platform"
	"vigie/internal/vigie"
)

// samples are the files of events/platforms/bluesky.
func samples(f *testing.F) []string {
	f.Helper()
	names, err := filepath.Glob(filepath.Join("..", "..", "..", "events", "platforms", "bluesky", "*.json"))
	if err != nil || len(names) == 0 {
		f.Fatalf("no samples: %v", err)
	}
	return names
}

// seed adds every sample to f.
func seed(f *testing.F) {
	f.Helper()
	for _, name := range samples(f) {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

func checkPage(t *testing.T, p *Page, search bool) {
	t.Helper()
	for _, it := range p.Items {
		if it.URI == "" || it.SortAt.IsZero() || it.SortAt.Location() != time.UTC {
			t.Fatalf("bad item %+v", it)
		}
		m := it.Mention
		if m == nil {
			if search || reasonKinds[it.Reason] != "" {
				t.Fatalf("item without its mention %+v", it)
			}
			continue
		}
		switch {
		case m.Platform != platform.Bluesky || m.ExternalID != it.URI || m.ThreadID == "" || m.CreatedAt.IsZero():
			t.Fatalf("bad mention %+v", m)
		case search && m.Kind != vigie.KindPost && m.Kind != vigie.KindReply:
			t.Fatalf("search result of kind %q", m.Kind)
		case search && (m.Kind == vigie.KindReply) != (m.ParentID != ""):
			t.Fatalf("kind %q with parent %q", m.Kind, m.ParentID)
		case !search && m.Kind != reasonKinds[it.Reason]:
			t.Fatalf("reason %q gave kind %q", it.Reason, m.Kind)
		case search && it.SortAt.After(m.CreatedAt):
			t.Fatalf("sorted at %v, after its creation %v", it.SortAt, m.CreatedAt)
		case m.URL != "" && !strings.HasPrefix(m.URL, "https://bsky.app/profile/"):
			t.Fatalf("URL %q", m.URL)
		}
	}
}

func FuzzParseNotifications(f *testing.F) {
	seed(f)
	f.Add([]byte(`{"notifications":[{"uri":"at://did:plc:a/app.bsky.feed.post/b","reason":"reply","author":{"handle":"handle.invalid"},"record":{"text":"x","reply":{"parent":{"uri":"at://p"}}},"indexedAt":"2025-05-01T12:00:00.5+02:00"}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := ParseNotifications(body)
		if err != nil {
			if !vigie.IsKind(err, vigie.KindInvalid) {
				t.Fatalf("error of kind %s: %v", vigie.ErrorKind(err), err)
			}
			return
		}
		checkPage(t, p, false)
	})
}

func FuzzParseSearchPosts(f *testing.F) {
	seed(f)
	f.Add([]byte(`{"cursor":"25","posts":[{"uri":"at://did:plc:a/app.bsky.feed.post/b","record":{"text":"x","createdAt":"2030-01-01T00:00:00Z"},"likeCount":-1,"indexedAt":"2025-05-01T12:00:00Z"}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := ParseSearchPosts(body)
		if err != nil {
			if !vigie.IsKind(err, vigie.KindInvalid) {
				t.Fatalf("error of kind %s: %v", vigie.ErrorKind(err), err)
			}
			return
		}
		checkPage(t, p, true)
	})
}

func FuzzParseSession(f *testing.F) {
	seed(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		s, err := parseSession(body)
		if err != nil {
			if !vigie.IsKind(err, vigie.KindInvalid) {
				t.Fatalf("error of kind %s: %v", vigie.ErrorKind(err), err)
			}
			if strings.Contains(err.Error(), string(body)) && len(body) > 8 {
				t.Fatalf("error %q quotes the body", err)
			}
			return
		}
		if s.Access == "" || s.Refresh == "" || !strings.HasPrefix(s.DID, "did:") {
			t.Fatalf("bad session %+v", s)
		}
	})
}

func FuzzResponseError(f *testing.F) {
	for _, status := range []int{400, 401, 429, 500, 502} {
		f.Add(status, "", []byte(`{"error":"ExpiredToken","message":"Token has expired"}`))
	}
	f.Add(429, "1746104400", []byte(`{"error":"RateLimitExceeded","message":"Rate Limit Exceeded"}`))
	f.Add(503, "", []byte(`<html>`))
	for _, name := range samples(f) {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(400, "", b)
	}
	now := time.Date(2025, 5, 1, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, status int, reset string, body []byte) {
		if status < 100 || status > 999 {
			return
		}
		res := &platform.Response{Status: status, Header: http.Header{"Ratelimit-Reset": {reset}}, Body: body}
		for _, errorOf := range []func(*platform.Response, time.Time) error{responseError, loginError} {
			err := errorOf(res, now)
			var rl *platform.RateLimitError
			var ae *platform.APIError
			switch {
			case errors.As(err, &rl):
				if !rl.Reset.After(now) {
					t.Fatalf("rate limit until %v, not after now", rl.Reset)
				}
			case errors.As(err, &ae):
				if status == 429 || ae.Status != status || ae.Auth && ae.Retryable || status >= 500 && !ae.Retryable && !ae.Auth {
					t.Fatalf("status %d gave %#v", status, ae)
				}
			default:
				t.Fatalf("error %T %v", err, err)
			}
			_ = sessionRefused(res)
		}
	})
}

// FuzzCursor runs a poll from any cursor over one page: a stored cursor
// that was damaged must give an Invalid error or a poll, never a panic.
func FuzzCursor(f *testing.F) {
	page, err := os.ReadFile(filepath.Join("..", "..", "..", "events", "platforms", "bluesky", "notifications.json"))
	if err != nil {
		f.Fatal(err)
	}
	p, err := ParseNotifications(page)
	if err != nil {
		f.Fatal(err)
	}
	now := time.Date(2025, 5, 1, 12, 0, 0, 0, time.UTC)
	c := &Client{Now: func() time.Time { return now }}
	fetch := func(_ context.Context, cursor string, _ int, n *int) (*Page, string, error) {
		*n++
		return &Page{Cursor: "next", Items: p.Items}, "did:plc:acme7ruh4vg3xqb2fkm6dz5o", nil
	}
	res, err := c.poll(context.Background(), "", platform.Limits{}, notificationOverlap, fetch)
	if err != nil {
		f.Fatal(err)
	}
	f.Add("")
	f.Add(res.Cursor)
	f.Add(`{"mark":{"floor":"2025-05-01T11:59:00Z","top":"2025-05-01T12:00:00Z","seen":["a"]},"page":"p","sweepTop":{"floor":"0001-01-01T00:00:00Z","top":"2025-05-01T12:00:00Z"}}`)
	f.Fuzz(func(t *testing.T, cursor string) {
		for _, l := range []platform.Limits{{MaxPages: 1, PageSize: 2}, {}} {
			res, err := c.poll(context.Background(), cursor, l, searchOverlap, fetch)
			if err != nil {
				if !vigie.IsKind(err, vigie.KindInvalid) {
					t.Fatalf("error of kind %s: %v", vigie.ErrorKind(err), err)
				}
				return
			}
			if _, err := decodeCursor(res.Cursor); err != nil || res.Requests == 0 || res.Requests > l.Pages() {
				t.Fatalf("poll %+v: cursor %v", res, err)
			}
		}
	})
}
