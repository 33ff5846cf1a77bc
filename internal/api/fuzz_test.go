package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"vigie/internal/secrets"
	"vigie/internal/store"
	"vigie/internal/vigie"
)

// sampleBodies returns the request bodies of the samples in events/api.
func sampleBodies(f *testing.F) [][]byte {
	f.Helper()
	files, err := filepath.Glob(filepath.Join(sampleDir, "*.json"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no samples in %s: %v", sampleDir, err)
	}
	var bodies [][]byte
	for _, file := range files {
		raw, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		var ev events.APIGatewayV2HTTPRequest
		if err := json.Unmarshal(raw, &ev); err != nil {
			f.Fatalf("%s: %v", file, err)
		}
		if ev.Body != "" {
			bodies = append(bodies, []byte(ev.Body))
		}
	}
	return bodies
}

// fuzzEnv is the API, called in process, over a bolt store that holds
// workspace acme with one key and a few mentions, and on which creations
// are dry runs: the fuzzer replays an input to minimize it, and the replay
// must meet the same store. Logs are discarded: fuzzing runs for hours.
func fuzzEnv(f *testing.F) *env {
	f.Helper()
	ctx := context.Background()
	e := &env{secrets: newSecrets(f), store: newBolt(f), keys: map[string]string{}, logs: &syncBuffer{}}
	admin, err := e.secrets.Get(ctx, secrets.AdminKey)
	if err != nil {
		f.Fatal(err)
	}
	e.admin = admin.Reveal()
	if err := e.store.CreateWorkspace(ctx, &vigie.Workspace{ID: "acme", Name: "Acme", CreatedAt: t0, SecretGeneration: 1}); err != nil {
		f.Fatal(err)
	}
	id, full, hash := newKey("acme")
	if err := e.store.CreateAPIKey(ctx, &vigie.APIKey{Workspace: "acme", ID: id, Name: "default", Hash: hash, CreatedAt: t0}); err != nil {
		f.Fatal(err)
	}
	e.keys["acme"] = full
	e.addMentions(f, "acme", 3)
	e.h = NewServer(Deps{Store: dryRunStore{e.store}, Secrets: e.secrets, Clock: clock})
	return e
}

// dryRunStore checks creations as the store would, and keeps none.
type dryRunStore struct{ vigie.Store }

func (d dryRunStore) CreateWorkspace(ctx context.Context, w *vigie.Workspace) error {
	if err := store.CheckWorkspace(w); err != nil {
		return err
	}
	_, err := d.GetWorkspace(ctx, w.ID)
	switch {
	case err == nil:
		return vigie.Errorf(vigie.KindConflict, "workspace exists")
	case vigie.IsKind(err, vigie.KindNotFound):
		return nil
	}
	return err
}

func (d dryRunStore) CreateAPIKey(_ context.Context, k *vigie.APIKey) error {
	return store.CheckAPIKey(k)
}

// FuzzCreateWorkspace: whatever the body, the admin's POST /v1/workspaces
// answers 201 with a workspace and its key, or 4xx with a JSON error code;
// never a panic or a 5xx.
func FuzzCreateWorkspace(f *testing.F) {
	for _, b := range sampleBodies(f) {
		f.Add(b)
	}
	for _, s := range []string{
		`{"id":"acme2","name":"Acme"}`, `{"id":"acme","name":"again"}`, `{"id":""}`, `{}`, `[]`, `null`, `""`,
		`{"id":"a","name":"b","x":1}`, `{"id":"ok-id","name":"\u0000"}`, `{"id":"ok-id","name":"x"} {}`,
		`{"ID":"case-id","NAME":"x"}`, `{"id":"ok-id","name":"x","id":"dup-id"}`, "\xff", `{"id":"\xff\xfe","name":"x"}`,
	} {
		f.Add([]byte(s))
	}
	e := fuzzEnv(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		a := e.do(t, "POST", "/v1/workspaces", e.admin, string(body), 0, nil)
		switch {
		case a.status == http.StatusCreated:
			var out createdWorkspace
			if err := json.Unmarshal(a.body, &out); err != nil || out.Workspace == nil {
				t.Fatalf("201 body %s: %v", a.body, err)
			}
			if ws, _, _, ok := parseKey(out.APIKey); !ok || ws != out.Workspace.ID || !vigie.ValidID(ws) {
				t.Fatalf("201 for %q with a key that is not its own", out.Workspace.ID)
			}
		case a.status >= 400 && a.status < 500:
			if a.code() == "" {
				t.Fatalf("status %d without an error code: %s", a.status, a.body)
			}
		default:
			t.Fatalf("status %d for %q: %s", a.status, body, a.body)
		}
	})
}

// FuzzCreateKey: the same for a workspace's POST /v1/keys.
func FuzzCreateKey(f *testing.F) {
	for _, b := range sampleBodies(f) {
		f.Add(b)
	}
	for _, s := range []string{`{"name":"ci"}`, `{"name":""}`, `{"name":" x "}`, `{"name":1}`, `{"workspace":"globex","name":"x"}`} {
		f.Add([]byte(s))
	}
	e := fuzzEnv(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		a := e.do(t, "POST", "/v1/keys", e.keys["acme"], string(body), 0, nil)
		switch {
		case a.status == http.StatusCreated:
			var out createdKey
			if err := json.Unmarshal(a.body, &out); err != nil {
				t.Fatalf("201 body %s: %v", a.body, err)
			}
			if ws, id, _, ok := parseKey(out.Key); !ok || ws != "acme" || id != out.ID {
				t.Fatalf("created key %q is not acme's", out.ID)
			}
		case a.status < 400 || a.status >= 500 || a.code() == "":
			t.Fatalf("status %d for %q: %s", a.status, body, a.body)
		}
	})
}

// FuzzMentionsQuery: any query string gets a 200 or a 400 naming the
// parameter at fault.
func FuzzMentionsQuery(f *testing.F) {
	for _, s := range []string{
		"", "since=2026-11-01T00:00:00Z&limit=50", "until=2026-11-20T09:00:00%2B01:00", "limit=0", "limit=99999999999999999999",
		"cursor=abc", "since=9999-12-31T23:59:59.999999999Z", "since=0000-01-01T00:00:00Z", "since=%ff", "a=1;b=2",
	} {
		f.Add(s)
	}
	e := fuzzEnv(f)
	f.Fuzz(func(t *testing.T, query string) {
		a := e.do(t, "GET", "/v1/mentions?"+url.PathEscape(query), e.keys["acme"], "", 0, nil)
		switch a.status {
		case http.StatusOK:
		case http.StatusBadRequest:
			if a.field() == "" {
				t.Fatalf("400 without a field for %q: %s", query, a.body)
			}
		default:
			t.Fatalf("status %d for %q: %s", a.status, query, a.body)
		}
	})
}
