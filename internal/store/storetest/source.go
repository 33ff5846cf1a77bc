package storetest

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"vigie/internal/vigie"
)

var sourceTests = []subtest{
	{"PutGet", testSourcePutGet},
	{"PutVersions", testSourcePutVersions},
	{"List", testSourceList},
	{"Delete", testSourceDelete},
	{"Invalid", testSourceInvalid},
}

// newSource returns a never-saved source of ws with every field set.
func newSource(ws, id string) *vigie.Source {
	return &vigie.Source{
		Workspace: ws, ID: id, Cursor: "opaque:cursor/" + id + "?max_id=109",
		NextPollAt: t0.Add(5 * time.Minute), LastPollAt: t0, LastOKAt: t0.Add(-time.Hour),
		LastError: "mastodon: 503 Service Unavailable", Failures: 2, LastCreated: 7,
	}
}

func (e *env) mustPutSource(t *testing.T, s *vigie.Source) {
	t.Helper()
	if err := e.PutSource(e.ctx, s); err != nil {
		t.Fatalf("PutSource(%q, %q, version %d): %v", s.Workspace, s.ID, s.Version, err)
	}
}

func testSourcePutGet(t *testing.T, e *env) {
	_, err := e.GetSource(e.ctx, "acme", "src_1")
	wantKind(t, err, vigie.KindNotFound)
	want := newSource("acme", "src_1")
	want.NextPollAt = want.NextPollAt.In(time.FixedZone("CET", 3600)).Add(9)
	e.mustPutSource(t, want)
	if want.Version != 1 {
		t.Errorf("Version after the first PutSource = %d, want 1", want.Version)
	}
	got, err := e.GetSource(e.ctx, "acme", "src_1")
	if err != nil {
		t.Fatalf("GetSource: %v", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("GetSource mismatch (-want +got):\n%s", diff)
	}
	// Zero times and empty fields round-trip as such.
	bare := &vigie.Source{Workspace: "acme", ID: "feed:https://example.test/feed.xml"}
	e.mustPutSource(t, bare)
	got, err = e.GetSource(e.ctx, "acme", bare.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(bare, got); diff != "" {
		t.Errorf("GetSource of a bare source mismatch (-want +got):\n%s", diff)
	}
}

func testSourcePutVersions(t *testing.T, e *env) {
	s := newSource("acme", "src_1")
	e.mustPutSource(t, s)

	// Creating it again is a conflict; the stored one stands.
	again := newSource("acme", "src_1")
	again.Cursor = "other"
	wantKind(t, e.PutSource(e.ctx, again), vigie.KindConflict)
	if again.Version != 0 {
		t.Errorf("a refused create changed Version to %d", again.Version)
	}

	stale := *s
	s.Cursor, s.Failures, s.LastError = "next", 0, ""
	e.mustPutSource(t, s)
	if s.Version != 2 {
		t.Errorf("Version after an update = %d, want 2", s.Version)
	}
	stale.Cursor = "stale"
	wantKind(t, e.PutSource(e.ctx, &stale), vigie.KindConflict)
	if stale.Version != 1 {
		t.Errorf("a refused update changed Version to %d", stale.Version)
	}
	future := *s
	future.Version = 9
	wantKind(t, e.PutSource(e.ctx, &future), vigie.KindConflict)
	got, err := e.GetSource(e.ctx, "acme", "src_1")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(s, got); diff != "" {
		t.Errorf("stored source after refused puts (-want +got):\n%s", diff)
	}
	// An update of a source that is not there is a conflict too (it was
	// deleted meanwhile), and creates nothing.
	gone := newSource("acme", "src_gone")
	gone.Version = 3
	wantKind(t, e.PutSource(e.ctx, gone), vigie.KindConflict)
	other := *s
	other.Workspace = "globex"
	wantKind(t, e.PutSource(e.ctx, &other), vigie.KindConflict)
	for _, ref := range [][2]string{{"acme", "src_gone"}, {"globex", "src_1"}} {
		_, err := e.GetSource(e.ctx, ref[0], ref[1])
		wantKind(t, err, vigie.KindNotFound)
	}
}

func testSourceList(t *testing.T, e *env) {
	if ss := mustList(t, e.ListSources, "acme"); len(ss) != 0 {
		t.Fatalf("ListSources on an empty workspace = %v, want none", ss)
	}
	var want []*vigie.Source
	for _, id := range []string{"src_c", "src_a", "src_b"} {
		s := newSource("acme", id)
		e.mustPutSource(t, s)
		want = append(want, s)
	}
	e.mustPutSource(t, newSource("globex", "src_0"))
	want = []*vigie.Source{want[1], want[2], want[0]}
	if diff := cmp.Diff(want, mustList(t, e.ListSources, "acme")); diff != "" {
		t.Errorf("ListSources mismatch, want by id (-want +got):\n%s", diff)
	}
}

func testSourceDelete(t *testing.T, e *env) {
	s := newSource("acme", "src_1")
	e.mustPutSource(t, s)
	e.mustPutSource(t, newSource("globex", "src_1"))
	for range 2 { // idempotent
		if err := e.DeleteSource(e.ctx, "acme", "src_1"); err != nil {
			t.Fatalf("DeleteSource: %v", err)
		}
	}
	if err := e.DeleteSource(e.ctx, "acme", "never-saved"); err != nil {
		t.Errorf("DeleteSource of a source never saved: %v", err)
	}
	_, err := e.GetSource(e.ctx, "acme", "src_1")
	wantKind(t, err, vigie.KindNotFound)
	if _, err := e.GetSource(e.ctx, "globex", "src_1"); err != nil {
		t.Errorf("deleting acme's source touched globex's: %v", err)
	}
	// Once deleted it starts over from version 0.
	fresh := newSource("acme", "src_1")
	e.mustPutSource(t, fresh)
	if fresh.Version != 1 {
		t.Errorf("Version after re-creation = %d, want 1", fresh.Version)
	}
}

func testSourceInvalid(t *testing.T, e *env) {
	with := func(change func(s *vigie.Source)) *vigie.Source {
		s := newSource("acme", "src_1")
		change(s)
		return s
	}
	tests := []struct {
		name  string
		s     *vigie.Source
		field string
	}{
		{"nil", nil, "source"},
		{"no workspace", with(func(s *vigie.Source) { s.Workspace = "" }), "workspace"},
		{"no id", with(func(s *vigie.Source) { s.ID = "" }), "id"},
		{"id with newline", with(func(s *vigie.Source) { s.ID = "a\nb" }), "id"},
		{"negative version", with(func(s *vigie.Source) { s.Version = -1 }), "version"},
		{"cursor too long", with(func(s *vigie.Source) { s.Cursor = strings.Repeat("c", 64<<10) }), "cursor"},
		{"next poll past 9999", with(func(s *vigie.Source) { s.NextPollAt = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) }), "next_poll_at"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := e.PutSource(e.ctx, tt.s)
			wantKind(t, err, vigie.KindInvalid)
			if ve, _ := vigie.AsError(err); ve.Field != tt.field {
				t.Errorf("Invalid names field %q, want %q", ve.Field, tt.field)
			}
		})
	}
	calls := []struct {
		name string
		call func() error
	}{
		{"get no workspace", func() error { _, err := e.GetSource(e.ctx, "", "src_1"); return err }},
		{"get no id", func() error { _, err := e.GetSource(e.ctx, "acme", ""); return err }},
		{"list no workspace", func() error { _, err := e.ListSources(e.ctx, ""); return err }},
		{"delete no id", func() error { return e.DeleteSource(e.ctx, "acme", "") }},
	}
	for _, c := range calls {
		t.Run(c.name, func(t *testing.T) { wantKind(t, c.call(), vigie.KindInvalid) })
	}
	if ss := mustList(t, e.ListSources, "acme"); len(ss) != 0 {
		t.Errorf("invalid puts stored %v", ss)
	}
}
