package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"strings"
	"testing"

	"vigie/internal/vigie"
)

func TestKeys_ShownOnceStoredHashed(t *testing.T) {
	e := setup(t, nil)
	var created createdKey
	e.do(t, "POST", "/v1/keys", e.keys["acme"], `{"name":"zapier"}`, http.StatusCreated, &created)
	if !strings.HasPrefix(created.Key, "vk_acme_"+created.ID+"_") || created.Name != "zapier" || !created.CreatedAt.Equal(t0) || created.RevokedAt != nil {
		t.Fatalf("created %+v", created.keyView)
	}
	secret := strings.SplitN(created.Key, "_", 4)[3]
	if len(secret) != keySecretLen {
		t.Errorf("secret is %d characters, want %d", len(secret), keySecretLen)
	}
	sum := sha256.Sum256([]byte(secret))

	// The store holds the hash, not the key.
	stored, err := e.store.GetAPIKey(context.Background(), "acme", created.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(stored.Hash, sum[:]) {
		t.Errorf("stored hash is not SHA-256 of the secret")
	}

	// The listing shows neither the key, its secret, nor its hash.
	a := e.do(t, "GET", "/v1/keys", e.keys["acme"], "", http.StatusOK, nil)
	for name, s := range map[string]string{
		"secret": secret, "hash (hex)": hex.EncodeToString(sum[:]), "hash (base64)": base64.StdEncoding.EncodeToString(sum[:]),
		"key field": `"key"`, "hash field": `"hash"`,
	} {
		if bytes.Contains(a.body, []byte(s)) {
			t.Errorf("listing shows the %s: %s", name, a.body)
		}
	}
	if !bytes.Contains(a.body, []byte(created.ID)) || !bytes.Contains(a.body, []byte(`"revoked_at":null`)) {
		t.Errorf("listing lacks the new key: %s", a.body)
	}

	// The key works, until revoked; revoking twice is fine.
	e.do(t, "GET", "/v1/workspace", created.Key, "", http.StatusOK, nil)
	e.do(t, "DELETE", "/v1/keys/"+created.ID, e.keys["acme"], "", http.StatusNoContent, nil)
	e.do(t, "DELETE", "/v1/keys/"+created.ID, e.keys["acme"], "", http.StatusNoContent, nil)
	if a := e.do(t, "GET", "/v1/workspace", created.Key, "", http.StatusUnauthorized, nil); a.code() != "revoked_key" {
		t.Errorf("code %q, want revoked_key", a.code())
	}
	var list struct{ Keys []keyView }
	e.do(t, "GET", "/v1/keys", e.keys["acme"], "", http.StatusOK, &list)
	for _, k := range list.Keys {
		if k.ID == created.ID && (k.RevokedAt == nil || !k.RevokedAt.Equal(t0)) {
			t.Errorf("revoked key listed as %+v", k)
		}
	}
}

func TestKeys_Create_Invalid(t *testing.T) {
	e := setup(t, nil)
	tests := []struct {
		name, body  string
		code, field string
	}{
		{"no name", `{}`, "field_missing", "name"},
		{"blank name", `{"name":"   "}`, "field_missing", "name"},
		{"long name", `{"name":"` + strings.Repeat("n", MaxNameLen+1) + `"}`, "invalid", "name"},
		{"unknown field", `{"name":"x","workspace":"globex"}`, "invalid", ""},
		{"not JSON", `name=x`, "invalid", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := e.do(t, "POST", "/v1/keys", e.keys["acme"], tt.body, http.StatusBadRequest, nil)
			if a.code() != tt.code || a.field() != tt.field {
				t.Errorf("code %q field %q, want %q %q", a.code(), a.field(), tt.code, tt.field)
			}
		})
	}
	if ids := e.keyIDs(t, e.keys["globex"]); len(ids) != 1 {
		t.Errorf("globex has %d keys, want 1", len(ids))
	}
}

// TestKeys_RevokeLast: a workspace cannot lock itself out.
func TestKeys_RevokeLast(t *testing.T) {
	e := setup(t, nil)
	own := keyID(e.keys["globex"])
	if a := e.do(t, "DELETE", "/v1/keys/"+own, e.keys["globex"], "", http.StatusConflict, nil); a.code() != "last_key" {
		t.Errorf("code %q, want last_key", a.code())
	}
	var spare createdKey
	e.do(t, "POST", "/v1/keys", e.keys["globex"], `{"name":"spare"}`, http.StatusCreated, &spare)
	// Revoking the key in use is allowed while another lives.
	e.do(t, "DELETE", "/v1/keys/"+own, e.keys["globex"], "", http.StatusNoContent, nil)
	e.do(t, "GET", "/v1/keys", e.keys["globex"], "", http.StatusUnauthorized, nil)
	if a := e.do(t, "DELETE", "/v1/keys/"+spare.ID, spare.Key, "", http.StatusConflict, nil); a.code() != "last_key" {
		t.Errorf("code %q, want last_key", a.code())
	}
}

func TestParseKey(t *testing.T) {
	id, full, hash := newKey("acme")
	ws, gotID, gotHash, ok := parseKey(full)
	if !ok || ws != "acme" || gotID != id || !bytes.Equal(gotHash, hash) {
		t.Fatalf("parseKey(newKey) = %q %q %v", ws, gotID, ok)
	}
	secret := strings.SplitN(full, "_", 4)[3]
	for _, bad := range []string{
		"", "vk", "vk_acme", "vk_acme_" + id, "vk_acme_" + id + "_",
		"xk_acme_" + id + "_" + secret, "vk_Acme_" + id + "_" + secret, "vk_a_" + id + "_" + secret,
		"vk_acme_" + strings.ToUpper(id) + "_" + secret, "vk_acme_" + id[1:] + "_" + secret,
		"vk_acme_" + id + "_" + secret + "x", "vk_acme_" + id + "_" + secret[1:],
	} {
		if _, _, _, ok := parseKey(bad); ok {
			t.Errorf("parseKey(%q) accepted it", bad)
		}
	}
}

func TestEqualSecret(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		want bool
	}{{"same", "same", true}, {"same", "Same", false}, {"short", "a much longer one", false}, {"", "", true}} {
		if got := equalSecret(tt.a, tt.b); got != tt.want {
			t.Errorf("equalSecret(%q, %q) = %v", tt.a, tt.b, got)
		}
	}
}

var _ vigie.Store = (*faultyStore)(nil)
