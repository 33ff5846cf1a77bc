package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"vigie/internal/secrets"
	"vigie/internal/store/boltstore"
	"vigie/internal/vigie"
)

var t0 = time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)

type env struct {
	h      http.Handler
	store  vigie.Store
	admin  string
	keys   map[string]string // workspace → its live key
	revoke string            // a revoked key of acme
}

func setup(t testing.TB, wrap func(vigie.Store) vigie.Store) *env {
	t.Helper()
	dir := t.TempDir()
	file := secrets.File{Path: filepath.Join(dir, "secrets.json")}
	if _, err := file.Ensure(secrets.MasterSecret, secrets.AdminKey); err != nil {
		t.Fatal(err)
	}
	admin, _ := file.Get(context.Background(), secrets.AdminKey)
	bs, err := boltstore.Open(filepath.Join(dir, "vigie.db"), boltstore.Options{Clock: vigie.ClockFunc(func() time.Time { return t0 }), CursorKey: []byte("k")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bs.Close() })
	var st vigie.Store = bs
	if wrap != nil {
		st = wrap(bs)
	}
	e := &env{store: st, admin: admin.Reveal(), keys: map[string]string{}}
	e.h = NewServer(Deps{Store: st, Secrets: file, Clock: vigie.ClockFunc(func() time.Time { return t0 })})
	for _, ws := range []string{"acme", "globex"} {
		var out struct {
			APIKey string `json:"api_key"`
		}
		e.do(t, "POST", "/v1/workspaces", e.admin, `{"id":"`+ws+`","name":"`+ws+` corp"}`, http.StatusCreated, &out)
		e.keys[ws] = out.APIKey
		if _, err := bs.CreateMentions(context.Background(), ws, []*vigie.Mention{{ID: vigie.MentionID("x", ws), Workspace: ws, Platform: "x",
			ExternalID: ws, Text: "about " + ws, CreatedAt: t0.Add(-time.Hour), ReceivedAt: t0}}); err != nil {
			t.Fatal(err)
		}
	}
	var k struct{ Key, ID string }
	e.do(t, "POST", "/v1/keys", e.keys["acme"], `{"name":"old"}`, http.StatusCreated, &k)
	e.do(t, "DELETE", "/v1/keys/"+k.ID, e.keys["acme"], "", http.StatusNoContent, nil)
	e.revoke = k.Key
	return e
}

func (e *env) do(t testing.TB, method, path, key, body string, want int, out any) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	if want != 0 && rec.Code != want {
		t.Fatalf("%s %s: status %d, want %d; body %s", method, path, rec.Code, want, rec.Body)
	}
	if out != nil {
		if err := json.Unmarshal(rec.Body.Bytes(), out); err != nil {
			t.Fatalf("%s %s: %v; body %s", method, path, err, rec.Body)
		}
	}
	return rec
}

func code(t testing.TB, rec *httptest.ResponseRecorder) string {
	t.Helper()
	var b struct{ Error struct{ Code string } }
	_ = json.Unmarshal(rec.Body.Bytes(), &b)
	return b.Error.Code
}

// TestAuth covers every route × every kind of credential.
func TestAuth(t *testing.T) {
	e := setup(t, nil)
	routes := []struct {
		method, path, body string
		admin              bool // the route is for the agency admin key
		ok                 int
	}{
		{"POST", "/v1/workspaces", `{"id":"initech","name":"Initech"}`, true, 201},
		{"GET", "/v1/workspace", "", false, 200},
		{"POST", "/v1/workspace/webhook-secret", "", false, 200},
		{"GET", "/v1/keys", "", false, 200},
		{"POST", "/v1/keys", `{"name":"ci"}`, false, 201},
		{"DELETE", "/v1/keys/{own}", "", false, 204},
		{"GET", "/v1/mentions", "", false, 200},
	}
	creds := []struct {
		name string
		key  func() string
		// want status for admin routes and for workspace routes
		adminWant, wsWant int
		code              string
	}{
		{"no key", func() string { return "" }, 401, 401, "missing_key"},
		{"malformed key", func() string { return "hello" }, 401, 401, ""},
		{"forged key", func() string { return e.keys["acme"][:len(e.keys["acme"])-4] + "AAAA" }, 403, 401, ""},
		{"revoked key", func() string { return e.revoke }, 403, 401, ""},
		{"other workspace's key", func() string { return e.keys["globex"] }, 403, 0, ""},
		{"admin key", func() string { return e.admin }, 0, 403, ""},
		{"right key", func() string { return e.keys["acme"] }, 403, 0, ""},
	}
	for _, rt := range routes {
		for _, c := range creds {
			t.Run(rt.method+" "+rt.path+"/"+c.name, func(t *testing.T) {
				path := rt.path
				if strings.Contains(path, "{own}") {
					// A fresh key of the workspace the credential belongs to.
					own := e.keys["acme"]
					if c.name == "other workspace's key" {
						own = e.keys["globex"]
					}
					var k struct{ ID string }
					e.do(t, "POST", "/v1/keys", own, `{"name":"tmp"}`, 201, &k)
					path = strings.Replace(path, "{own}", k.ID, 1)
				}
				body := rt.body
				if rt.admin {
					body = strings.Replace(body, "initech", "initech-"+strings.ReplaceAll(strings.ReplaceAll(c.name, " ", "-"), "'", ""), 1)
				}
				want := c.wsWant
				if rt.admin {
					want = c.adminWant
				}
				if want == 0 {
					want = rt.ok
				}
				rec := e.do(t, rt.method, path, c.key(), body, want, nil)
				if c.code != "" && code(t, rec) != c.code {
					t.Errorf("code %q, want %q", code(t, rec), c.code)
				}
				if want >= 400 && !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
					t.Errorf("error is not JSON: %q", rec.Header().Get("Content-Type"))
				}
			})
		}
	}
}

func TestIsolation(t *testing.T) {
	e := setup(t, nil)
	var ms struct{ Mentions []vigie.Mention }
	e.do(t, "GET", "/v1/mentions", e.keys["globex"], "", 200, &ms)
	if len(ms.Mentions) != 1 || ms.Mentions[0].Workspace != "globex" {
		t.Errorf("globex sees %+v", ms.Mentions)
	}
	var acmeKeys struct{ Keys []keyView }
	e.do(t, "GET", "/v1/keys", e.keys["acme"], "", 200, &acmeKeys)
	// globex cannot revoke acme's key: it is not found in globex.
	e.do(t, "DELETE", "/v1/keys/"+acmeKeys.Keys[0].ID, e.keys["globex"], "", 404, nil)
	e.do(t, "GET", "/v1/workspace", e.keys["acme"], "", 200, nil)
	var globexKeys struct{ Keys []keyView }
	e.do(t, "GET", "/v1/keys", e.keys["globex"], "", 200, &globexKeys)
	if len(globexKeys.Keys) != 1 {
		t.Errorf("globex lists %d keys, want its 1", len(globexKeys.Keys))
	}
}

func TestKeys_ShownOnceStoredHashed(t *testing.T) {
	e := setup(t, nil)
	var created keyView
	e.do(t, "POST", "/v1/keys", e.keys["acme"], `{"name":"zapier"}`, 201, &created)
	if !strings.HasPrefix(created.Key, "vk_acme_"+created.ID+"_") {
		t.Fatalf("key %q does not name its workspace and id", created.Key)
	}
	rec := e.do(t, "GET", "/v1/keys", e.keys["acme"], "", 200, nil)
	secretPart := created.Key[strings.LastIndex(created.Key, "_")+1:]
	if strings.Contains(rec.Body.String(), secretPart) || strings.Contains(rec.Body.String(), `"key"`) {
		t.Errorf("listing shows a key: %s", rec.Body)
	}
	stored, err := e.store.GetAPIKey(context.Background(), "acme", created.ID)
	if err != nil || len(stored.Hash) != 32 || bytes.Contains(stored.Hash, []byte(secretPart)) {
		t.Errorf("stored key = %+v, %v; want a 32-byte hash", stored, err)
	}
	e.do(t, "GET", "/v1/workspace", created.Key, "", 200, nil)
	e.do(t, "DELETE", "/v1/keys/"+created.ID, e.keys["acme"], "", 204, nil)
	e.do(t, "DELETE", "/v1/keys/"+created.ID, e.keys["acme"], "", 204, nil) // idempotent
	if rec := e.do(t, "GET", "/v1/workspace", created.Key, "", 401, nil); code(t, rec) != "revoked_key" {
		t.Errorf("code %q, want revoked_key", code(t, rec))
	}
	e.do(t, "DELETE", "/v1/keys/nosuchkey", e.keys["acme"], "", 404, nil)
}

func TestWorkspaces_Validation(t *testing.T) {
	e := setup(t, nil)
	for _, tt := range []struct {
		body  string
		want  int
		field string
	}{
		{`{"id":"acme","name":"again"}`, 409, ""},
		{`{"name":"x"}`, 400, "id"},
		{`{"id":"Bad_Id","name":"x"}`, 400, "id"},
		{`{"id":"okid"}`, 400, "name"},
		{`{"id":"okid","name":"x","extra":1}`, 400, ""},
		{`{"id":`, 400, ""},
		{`{"id":"okid","name":"` + strings.Repeat("n", 201) + `"}`, 400, "name"},
	} {
		rec := e.do(t, "POST", "/v1/workspaces", e.admin, tt.body, tt.want, nil)
		var b struct{ Error struct{ Field string } }
		_ = json.Unmarshal(rec.Body.Bytes(), &b)
		if tt.field != "" && b.Error.Field != tt.field {
			t.Errorf("%s: field %q, want %q", tt.body, b.Error.Field, tt.field)
		}
	}
}

func TestRotateWebhookSecret(t *testing.T) {
	e := setup(t, nil)
	var a, b struct {
		WebhookSecret string `json:"webhook_secret"`
		Generation    int
	}
	e.do(t, "POST", "/v1/workspace/webhook-secret", e.keys["acme"], "", 200, &a)
	e.do(t, "POST", "/v1/workspace/webhook-secret", e.keys["acme"], "", 200, &b)
	if a.Generation != 2 || b.Generation != 3 || a.WebhookSecret == b.WebhookSecret || !strings.HasPrefix(a.WebhookSecret, "whsec_") {
		t.Errorf("rotations = %+v, %+v", a, b)
	}
}

func TestMentions_Params(t *testing.T) {
	e := setup(t, nil)
	k := e.keys["acme"]
	for _, tt := range []struct {
		query, field string
	}{
		{"since=yesterday", "since"}, {"until=2026-13-01", "until"}, {"limit=0", "limit"}, {"limit=abc", "limit"},
		{"limit=1000", "limit"}, {"cursor=garbage", "cursor"},
	} {
		rec := e.do(t, "GET", "/v1/mentions?"+tt.query, k, "", 400, nil)
		var b struct{ Error struct{ Field string } }
		_ = json.Unmarshal(rec.Body.Bytes(), &b)
		if b.Error.Field != tt.field {
			t.Errorf("%s: field %q, want %q", tt.query, b.Error.Field, tt.field)
		}
	}
	var page struct {
		Mentions []vigie.Mention
		Next     string `json:"next_cursor"`
	}
	e.do(t, "GET", "/v1/mentions?since=2026-11-20T10:00:00Z&until=2026-11-20T12:00:00Z&limit=1", k, "", 200, &page)
	if len(page.Mentions) != 1 || page.Next != "" {
		t.Errorf("page = %+v", page)
	}
}

type failingStore struct{ vigie.Store }

func (failingStore) ListMentions(context.Context, string, vigie.MentionQuery) (*vigie.MentionPage, error) {
	return nil, errors.New("dynamodb: connection refused to table secret-table-name")
}

func TestInternalErrorsDoNotLeak(t *testing.T) {
	e := setup(t, func(s vigie.Store) vigie.Store { return failingStore{s} })
	rec := e.do(t, "GET", "/v1/mentions", e.keys["acme"], "", 500, nil)
	if strings.Contains(rec.Body.String(), "secret-table-name") || code(t, rec) != "internal" {
		t.Errorf("500 body leaks: %s", rec.Body)
	}
}

// FuzzCreateWorkspace: any body gets a 2xx or 4xx, never a panic or a 5xx.
func FuzzCreateWorkspace(f *testing.F) {
	for _, s := range []string{`{"id":"acme2","name":"Acme"}`, `{"id":""}`, `{}`, `[]`, `{"id":"a","name":"b","x":1}`, "\xff"} {
		f.Add([]byte(s))
	}
	e := setup(f, nil)
	f.Fuzz(func(t *testing.T, body []byte) {
		rec := e.do(t, "POST", "/v1/workspaces", e.admin, string(body), 0, nil)
		if rec.Code >= 500 {
			t.Fatalf("status %d for %q: %s", rec.Code, body, rec.Body)
		}
	})
}
