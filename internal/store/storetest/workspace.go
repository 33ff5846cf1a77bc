package storetest

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"vigie/internal/vigie"
)

var workspaceTests = []subtest{
	{"CreateGet", testWorkspaceCreateGet},
	{"CreateDuplicate", testWorkspaceCreateDuplicate},
	{"GetNotFound", testWorkspaceGetNotFound},
	{"Update", testWorkspaceUpdate},
	{"UpdateStale", testWorkspaceUpdateStale},
	{"UpdateMissing", testWorkspaceUpdateMissing},
	{"UpdateConcurrent", testWorkspaceUpdateConcurrent},
	{"Invalid", testWorkspaceInvalid},
	{"List", testWorkspaceList},
}

func testWorkspaceList(t *testing.T, e *env) {
	got, err := e.ListWorkspaces(e.ctx)
	if err != nil || len(got) != 0 {
		t.Fatalf("ListWorkspaces on an empty store = %v, %v; want none", got, err)
	}
	var want []*vigie.Workspace
	for _, id := range []string{"globex", "acme", "acme-2", "0day"} {
		want = append(want, e.mustCreateWorkspace(t, id))
	}
	want = []*vigie.Workspace{want[3], want[1], want[2], want[0]}
	// Things stored for a workspace that was never created do not make it
	// one.
	e.mustCreateMentions(t, "initech", newMention("initech", "m1", t0))
	e.mustCreateKey(t, newKey("initech", "k1", t0))
	// An update shows.
	want[1].Name = "Acme Inc"
	if err := e.UpdateWorkspace(e.ctx, want[1]); err != nil {
		t.Fatal(err)
	}
	got, err = e.ListWorkspaces(e.ctx)
	if err != nil {
		t.Fatalf("ListWorkspaces: %v", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ListWorkspaces mismatch, want all by id (-want +got):\n%s", diff)
	}
}

func testWorkspaceCreateGet(t *testing.T, e *env) {
	// A non-UTC creation time must come back as the same instant.
	paris := time.FixedZone("CET", 3600)
	want := &vigie.Workspace{ID: "acme", Name: "Acme", CreatedAt: t0.In(paris).Add(123), SecretGeneration: 2, Version: 1}
	in := *want
	if err := e.CreateWorkspace(e.ctx, &in); err != nil {
		t.Fatalf("CreateWorkspace: %v", err)
	}
	got, err := e.GetWorkspace(e.ctx, "acme")
	if err != nil {
		t.Fatalf("GetWorkspace: %v", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("GetWorkspace mismatch (-want +got):\n%s", diff)
	}
}

func testWorkspaceCreateDuplicate(t *testing.T, e *env) {
	first := e.mustCreateWorkspace(t, "acme")
	err := e.CreateWorkspace(e.ctx, &vigie.Workspace{ID: "acme", Name: "Impostor", SecretGeneration: 9, Version: 7})
	wantKind(t, err, vigie.KindConflict)
	got, err := e.GetWorkspace(e.ctx, "acme")
	if err != nil {
		t.Fatalf("GetWorkspace: %v", err)
	}
	if diff := cmp.Diff(first, got); diff != "" {
		t.Errorf("a duplicate create changed the stored workspace (-want +got):\n%s", diff)
	}
}

func testWorkspaceGetNotFound(t *testing.T, e *env) {
	e.mustCreateWorkspace(t, "acme")
	_, err := e.GetWorkspace(e.ctx, "acme-2")
	wantKind(t, err, vigie.KindNotFound)
}

func testWorkspaceUpdate(t *testing.T, e *env) {
	e.mustCreateWorkspace(t, "acme")
	w, err := e.GetWorkspace(e.ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	before := w.Version
	w.Name, w.SecretGeneration = "Acme Inc", 3
	if err := e.UpdateWorkspace(e.ctx, w); err != nil {
		t.Fatalf("UpdateWorkspace: %v", err)
	}
	if w.Version != before+1 {
		t.Errorf("after update, Version = %d, want %d", w.Version, before+1)
	}
	got, err := e.GetWorkspace(e.ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(w, got); diff != "" {
		t.Errorf("stored workspace mismatch (-want +got):\n%s", diff)
	}
	// A second update from the fresh copy succeeds too.
	got.Name = "Acme SA"
	if err := e.UpdateWorkspace(e.ctx, got); err != nil {
		t.Fatalf("second UpdateWorkspace: %v", err)
	}
	if got.Version != before+2 {
		t.Errorf("after two updates, Version = %d, want %d", got.Version, before+2)
	}
}

func testWorkspaceUpdateStale(t *testing.T, e *env) {
	e.mustCreateWorkspace(t, "acme")
	a, _ := e.GetWorkspace(e.ctx, "acme")
	b, _ := e.GetWorkspace(e.ctx, "acme")
	a.Name = "first"
	if err := e.UpdateWorkspace(e.ctx, a); err != nil {
		t.Fatalf("UpdateWorkspace: %v", err)
	}
	b.Name = "second"
	staleVersion := b.Version
	wantKind(t, e.UpdateWorkspace(e.ctx, b), vigie.KindConflict)
	if b.Version != staleVersion {
		t.Errorf("a rejected update changed the caller's Version to %d", b.Version)
	}
	got, _ := e.GetWorkspace(e.ctx, "acme")
	if diff := cmp.Diff(a, got); diff != "" {
		t.Errorf("a stale update changed the stored workspace (-want +got):\n%s", diff)
	}
	// A version from the future is just as stale.
	a.Version += 5
	wantKind(t, e.UpdateWorkspace(e.ctx, a), vigie.KindConflict)
}

func testWorkspaceUpdateMissing(t *testing.T, e *env) {
	err := e.UpdateWorkspace(e.ctx, &vigie.Workspace{ID: "ghost", Name: "Ghost"})
	wantKind(t, err, vigie.KindNotFound)
	_, err = e.GetWorkspace(e.ctx, "ghost")
	wantKind(t, err, vigie.KindNotFound)
}

func testWorkspaceUpdateConcurrent(t *testing.T, e *env) {
	e.mustCreateWorkspace(t, "acme")
	base, _ := e.GetWorkspace(e.ctx, "acme")
	const n = 8
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			w := *base
			w.SecretGeneration = i + 10
			errs[i] = e.UpdateWorkspace(e.ctx, &w)
		})
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case vigie.IsKind(err, vigie.KindConflict):
		default:
			t.Errorf("concurrent UpdateWorkspace: %v, want nil or Conflict", err)
		}
	}
	if won != 1 {
		t.Errorf("%d of %d concurrent updates from the same version succeeded, want exactly 1", won, n)
	}
	got, _ := e.GetWorkspace(e.ctx, "acme")
	if got.Version != base.Version+1 {
		t.Errorf("Version = %d after concurrent updates, want %d", got.Version, base.Version+1)
	}
}

func testWorkspaceInvalid(t *testing.T, e *env) {
	tests := []struct {
		name string
		call func() error
	}{
		{"create nil", func() error { return e.CreateWorkspace(e.ctx, nil) }},
		{"create empty id", func() error { return e.CreateWorkspace(e.ctx, &vigie.Workspace{Name: "x"}) }},
		{"create bad id", func() error { return e.CreateWorkspace(e.ctx, &vigie.Workspace{ID: "Acme#1"}) }},
		{"create time past year 9999", func() error {
			return e.CreateWorkspace(e.ctx, &vigie.Workspace{ID: "acme", CreatedAt: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)})
		}},
		{"create name too long", func() error {
			return e.CreateWorkspace(e.ctx, &vigie.Workspace{ID: "acme", Name: strings.Repeat("n", 1025)})
		}},
		{"get empty id", func() error { _, err := e.GetWorkspace(e.ctx, ""); return err }},
		{"get bad id", func() error { _, err := e.GetWorkspace(e.ctx, "../etc"); return err }},
		{"update nil", func() error { return e.UpdateWorkspace(e.ctx, nil) }},
		{"update empty id", func() error { return e.UpdateWorkspace(e.ctx, &vigie.Workspace{}) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { wantKind(t, tt.call(), vigie.KindInvalid) })
	}
}
