package mastodonfake_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"vigie/internal/platform"
	"vigie/internal/platform/mastodon/mastodonfake"
)

var t0 = time.Date(2025, 5, 20, 9, 1, 30, 0, time.UTC)

type answer struct {
	status int
	header http.Header
	body   []byte
}

func get(t *testing.T, u string, token string) answer {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return answer{res.StatusCode, res.Header, b}
}

// ids returns the ids of a JSON list answer.
func ids(t *testing.T, a answer) []string {
	t.Helper()
	var l []struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(a.body, &l); err != nil {
		t.Fatalf("%s: %v", a.body, err)
	}
	out := []string{}
	for _, x := range l {
		out = append(out, x.ID)
	}
	return out
}

func seed(t *testing.T) *mastodonfake.Server {
	fake := mastodonfake.New(t)
	fake.SetClock(func() time.Time { return t0 })
	fake.StartIDs(1, 1001)
	for i := range 10 {
		fake.AddMentions(mastodonfake.Status{Account: mastodonfake.Account{Username: "u"}, Content: fmt.Sprintf("<p>%d</p>", i)})
		if i == 4 {
			fake.AddNotification("follow", mastodonfake.Account{Username: "f"}) // takes id 6
		}
	}
	return fake
}

func TestPaging(t *testing.T) {
	fake := seed(t)
	n := fake.URL() + "/api/v1/notifications?types[]=mention"
	tests := []struct {
		query      string
		want       []string
		next, prev string // the Link header's max_id and min_id
	}{
		{"&limit=3", []string{"11", "10", "9"}, "9", "11"},
		{"&limit=3&max_id=9", []string{"8", "7", "5"}, "5", "8"},
		{"&limit=3&since_id=2", []string{"11", "10", "9"}, "9", "11"},
		{"&limit=3&min_id=2", []string{"5", "4", "3"}, "3", "5"},
		{"&limit=3&min_id=2&since_id=7", []string{"5", "4", "3"}, "3", "5"},
		{"&limit=3&min_id=2&max_id=5", []string{"4", "3"}, "", "4"},
		{"&limit=3&min_id=9", []string{"11", "10"}, "", "11"},
		{"&min_id=11", []string{}, "", ""},
		{"", []string{"11", "10", "9", "8", "7", "5", "4", "3", "2", "1"}, "", "11"},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			a := get(t, n+tt.query, mastodonfake.Token)
			if a.status != 200 {
				t.Fatalf("status %d: %s", a.status, a.body)
			}
			if diff := cmp.Diff(tt.want, ids(t, a)); diff != "" {
				t.Errorf("ids (-want +got):\n%s", diff)
			}
			links := map[string]string{}
			for _, l := range strings.Split(a.header.Get("Link"), ", ") {
				if l == "" {
					continue
				}
				u, rel, _ := strings.Cut(l, "; rel=")
				links[strings.Trim(rel, `"`)] = strings.Trim(u, "<>")
			}
			check := func(rel, param, want string) {
				u := links[rel]
				if want == "" {
					if u != "" {
						t.Errorf("rel=%s %s, want none", rel, u)
					}
					return
				}
				if !strings.HasPrefix(u, fake.URL()+"/api/v1/notifications?") || !strings.Contains(u, param+"="+want) || !strings.Contains(u, "types%5B%5D=mention") {
					t.Errorf("rel=%s %q, want %s=%s", rel, u, param, want)
				}
			}
			check("next", "max_id", tt.next)
			check("prev", "min_id", tt.prev)
		})
	}
}

func TestEntities(t *testing.T) {
	fake := mastodonfake.New(t)
	fake.SetClock(func() time.Time { return t0 })
	fake.AddMentions(mastodonfake.Status{Account: mastodonfake.Account{Username: "claire", Domain: "piaille.fr", Followers: 7}, Content: "<p>hi</p>", InReplyToID: "42"})
	a := get(t, fake.URL()+"/api/v1/notifications?types[]=mention", mastodonfake.Token)
	var got []map[string]any
	if err := json.Unmarshal(a.body, &got); err != nil {
		t.Fatal(err)
	}
	n := got[0]
	st := n["status"].(map[string]any)
	acc := st["account"].(map[string]any)
	switch {
	case n["type"] != "mention" || n["created_at"] != "2025-05-20T09:01:30.000Z" || n["group_key"] != "ungrouped-"+n["id"].(string):
		t.Errorf("notification %v", n)
	case st["in_reply_to_id"] != "42" || st["in_reply_to_account_id"] != nil || st["content"] != "<p>hi</p>" || st["reblog"] != nil || st["visibility"] != "public":
		t.Errorf("status %v", st)
	case acc["acct"] != "claire@piaille.fr" || acc["url"] != "https://piaille.fr/@claire" || acc["followers_count"] != 7.0:
		t.Errorf("account %v", acc)
	case st["url"] != "https://piaille.fr/@claire/"+st["id"].(string):
		t.Errorf("url %v", st["url"])
	}
	if ms := st["mentions"].([]any); len(ms) != 1 || ms[0].(map[string]any)["acct"] != "acme" {
		t.Errorf("mentions %v", ms)
	}
}

func TestRateLimitHeaders(t *testing.T) {
	fake := seed(t)
	fake.SetRateLimit(2)
	u := fake.URL() + "/api/v1/notifications?types[]=mention&limit=1"
	for i, want := range []struct {
		status    int
		remaining string
	}{{200, "1"}, {200, "0"}, {429, "0"}} {
		a := get(t, u, mastodonfake.Token)
		if a.status != want.status || a.header.Get("X-RateLimit-Remaining") != want.remaining || a.header.Get("X-RateLimit-Limit") != "2" {
			t.Errorf("request %d: status %d, headers %v", i, a.status, a.header)
		}
		reset, ok := platform.ResetAt(a.header.Get("X-RateLimit-Reset"))
		if want := time.Date(2025, 5, 20, 9, 5, 0, 0, time.UTC); !ok || !reset.Equal(want) {
			t.Errorf("request %d: reset %q", i, a.header.Get("X-RateLimit-Reset"))
		}
		if a.status == 429 {
			assertBody(t, a, "rate-limited.json")
		}
	}
}

// assertBody checks an error answer against the sample body.
func assertBody(t *testing.T, a answer, name string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "..", "events", "platforms", "mastodon", name))
	if err != nil {
		t.Fatal(err)
	}
	var got, want any
	if err := json.Unmarshal(a.body, &got); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("body (-sample +fake):\n%s", diff)
	}
	if ct := a.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q", ct)
	}
}

func TestAuth(t *testing.T) {
	fake := seed(t)
	fake.AddTagStatuses("Lumen", mastodonfake.Status{Content: "<p>#lumen</p>"})
	n := fake.URL() + "/api/v1/notifications?types[]=mention"
	for _, token := range []string{"", "wrong"} {
		a := get(t, n, token)
		if a.status != 401 || !strings.Contains(a.header.Get("WWW-Authenticate"), "invalid_token") {
			t.Errorf("token %q: %d %v", token, a.status, a.header)
		}
		assertBody(t, a, "error-unauthorized.json")
	}
	tag := fake.URL() + "/api/v1/timelines/tag/lumen"
	if a := get(t, tag, ""); a.status != 200 || len(ids(t, a)) != 1 {
		t.Errorf("anonymous tag timeline: %d %s", a.status, a.body)
	}
	if a := get(t, tag, "wrong"); a.status != 401 {
		t.Errorf("tag timeline with a wrong token: %d", a.status)
	}
	fake.RequireAuthForTags()
	a := get(t, tag, "")
	if a.status != 422 {
		t.Errorf("anonymous tag timeline, closed: %d", a.status)
	}
	assertBody(t, a, "error-requires-auth.json")
	if a := get(t, tag, mastodonfake.Token); a.status != 200 {
		t.Errorf("tag timeline with the token: %d", a.status)
	}
}

// recorder is a fakeapi.T that records failures instead of failing.
type recorder struct {
	mu     sync.Mutex
	errors []string
	clean  []func()
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}
func (r *recorder) Cleanup(f func()) { r.clean = append(r.clean, f) }

func TestUnexpectedRequests(t *testing.T) {
	rec := &recorder{}
	fake := mastodonfake.New(rec)
	defer func() {
		for _, f := range rec.clean {
			f()
		}
	}()
	for _, q := range []string{
		"/api/v1/notifications",
		"/api/v1/notifications?types[]=mention&types[]=follow",
		"/api/v1/notifications?types[]=mention&limit=81",
		"/api/v1/notifications?types[]=mention&limit=0",
		"/api/v1/notifications?types[]=mention&min_id=abc",
		"/api/v1/notifications?types[]=mention&exclude_types[]=follow",
		"/api/v1/timelines/tag/lumen?limit=41",
		"/api/v1/timelines/tag/%23lumen",
		"/api/v1/timelines/public",
		"/api/v2/notifications",
	} {
		before := len(rec.errors)
		a := get(t, fake.URL()+q, mastodonfake.Token)
		if a.status != http.StatusNotImplemented || len(rec.errors) != before+1 {
			t.Errorf("%s: status %d, %d failures recorded", q, a.status, len(rec.errors)-before)
		}
	}
	if a := get(t, fake.URL()+"/api/v1/timelines/tag/lumen?limit=40", ""); a.status != 200 || len(rec.errors) != 10 {
		t.Errorf("a good request: %d, %v", a.status, rec.errors)
	}
}

func TestFailAfter(t *testing.T) {
	fake := seed(t)
	fake.FailAfter(2, func(w http.ResponseWriter) { w.WriteHeader(500) })
	fake.Fail(503, "Remote data could not be fetched")
	fake.Fail(502, "Bad gateway")
	u := fake.URL() + "/api/v1/notifications?types[]=mention"
	var got []int
	for range 5 {
		got = append(got, get(t, u, mastodonfake.Token).status)
	}
	// Fail takes the first free request: the next, then the second.
	if diff := cmp.Diff([]int{503, 502, 500, 200, 200}, got); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
	if n := len(fake.Requests()); n != 5 {
		t.Errorf("%d requests logged", n)
	}
}
