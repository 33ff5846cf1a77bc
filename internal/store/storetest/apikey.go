package storetest

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"vigie/internal/vigie"
)

var apiKeyTests = []subtest{
	{"CreateGet", testAPIKeyCreateGet},
	{"CreateDuplicate", testAPIKeyCreateDuplicate},
	{"GetNotFound", testAPIKeyGetNotFound},
	{"List", testAPIKeyList},
	{"Update", testAPIKeyUpdate},
	{"UpdateStaleOrMissing", testAPIKeyUpdateStaleOrMissing},
	{"Invalid", testAPIKeyInvalid},
}

func newKey(ws, id string, createdAt time.Time) *vigie.APIKey {
	return &vigie.APIKey{Workspace: ws, ID: id, Name: "key " + id, Hash: []byte("hash-of-" + id), CreatedAt: createdAt}
}

func (e *env) mustCreateKey(t *testing.T, k *vigie.APIKey) {
	t.Helper()
	if err := e.CreateAPIKey(e.ctx, k); err != nil {
		t.Fatalf("CreateAPIKey(%q, %q): %v", k.Workspace, k.ID, err)
	}
}

func testAPIKeyCreateGet(t *testing.T, e *env) {
	used := t0.Add(time.Hour)
	want := newKey("acme", "k1", t0)
	want.LastUsedAt = &used
	want.Version = 1
	in := *want
	e.mustCreateKey(t, &in)
	got, err := e.GetAPIKey(e.ctx, "acme", "k1")
	if err != nil {
		t.Fatalf("GetAPIKey: %v", err)
	}
	// The hash, not serialized to API clients, must still be stored.
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("GetAPIKey mismatch (-want +got):\n%s", diff)
	}
}

func testAPIKeyCreateDuplicate(t *testing.T, e *env) {
	first := newKey("acme", "k1", t0)
	e.mustCreateKey(t, first)
	dup := newKey("acme", "k1", t0.Add(time.Minute))
	dup.Hash = []byte("another secret")
	wantKind(t, e.CreateAPIKey(e.ctx, dup), vigie.KindConflict)
	got, err := e.GetAPIKey(e.ctx, "acme", "k1")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(first, got); diff != "" {
		t.Errorf("a duplicate create changed the stored key (-want +got):\n%s", diff)
	}
	// The same id in another workspace is another key.
	e.mustCreateKey(t, newKey("globex", "k1", t0))
}

func testAPIKeyGetNotFound(t *testing.T, e *env) {
	e.mustCreateKey(t, newKey("acme", "k1", t0))
	_, err := e.GetAPIKey(e.ctx, "acme", "k2")
	wantKind(t, err, vigie.KindNotFound)
	_, err = e.GetAPIKey(e.ctx, "globex", "k1")
	wantKind(t, err, vigie.KindNotFound)
}

func testAPIKeyList(t *testing.T, e *env) {
	if keys, err := e.ListAPIKeys(e.ctx, "acme"); err != nil || len(keys) != 0 {
		t.Fatalf("ListAPIKeys on an empty workspace = %v, %v; want none", keys, err)
	}
	revoked := t0.Add(2 * time.Hour)
	keys := []*vigie.APIKey{
		newKey("acme", "k-c", t0),
		newKey("acme", "k-a", t0.Add(time.Hour)),
		newKey("acme", "k-b", t0), // same time as k-c: ties go by id
		newKey("acme", "k-d", t0.Add(-time.Hour)),
	}
	keys[1].RevokedAt = &revoked
	for _, k := range keys {
		e.mustCreateKey(t, k)
	}
	e.mustCreateKey(t, newKey("globex", "k-z", t0))
	got, err := e.ListAPIKeys(e.ctx, "acme")
	if err != nil {
		t.Fatalf("ListAPIKeys: %v", err)
	}
	want := []*vigie.APIKey{keys[3], keys[2], keys[0], keys[1]}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ListAPIKeys mismatch, want oldest first, revoked included (-want +got):\n%s", diff)
	}
}

func testAPIKeyUpdate(t *testing.T, e *env) {
	e.mustCreateKey(t, newKey("acme", "k1", t0))
	k, err := e.GetAPIKey(e.ctx, "acme", "k1")
	if err != nil {
		t.Fatal(err)
	}
	before := k.Version
	revoked := t0.Add(time.Hour)
	k.RevokedAt = &revoked
	if err := e.UpdateAPIKey(e.ctx, k); err != nil {
		t.Fatalf("UpdateAPIKey: %v", err)
	}
	if k.Version != before+1 {
		t.Errorf("Version = %d after update, want %d", k.Version, before+1)
	}
	got, _ := e.GetAPIKey(e.ctx, "acme", "k1")
	if diff := cmp.Diff(k, got); diff != "" {
		t.Errorf("stored key mismatch (-want +got):\n%s", diff)
	}
}

func testAPIKeyUpdateStaleOrMissing(t *testing.T, e *env) {
	e.mustCreateKey(t, newKey("acme", "k1", t0))
	a, _ := e.GetAPIKey(e.ctx, "acme", "k1")
	b, _ := e.GetAPIKey(e.ctx, "acme", "k1")
	used := t0.Add(time.Minute)
	a.LastUsedAt = &used
	if err := e.UpdateAPIKey(e.ctx, a); err != nil {
		t.Fatalf("UpdateAPIKey: %v", err)
	}
	b.Name = "renamed"
	wantKind(t, e.UpdateAPIKey(e.ctx, b), vigie.KindConflict)
	got, _ := e.GetAPIKey(e.ctx, "acme", "k1")
	if diff := cmp.Diff(a, got); diff != "" {
		t.Errorf("a stale update changed the stored key (-want +got):\n%s", diff)
	}

	wantKind(t, e.UpdateAPIKey(e.ctx, newKey("acme", "k2", t0)), vigie.KindNotFound)
	// Updating through another workspace finds nothing, and creates nothing.
	other := *got
	other.Workspace = "globex"
	wantKind(t, e.UpdateAPIKey(e.ctx, &other), vigie.KindNotFound)
	_, err := e.GetAPIKey(e.ctx, "globex", "k1")
	wantKind(t, err, vigie.KindNotFound)
}

func testAPIKeyInvalid(t *testing.T, e *env) {
	tests := []struct {
		name string
		call func() error
	}{
		{"create nil", func() error { return e.CreateAPIKey(e.ctx, nil) }},
		{"create no workspace", func() error { return e.CreateAPIKey(e.ctx, newKey("", "k1", t0)) }},
		{"create bad workspace", func() error { return e.CreateAPIKey(e.ctx, newKey("A B", "k1", t0)) }},
		{"create no id", func() error { return e.CreateAPIKey(e.ctx, newKey("acme", "", t0)) }},
		{"create id with space", func() error { return e.CreateAPIKey(e.ctx, newKey("acme", "k 1", t0)) }},
		{"create revoked past year 9999", func() error {
			k := newKey("acme", "k1", t0)
			revoked := time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
			k.RevokedAt = &revoked
			return e.CreateAPIKey(e.ctx, k)
		}},
		{"get no workspace", func() error { _, err := e.GetAPIKey(e.ctx, "", "k1"); return err }},
		{"get no id", func() error { _, err := e.GetAPIKey(e.ctx, "acme", ""); return err }},
		{"list no workspace", func() error { _, err := e.ListAPIKeys(e.ctx, ""); return err }},
		{"update nil", func() error { return e.UpdateAPIKey(e.ctx, nil) }},
		{"update no id", func() error { return e.UpdateAPIKey(e.ctx, newKey("acme", "", t0)) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { wantKind(t, tt.call(), vigie.KindInvalid) })
	}
}
