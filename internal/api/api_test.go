package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"vigie/internal/secrets"
	"vigie/internal/store/boltstore"
	"vigie/internal/vigie"
)

var t0 = time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)

// env is a running API on a bolt store in a temporary folder, with two
// workspaces, acme and globex, each with a live key and one mention.
type env struct {
	h       http.Handler
	srv     *httptest.Server // nil: requests call h in process
	store   *boltstore.Store // beneath any fault injection
	secrets secrets.File
	admin   string
	keys    map[string]string // workspace → its "default" key
	revoked string            // a revoked key of acme
	logs    *syncBuffer
}

// syncBuffer collects the server's logs.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// faultyStore is a vigie.Store with failures injected by the set fields.
type faultyStore struct {
	vigie.Store
	createAPIKey    func(context.Context, *vigie.APIKey) error
	updateWorkspace func(context.Context, *vigie.Workspace) error
	listMentions    func(context.Context, string, vigie.MentionQuery) (*vigie.MentionPage, error)
	listAPIKeys     func(context.Context, string) ([]*vigie.APIKey, error)
}

func (f *faultyStore) CreateAPIKey(ctx context.Context, k *vigie.APIKey) error {
	if f.createAPIKey != nil {
		return f.createAPIKey(ctx, k)
	}
	return f.Store.CreateAPIKey(ctx, k)
}

func (f *faultyStore) UpdateWorkspace(ctx context.Context, w *vigie.Workspace) error {
	if f.updateWorkspace != nil {
		return f.updateWorkspace(ctx, w)
	}
	return f.Store.UpdateWorkspace(ctx, w)
}

func (f *faultyStore) ListMentions(ctx context.Context, ws string, q vigie.MentionQuery) (*vigie.MentionPage, error) {
	if f.listMentions != nil {
		return f.listMentions(ctx, ws, q)
	}
	return f.Store.ListMentions(ctx, ws, q)
}

func (f *faultyStore) ListAPIKeys(ctx context.Context, ws string) ([]*vigie.APIKey, error) {
	if f.listAPIKeys != nil {
		return f.listAPIKeys(ctx, ws)
	}
	return f.Store.ListAPIKeys(ctx, ws)
}

// setup starts the API with two workspaces, acme and globex. The faults,
// if any, wrap the store from the start.
func setup(t testing.TB, faults *faultyStore) *env {
	t.Helper()
	e := bareEnv(t, faults)
	for _, ws := range []string{"acme", "globex"} {
		var out createdWorkspace
		e.do(t, "POST", "/v1/workspaces", e.admin, `{"id":"`+ws+`","name":"`+ws+` corp"}`, http.StatusCreated, &out)
		e.keys[ws] = out.APIKey
		e.addMentions(t, ws, 1)
	}
	var k createdKey
	e.do(t, "POST", "/v1/keys", e.keys["acme"], `{"name":"old"}`, http.StatusCreated, &k)
	e.do(t, "DELETE", "/v1/keys/"+k.ID, e.keys["acme"], "", http.StatusNoContent, nil)
	e.revoked = k.Key
	return e
}

// bareEnv starts the API on an empty store.
func bareEnv(t testing.TB, faults *faultyStore) *env {
	t.Helper()
	e := &env{secrets: newSecrets(t), keys: map[string]string{}, logs: &syncBuffer{}}
	admin, err := e.secrets.Get(context.Background(), secrets.AdminKey)
	if err != nil {
		t.Fatal(err)
	}
	e.admin = admin.Reveal()
	e.store = newBolt(t)
	var st vigie.Store = e.store
	if faults != nil {
		faults.Store = e.store
		st = faults
	}
	logger := slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e.h = NewServer(Deps{Store: st, Secrets: e.secrets, Clock: clock, Logger: logger})
	e.srv = httptest.NewServer(e.h)
	t.Cleanup(e.srv.Close)
	return e
}

var clock = vigie.ClockFunc(func() time.Time { return t0 })

func newBolt(t testing.TB) *boltstore.Store {
	t.Helper()
	bs, err := boltstore.Open(filepath.Join(t.TempDir(), "vigie.db"), boltstore.Options{Clock: clock, CursorKey: []byte("cursor key for tests")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = bs.Close() })
	return bs
}

// newSecrets returns a secrets file with a master secret and an admin key.
func newSecrets(t testing.TB) secrets.File {
	t.Helper()
	f := secrets.File{Path: filepath.Join(t.TempDir(), "secrets.json")}
	if _, err := f.Ensure(secrets.MasterSecret, secrets.AdminKey); err != nil {
		t.Fatal(err)
	}
	return f
}

// addMentions stores n mentions of ws, an hour apart before t0, and returns
// their ids, newest first.
func (e *env) addMentions(t testing.TB, ws string, n int) []string {
	t.Helper()
	var ms []*vigie.Mention
	var ids []string
	for i := range n {
		ext := fmt.Sprintf("%s-%d-%d", ws, i, time.Now().UnixNano())
		m := &vigie.Mention{ID: vigie.MentionID("generic", ext), Workspace: ws, Platform: "generic", ExternalID: ext,
			Text: "about " + ws, CreatedAt: t0.Add(-time.Duration(i+1) * time.Hour), ReceivedAt: t0}
		ms = append(ms, m)
		ids = append(ids, m.ID)
	}
	if _, err := e.store.CreateMentions(context.Background(), ws, ms); err != nil {
		t.Fatal(err)
	}
	return ids
}

type answer struct {
	status int
	header http.Header
	body   []byte
}

// code is the error code of an error answer.
func (a answer) code() string {
	var b struct{ Error struct{ Code string } }
	_ = json.Unmarshal(a.body, &b)
	return b.Error.Code
}

// field is the field an error answer names.
func (a answer) field() string {
	var b struct{ Error struct{ Field string } }
	_ = json.Unmarshal(a.body, &b)
	return b.Error.Field
}

// do sends a request with key as bearer ("" for none) and, unless want is
// 0, checks the status; out, if set, receives the JSON body.
func (e *env) do(t testing.TB, method, path, key, body string, want int, out any) answer {
	t.Helper()
	auth := ""
	if key != "" {
		auth = "Bearer " + key
	}
	return e.doAuth(t, method, path, auth, body, want, out)
}

func (e *env) doAuth(t testing.TB, method, path, auth, body string, want int, out any) answer {
	t.Helper()
	var a answer
	if e.srv == nil {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		rec := httptest.NewRecorder()
		e.h.ServeHTTP(rec, req)
		a = answer{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
	} else {
		req, err := http.NewRequest(method, e.srv.URL+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := e.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var buf bytes.Buffer
		_, _ = buf.ReadFrom(resp.Body)
		a = answer{status: resp.StatusCode, header: resp.Header, body: buf.Bytes()}
	}
	if want != 0 && a.status != want {
		t.Fatalf("%s %s: status %d, want %d; body %s", method, path, a.status, want, a.body)
	}
	if out != nil {
		if err := json.Unmarshal(a.body, out); err != nil {
			t.Fatalf("%s %s: %v; body %s", method, path, err, a.body)
		}
	}
	return a
}

// keyIDs lists the ids of the keys ws's key sees.
func (e *env) keyIDs(t testing.TB, key string) []string {
	t.Helper()
	var out struct{ Keys []keyView }
	e.do(t, "GET", "/v1/keys", key, "", http.StatusOK, &out)
	var ids []string
	for _, k := range out.Keys {
		ids = append(ids, k.ID)
	}
	return ids
}

func keyID(key string) string { return strings.SplitN(key, "_", 4)[2] }

// TestAuth covers every route × every kind of credential. The route's
// target is always acme: its key is "right key", globex's is "another
// workspace's key", and a member route must then act on globex only.
func TestAuth(t *testing.T) {
	e := setup(t, nil)
	acme := e.keys["acme"]
	forged := acme[:len(acme)-4] + "AAAA"
	if forged == acme {
		forged = acme[:len(acme)-4] + "BBBB"
	}
	creds := []struct{ name, auth string }{
		{"no key", ""},
		{"not bearer", "Basic " + acme},
		{"malformed key", "Bearer hello"},
		{"forged key", "Bearer " + forged},
		{"revoked key", "Bearer " + e.revoked},
		{"another workspace's key", "Bearer " + e.keys["globex"]},
		{"admin key", "Bearer " + e.admin},
		{"right key", "bearer " + acme}, // the scheme is case-insensitive
	}
	type want struct {
		status int
		code   string
	}
	// What member routes answer to credentials that do not get through.
	memberDenied := map[string]want{
		"no key": {401, "missing_key"}, "not bearer": {401, "malformed_key"}, "malformed key": {401, "malformed_key"},
		"forged key": {401, "bad_key"}, "revoked key": {401, "revoked_key"}, "admin key": {403, "workspace_only"},
	}
	member := func(ok, other want) map[string]want {
		m := map[string]want{"right key": ok, "another workspace's key": other}
		for k, v := range memberDenied {
			m[k] = v
		}
		return m
	}
	n := 0
	routes := []struct {
		method, path, body string
		want               map[string]want
		// check, if set, inspects a 2xx answer given to workspace ws.
		check func(t *testing.T, ws string, a answer)
	}{
		{
			method: "GET", path: "/v1/health",
			want: map[string]want{"no key": {200, ""}, "not bearer": {200, ""}, "malformed key": {200, ""}, "forged key": {200, ""},
				"revoked key": {200, ""}, "another workspace's key": {200, ""}, "admin key": {200, ""}, "right key": {200, ""}},
		},
		{
			method: "POST", path: "/v1/workspaces", body: `{"id":"new-{n}","name":"New"}`,
			want: map[string]want{
				"no key": {401, "missing_key"}, "not bearer": {401, "malformed_key"}, "malformed key": {401, "bad_key"},
				"forged key": {401, "bad_key"}, "revoked key": {401, "revoked_key"},
				"another workspace's key": {403, "admin_only"}, "right key": {403, "admin_only"}, "admin key": {201, ""},
			},
		},
		{
			method: "GET", path: "/v1/workspace", want: member(want{200, ""}, want{200, ""}),
			check: func(t *testing.T, ws string, a answer) {
				var out struct{ Workspace vigie.Workspace }
				_ = json.Unmarshal(a.body, &out)
				if out.Workspace.ID != ws {
					t.Errorf("got workspace %q, want %q", out.Workspace.ID, ws)
				}
			},
		},
		{
			method: "POST", path: "/v1/workspace/webhook-secret", want: member(want{200, ""}, want{200, ""}),
			check: func(t *testing.T, ws string, a answer) {
				var out struct {
					WebhookSecret string `json:"webhook_secret"`
					Generation    int
				}
				_ = json.Unmarshal(a.body, &out)
				if got, want := out.WebhookSecret, e.webhookSecret(t, ws, out.Generation); got != want {
					t.Errorf("secret is not %s's of generation %d", ws, out.Generation)
				}
			},
		},
		{
			method: "GET", path: "/v1/keys", want: member(want{200, ""}, want{200, ""}),
			check: func(t *testing.T, ws string, a answer) {
				var out struct{ Keys []keyView }
				_ = json.Unmarshal(a.body, &out)
				for _, k := range out.Keys {
					if _, err := e.store.GetAPIKey(context.Background(), ws, k.ID); err != nil {
						t.Errorf("listed key %s is not %s's: %v", k.ID, ws, err)
					}
				}
			},
		},
		{
			method: "POST", path: "/v1/keys", body: `{"name":"ci"}`, want: member(want{201, ""}, want{201, ""}),
			check: func(t *testing.T, ws string, a answer) {
				var out createdKey
				_ = json.Unmarshal(a.body, &out)
				if !strings.HasPrefix(out.Key, "vk_"+ws+"_") {
					t.Errorf("new key %q is not %s's", out.ID, ws)
				}
			},
		},
		{
			// {acme-key}: a fresh live key of acme, for each case.
			method: "DELETE", path: "/v1/keys/{acme-key}", want: member(want{204, ""}, want{404, "not_found"}),
		},
		{
			method: "GET", path: "/v1/mentions", want: member(want{200, ""}, want{200, ""}),
			check: func(t *testing.T, ws string, a answer) {
				var out mentionPage
				_ = json.Unmarshal(a.body, &out)
				if len(out.Mentions) == 0 {
					t.Error("no mentions")
				}
				for _, m := range out.Mentions {
					if m.Workspace != ws {
						t.Errorf("mention %s of %s listed for %s", m.ID, m.Workspace, ws)
					}
				}
			},
		},
	}
	for _, rt := range routes {
		for _, c := range creds {
			t.Run(rt.method+" "+rt.path+"/"+c.name, func(t *testing.T) {
				w, ok := rt.want[c.name]
				if !ok {
					t.Fatalf("no expectation for %q", c.name)
				}
				path, body := rt.path, rt.body
				n++
				body = strings.ReplaceAll(body, "{n}", fmt.Sprint(n))
				var target string
				if strings.Contains(path, "{acme-key}") {
					var k createdKey
					e.do(t, "POST", "/v1/keys", acme, `{"name":"target"}`, http.StatusCreated, &k)
					target = k.ID
					path = strings.ReplaceAll(path, "{acme-key}", target)
				}
				a := e.doAuth(t, rt.method, path, c.auth, body, w.status, nil)
				if a.code() != w.code {
					t.Errorf("code %q, want %q; body %s", a.code(), w.code, a.body)
				}
				if w.status >= 400 && !strings.HasPrefix(a.header.Get("Content-Type"), "application/json") {
					t.Errorf("error is not JSON: %q", a.header.Get("Content-Type"))
				}
				if w.status < 300 && rt.check != nil {
					ws := "acme"
					if c.name == "another workspace's key" {
						ws = "globex"
					}
					rt.check(t, ws, a)
				}
				if target != "" && w.status != http.StatusNoContent {
					// Refused: the target must still be live.
					if k, err := e.store.GetAPIKey(context.Background(), "acme", target); err != nil || k.RevokedAt != nil {
						t.Errorf("acme's key after a refused revoke: %+v, %v", k, err)
					}
				}
			})
		}
	}
}

func (e *env) webhookSecret(t testing.TB, ws string, gen int) string {
	t.Helper()
	master, err := e.secrets.Get(context.Background(), secrets.MasterSecret)
	if err != nil {
		t.Fatal(err)
	}
	return webhookSecret(master, &vigie.Workspace{ID: ws, SecretGeneration: gen})
}

// TestIsolation: a workspace's key never reaches another's keys, mentions
// or workspace, whatever it asks.
func TestIsolation(t *testing.T) {
	e := setup(t, nil)
	e.addMentions(t, "acme", 5)
	e.addMentions(t, "globex", 3)
	acmeKeys, globexKeys := e.keyIDs(t, e.keys["acme"]), e.keyIDs(t, e.keys["globex"])
	for _, id := range globexKeys {
		for _, other := range acmeKeys {
			if id == other {
				t.Errorf("key %s listed for both", id)
			}
		}
	}
	if len(globexKeys) != 1 || globexKeys[0] != keyID(e.keys["globex"]) {
		t.Errorf("globex lists %v, want only its own key", globexKeys)
	}

	// Page through each workspace's mentions one at a time.
	cursors := map[string]string{}
	for ws, want := range map[string]int{"acme": 6, "globex": 4} {
		var n int
		cursor := ""
		for {
			var page mentionPage
			e.do(t, "GET", "/v1/mentions?limit=1&cursor="+cursor, e.keys[ws], "", http.StatusOK, &page)
			for _, m := range page.Mentions {
				n++
				if m.Workspace != ws {
					t.Errorf("%s's key listed a mention of %s", ws, m.Workspace)
				}
			}
			if page.NextCursor == "" {
				break
			}
			cursor, cursors[ws] = page.NextCursor, page.NextCursor
		}
		if n != want {
			t.Errorf("%s listed %d mentions, want %d", ws, n, want)
		}
	}
	// A cursor of acme's listing is worthless to globex.
	if a := e.do(t, "GET", "/v1/mentions?limit=1&cursor="+cursors["acme"], e.keys["globex"], "", http.StatusBadRequest, nil); a.field() != "cursor" {
		t.Errorf("field %q, want cursor", a.field())
	}
	// A key with acme's id but globex's secret, and the reverse, are nothing.
	for _, forged := range []string{
		"vk_acme_" + keyID(e.keys["acme"]) + "_" + strings.SplitN(e.keys["globex"], "_", 4)[3],
		"vk_acme_" + keyID(e.keys["globex"]) + "_" + strings.SplitN(e.keys["globex"], "_", 4)[3],
		"vk_globex_" + keyID(e.keys["acme"]) + "_" + strings.SplitN(e.keys["acme"], "_", 4)[3],
	} {
		if a := e.do(t, "GET", "/v1/workspace", forged, "", http.StatusUnauthorized, nil); a.code() != "bad_key" {
			t.Errorf("code %q, want bad_key", a.code())
		}
	}
}

func TestRoutes_NotFoundAndMethods(t *testing.T) {
	e := setup(t, nil)
	tests := []struct {
		name, method, path string
		want               int
		code, allow        string
	}{
		{"unknown path", "GET", "/v1/nothing", 404, "not_found", ""},
		{"root", "GET", "/", 404, "not_found", ""},
		{"wrong method", "PUT", "/v1/keys", 405, "method_not_allowed", "GET, POST, HEAD"},
		{"wrong method on a key", "GET", "/v1/keys/abcdefghijklmnop", 405, "method_not_allowed", "DELETE"},
		{"unknown key", "DELETE", "/v1/keys/abcdefghijklmnop", 404, "not_found", ""},
		{"malformed key id", "DELETE", "/v1/keys/..%2F..%2Fetc", 404, "not_found", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := e.do(t, tt.method, tt.path, e.keys["acme"], "", tt.want, nil)
			if a.code() != tt.code || a.header.Get("Allow") != tt.allow {
				t.Errorf("code %q, Allow %q; want %q, %q", a.code(), a.header.Get("Allow"), tt.code, tt.allow)
			}
			if a.header.Get("Cache-Control") != "no-store" {
				t.Errorf("Cache-Control %q, want no-store", a.header.Get("Cache-Control"))
			}
		})
	}
}

// TestLogsHoldNoSecrets runs every route, then looks for any key, secret
// or hash in the logs.
func TestLogsHoldNoSecrets(t *testing.T) {
	e := setup(t, nil)
	var k createdKey
	e.do(t, "POST", "/v1/keys", e.keys["acme"], `{"name":"zap"}`, 201, &k)
	var rot struct {
		WebhookSecret string `json:"webhook_secret"`
	}
	e.do(t, "POST", "/v1/workspace/webhook-secret", e.keys["acme"], "", 200, &rot)
	e.do(t, "DELETE", "/v1/keys/"+k.ID, e.keys["acme"], "", 204, nil)
	e.do(t, "GET", "/v1/workspace", k.Key, "", 401, nil)
	e.do(t, "POST", "/v1/workspaces", e.admin[:10], `{}`, 401, nil)
	e.do(t, "POST", "/v1/keys", e.keys["acme"], `{"name":"`+e.admin+`","x":1}`, 400, nil)
	logs := e.logs.String()
	if !strings.Contains(logs, `"workspace":"acme"`) {
		t.Errorf("logs do not name the workspace:\n%s", logs)
	}
	for name, secret := range map[string]string{
		"admin key": e.admin, "admin key prefix": e.admin[:10], "acme key": strings.SplitN(e.keys["acme"], "_", 4)[3],
		"new key": strings.SplitN(k.Key, "_", 4)[3], "webhook secret": strings.TrimPrefix(rot.WebhookSecret, "whsec_"),
	} {
		if strings.Contains(logs, secret) {
			t.Errorf("logs hold the %s:\n%s", name, logs)
		}
	}
}
