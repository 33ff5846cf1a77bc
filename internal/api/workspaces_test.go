package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"vigie/internal/secrets"
	"vigie/internal/vigie"
	"vigie/internal/webhook"
)

func TestCreateWorkspace(t *testing.T) {
	e := setup(t, nil)
	var out createdWorkspace
	e.do(t, "POST", "/v1/workspaces", e.admin, `{"id":"maison-lumen","name":"  Maison Lumen "}`, http.StatusCreated, &out)
	want := &vigie.Workspace{ID: "maison-lumen", Name: "Maison Lumen", CreatedAt: t0, SecretGeneration: 1}
	if diff := cmp.Diff(want, out.Workspace); diff != "" {
		t.Errorf("workspace (-want +got):\n%s", diff)
	}
	master, _ := e.secrets.Get(context.Background(), secrets.MasterSecret)
	if got, want := out.WebhookSecret, webhook.Secret(secrets.WebhookSecret(master, "maison-lumen", 1)).Encode(); got != want {
		t.Errorf("webhook secret is not the one derived for generation 1")
	}
	if !strings.HasPrefix(out.APIKey, "vk_maison-lumen_") {
		t.Errorf("api key %q does not name its workspace", keyID(out.APIKey))
	}
	var keys struct{ Keys []keyView }
	e.do(t, "GET", "/v1/keys", out.APIKey, "", http.StatusOK, &keys)
	if len(keys.Keys) != 1 || keys.Keys[0].Name != "default" || keys.Keys[0].ID != keyID(out.APIKey) {
		t.Errorf("keys = %+v, want the one default key", keys.Keys)
	}
	stored, err := e.store.GetWorkspace(context.Background(), "maison-lumen")
	if err != nil || stored.Name != "Maison Lumen" || stored.SecretGeneration != 1 {
		t.Errorf("stored %+v, %v", stored, err)
	}
}

func TestCreateWorkspace_Invalid(t *testing.T) {
	e := setup(t, nil)
	tests := []struct {
		name, body  string
		want        int
		code, field string
	}{
		{"duplicate id", `{"id":"acme","name":"acme corp"}`, 409, "workspace_exists", "id"},
		{"duplicate id, other name", `{"id":"globex","name":"Impostor"}`, 409, "workspace_exists", "id"},
		{"no id", `{"name":"x"}`, 400, "field_missing", "id"},
		{"bad id", `{"id":"Bad_Id","name":"x"}`, 400, "invalid", "id"},
		{"id starting with a dash", `{"id":"-ab","name":"x"}`, 400, "invalid", "id"},
		{"id too long", `{"id":"` + strings.Repeat("a", 64) + `","name":"x"}`, 400, "invalid", "id"},
		{"no name", `{"id":"okid"}`, 400, "field_missing", "name"},
		{"blank name", `{"id":"okid","name":" \t"}`, 400, "field_missing", "name"},
		{"name too long", `{"id":"okid","name":"` + strings.Repeat("é", 201) + `"}`, 400, "invalid", "name"},
		{"control character", `{"id":"okid","name":"a\u0007b"}`, 400, "invalid", "name"},
		{"id of the wrong type", `{"id":5,"name":"x"}`, 400, "invalid", ""},
		{"unknown field", `{"id":"okid","name":"x","extra":1}`, 400, "invalid", ""},
		{"truncated", `{"id":`, 400, "invalid", ""},
		{"two objects", `{"id":"okid","name":"x"}{}`, 400, "invalid", ""},
		{"empty", ``, 400, "invalid", ""},
		{"array", `[]`, 400, "invalid", ""},
		{"too large", `{"id":"okid","name":"` + strings.Repeat("x", DefaultMaxBodyBytes) + `"}`, 413, "too_large", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := e.do(t, "POST", "/v1/workspaces", e.admin, tt.body, tt.want, nil)
			if a.code() != tt.code || a.field() != tt.field {
				t.Errorf("code %q field %q, want %q %q; body %s", a.code(), a.field(), tt.code, tt.field, a.body)
			}
		})
	}
	if _, err := e.store.GetWorkspace(context.Background(), "okid"); !vigie.IsKind(err, vigie.KindNotFound) {
		t.Errorf("an invalid request created okid: %v", err)
	}
	if ws, _ := e.store.GetWorkspace(context.Background(), "globex"); ws.Name != "globex corp" {
		t.Errorf("a duplicate changed globex: %+v", ws)
	}
}

// TestCreateWorkspace_Retry: a creation that failed after storing the
// workspace is completed by the same request sent again.
func TestCreateWorkspace_Retry(t *testing.T) {
	fail := true
	faults := &faultyStore{}
	faults.createAPIKey = func(ctx context.Context, k *vigie.APIKey) error {
		if fail && k.Workspace == "initech" {
			return errors.New("network down")
		}
		return faults.Store.CreateAPIKey(ctx, k)
	}
	e := setup(t, faults)
	body := `{"id":"initech","name":"Initech"}`
	if a := e.do(t, "POST", "/v1/workspaces", e.admin, body, http.StatusInternalServerError, nil); a.code() != "internal" {
		t.Errorf("code %q, want internal", a.code())
	}
	fail = false
	e.do(t, "POST", "/v1/workspaces", e.admin, `{"id":"initech","name":"Other"}`, http.StatusConflict, nil)
	var out createdWorkspace
	e.do(t, "POST", "/v1/workspaces", e.admin, body, http.StatusCreated, &out)
	e.do(t, "GET", "/v1/workspace", out.APIKey, "", http.StatusOK, nil)
	// Now it has a key: no more retries.
	e.do(t, "POST", "/v1/workspaces", e.admin, body, http.StatusConflict, nil)
}

func TestCreateWorkspace_SecretsMissing(t *testing.T) {
	e := setup(t, nil)
	if err := e.secrets.Set(secrets.MasterSecret, ""); err != nil {
		t.Fatal(err)
	}
	if a := e.do(t, "POST", "/v1/workspaces", e.admin, `{"id":"initech","name":"Initech"}`, http.StatusServiceUnavailable, nil); a.code() != "unavailable" {
		t.Errorf("code %q, want unavailable", a.code())
	}
	if _, err := e.store.GetWorkspace(context.Background(), "initech"); !vigie.IsKind(err, vigie.KindNotFound) {
		t.Errorf("workspace created without a master secret: %v", err)
	}
	if err := e.secrets.Set(secrets.AdminKey, ""); err != nil {
		t.Fatal(err)
	}
	e.do(t, "POST", "/v1/workspaces", e.admin, `{"id":"initech","name":"Initech"}`, http.StatusServiceUnavailable, nil)
}

type rotation struct {
	WebhookSecret string `json:"webhook_secret"`
	Generation    int    `json:"generation"`
}

func TestRotateWebhookSecret(t *testing.T) {
	e := setup(t, nil)
	var a, b rotation
	e.do(t, "POST", "/v1/workspace/webhook-secret", e.keys["acme"], "", http.StatusOK, &a)
	e.do(t, "POST", "/v1/workspace/webhook-secret", e.keys["acme"], "", http.StatusOK, &b)
	if a.Generation != 2 || b.Generation != 3 || a.WebhookSecret == b.WebhookSecret {
		t.Errorf("rotations = %+v, %+v; want generations 2 then 3, different secrets", a, b)
	}
	if b.WebhookSecret != e.webhookSecret(t, "acme", 3) {
		t.Error("answered secret is not generation 3's")
	}
	ws, _ := e.store.GetWorkspace(context.Background(), "acme")
	if ws.SecretGeneration != 3 {
		t.Errorf("stored generation %d, want 3", ws.SecretGeneration)
	}
	if g, _ := e.store.GetWorkspace(context.Background(), "globex"); g.SecretGeneration != 1 {
		t.Errorf("globex rotated too: generation %d", g.SecretGeneration)
	}
}

// TestRotateWebhookSecret_Concurrent: an update that loses the optimistic
// concurrency race re-reads and bumps again; no rotation is lost.
func TestRotateWebhookSecret_Concurrent(t *testing.T) {
	t.Run("a rotation lands between read and write", func(t *testing.T) {
		faults := &faultyStore{}
		raced := false
		faults.updateWorkspace = func(ctx context.Context, w *vigie.Workspace) error {
			if !raced {
				raced = true
				other, _ := faults.Store.GetWorkspace(ctx, w.ID)
				other.SecretGeneration += 10
				if err := faults.Store.UpdateWorkspace(ctx, other); err != nil {
					t.Errorf("racing update: %v", err)
				}
			}
			return faults.Store.UpdateWorkspace(ctx, w)
		}
		e := setup(t, faults)
		var r rotation
		e.do(t, "POST", "/v1/workspace/webhook-secret", e.keys["acme"], "", http.StatusOK, &r)
		if r.Generation != 12 || r.WebhookSecret != e.webhookSecret(t, "acme", 12) {
			t.Errorf("rotation = generation %d; want 12 (1, raced to 11, then bumped)", r.Generation)
		}
	})
	t.Run("parallel rotations", func(t *testing.T) {
		e := setup(t, nil)
		const n = 4 // each loses at most n-1 races: within the retries
		var wg sync.WaitGroup
		answers := make([]answer, n)
		for i := range n {
			// Status checked below: t.Fatal belongs to the test's goroutine.
			wg.Go(func() { answers[i] = e.do(t, "POST", "/v1/workspace/webhook-secret", e.keys["acme"], "", 0, nil) })
		}
		wg.Wait()
		seen := map[int]bool{}
		var got []rotation
		for _, a := range answers {
			var r rotation
			if err := json.Unmarshal(a.body, &r); err != nil || a.status != http.StatusOK {
				t.Fatalf("rotation answered %d %s", a.status, a.body)
			}
			seen[r.Generation] = true
			got = append(got, r)
		}
		if len(seen) != n {
			t.Errorf("generations %v; want %d distinct", got, n)
		}
		if ws, _ := e.store.GetWorkspace(context.Background(), "acme"); ws.SecretGeneration != 1+n {
			t.Errorf("stored generation %d, want %d", ws.SecretGeneration, 1+n)
		}
	})
	t.Run("always losing", func(t *testing.T) {
		faults := &faultyStore{updateWorkspace: func(context.Context, *vigie.Workspace) error {
			return vigie.Errorf(vigie.KindConflict, "version changed")
		}}
		e := setup(t, faults)
		if a := e.do(t, "POST", "/v1/workspace/webhook-secret", e.keys["acme"], "", http.StatusConflict, nil); a.code() != "busy" {
			t.Errorf("code %q, want busy", a.code())
		}
	})
}
