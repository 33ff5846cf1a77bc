package blueskyfake_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"vigie/internal/platform/bluesky/blueskyfake"
)

var t0 = time.Date(2025, 5, 1, 20, 0, 0, 0, time.UTC)

type answer struct {
	status int
	header http.Header
	body   map[string]any
}

// call makes one request and decodes its JSON answer.
func call(t *testing.T, method, u, bearer, body string) answer {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, u, r)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	a := answer{status: res.StatusCode, header: res.Header}
	if err := json.NewDecoder(res.Body).Decode(&a.body); err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	return a
}

func xrpcErr(a answer) string { return fmt.Sprint(a.status, " ", a.body["error"]) }

func login(t *testing.T, s *blueskyfake.Server) (access, refresh string) {
	t.Helper()
	a := call(t, "POST", s.URL()+"/xrpc/com.atproto.server.createSession", "", fmt.Sprintf(`{"identifier":%q,"password":%q}`, blueskyfake.Identifier, blueskyfake.Password))
	if a.status != 200 || a.body["did"] != blueskyfake.DID || a.body["handle"] != blueskyfake.Identifier {
		t.Fatalf("login: %d %v", a.status, a.body)
	}
	return a.body["accessJwt"].(string), a.body["refreshJwt"].(string)
}

func newFake(t *testing.T) *blueskyfake.Server {
	s := blueskyfake.New(t)
	s.SetClock(func() time.Time { return t0 })
	return s
}

func TestLogin(t *testing.T) {
	s := newFake(t)
	u := s.URL() + "/xrpc/com.atproto.server.createSession"
	for body, want := range map[string]string{
		`{"identifier":"acme.bsky.social","password":"nope"}`:                                "401 AuthenticationRequired",
		`{"identifier":"someone.else","password":"abcd-efgh-ijkl-mnop"}`:                     "401 AuthenticationRequired",
		`{"identifier":"acme.bsky.social"}`:                                                  "400 InvalidRequest",
		`{"identifier":"did:plc:acme7ruh4vg3xqb2fkm6dz5o","password":"abcd-efgh-ijkl-mnop"}`: "200 <nil>",
		`{"identifier":"ACME.bsky.social","password":"abcd-efgh-ijkl-mnop"}`:                 "200 <nil>",
	} {
		a := call(t, "POST", u, "", body)
		if got := xrpcErr(a); got != want {
			t.Errorf("%s: %s, want %s", body, got, want)
		}
		if a.header.Get("RateLimit-Limit") != "30" || a.header.Get("RateLimit-Policy") != "30;w=300" {
			t.Errorf("login rate-limit headers %v", a.header)
		}
	}
}

func TestTokens(t *testing.T) {
	s := newFake(t)
	access, refresh := login(t, s)
	read := s.URL() + "/xrpc/app.bsky.notification.listNotifications"
	refreshURL := s.URL() + "/xrpc/com.atproto.server.refreshSession"
	check := func(what, got, want string) {
		t.Helper()
		if got != want {
			t.Errorf("%s: %s, want %s", what, got, want)
		}
	}
	check("no token", xrpcErr(call(t, "GET", read, "", "")), "401 AuthenticationRequired")
	check("unknown token", xrpcErr(call(t, "GET", read, "nope", "")), "401 InvalidToken")
	check("refresh token on a read", xrpcErr(call(t, "GET", read, refresh, "")), "400 InvalidToken")
	check("access token", xrpcErr(call(t, "GET", read, access, "")), "200 <nil>")
	check("access token to refresh", xrpcErr(call(t, "POST", refreshURL, access, "")), "400 InvalidToken")

	s.ExpireAccess()
	check("expired", xrpcErr(call(t, "GET", read, access, "")), "400 ExpiredToken")
	a := call(t, "POST", refreshURL, refresh, "")
	check("refresh", xrpcErr(a), "200 <nil>")
	check("refresh again", xrpcErr(call(t, "POST", refreshURL, refresh, "")), "400 ExpiredToken")
	access2, refresh2 := a.body["accessJwt"].(string), a.body["refreshJwt"].(string)
	check("new access token", xrpcErr(call(t, "GET", read, access2, "")), "200 <nil>")

	s.RevokeSessions()
	check("revoked access", xrpcErr(call(t, "GET", read, access2, "")), "400 ExpiredToken")
	check("revoked refresh", xrpcErr(call(t, "POST", refreshURL, refresh2, "")), "400 ExpiredToken")
}

func TestReads_LimitsAndHeaders(t *testing.T) {
	s := newFake(t)
	access, _ := login(t, s)
	for _, path := range []string{"/xrpc/app.bsky.notification.listNotifications?", "/xrpc/app.bsky.feed.searchPosts?q=acme&sort=latest&"} {
		for limit, want := range map[string]string{"": "200 <nil>", "1": "200 <nil>", "100": "200 <nil>", "0": "400 InvalidRequest", "101": "400 InvalidRequest", "x": "400 InvalidRequest"} {
			q := ""
			if limit != "" {
				q = "limit=" + limit
			}
			a := call(t, "GET", s.URL()+path+q, access, "")
			if got := xrpcErr(a); got != want {
				t.Errorf("%s%s: %s, want %s", path, q, got, want)
			}
			if a.header.Get("RateLimit-Limit") != "3000" || a.header.Get("RateLimit-Remaining") == "" ||
				a.header.Get("RateLimit-Reset") != fmt.Sprint(t0.Add(5*time.Minute).Unix()) || a.header.Get("RateLimit-Policy") != "3000;w=300" {
				t.Errorf("%s%s: rate-limit headers %v", path, q, a.header)
			}
		}
	}
}

func TestListNotifications_Paging(t *testing.T) {
	s := newFake(t)
	access, _ := login(t, s)
	bob := blueskyfake.Author{DID: "did:plc:bob2gq7dqeb3oq5jrsmnxkfh", Handle: "bob.bsky.social"}
	for i := range 5 {
		reason := "mention"
		if i == 2 {
			reason = "like"
		}
		s.AddNotifications(blueskyfake.Notification{URI: blueskyfake.PostURI(bob.DID, fmt.Sprint("n", i)), Author: bob, Reason: reason, Text: "hi", CreatedAt: t0.Add(time.Duration(i) * time.Second)})
	}
	var got []string
	q := url.Values{"limit": {"2"}, "reasons": {"mention", "reply"}}
	for range 10 {
		a := call(t, "GET", s.URL()+"/xrpc/app.bsky.notification.listNotifications?"+q.Encode(), access, "")
		ns := a.body["notifications"].([]any)
		for _, n := range ns {
			got = append(got, strings.TrimPrefix(n.(map[string]any)["uri"].(string), "at://"+bob.DID+"/app.bsky.feed.post/"))
		}
		c, _ := a.body["cursor"].(string)
		if len(ns) == 0 {
			if c != "" {
				t.Errorf("empty page with cursor %q", c)
			}
			break
		}
		// New notifications between pages do not move the cursor.
		s.AddNotifications(blueskyfake.Notification{URI: blueskyfake.PostURI(bob.DID, "late"+c), Author: bob, Reason: "mention", CreatedAt: t0.Add(time.Hour)})
		q.Set("cursor", c)
	}
	if diff := cmp.Diff([]string{"n4", "n3", "n1", "n0"}, got); diff != "" {
		t.Errorf("pages (-want +got):\n%s", diff)
	}
}

// recorder is a fakeapi.T that records failures instead of failing.
type recorder struct {
	*testing.T
	mu     sync.Mutex
	errors []string
}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

func TestUnexpectedRequests(t *testing.T) {
	rec := &recorder{T: t}
	s := blueskyfake.New(rec)
	access, _ := login(t, s)
	for _, u := range []string{
		"/xrpc/app.bsky.feed.searchPosts?q=acme",                              // no sort=latest
		"/xrpc/app.bsky.feed.searchPosts?sort=latest",                         // no q
		"/xrpc/app.bsky.notification.listNotifications?reasons=mention,reply", // not an array
		"/xrpc/app.bsky.feed.getTimeline",
	} {
		req, _ := http.NewRequest("GET", s.URL()+u, nil)
		req.Header.Set("Authorization", "Bearer "+access)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusNotImplemented {
			t.Errorf("%s: status %d", u, res.StatusCode)
		}
	}
	if len(rec.errors) != 4 {
		t.Errorf("%d failures recorded, want 4: %q", len(rec.errors), rec.errors)
	}
}
