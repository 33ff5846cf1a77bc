package storetest

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"vigie/internal/vigie"
)

var watchTests = []subtest{
	{"CreateGet", testWatchCreateGet},
	{"CreateDuplicate", testWatchCreateDuplicate},
	{"List", testWatchList},
	{"Update", testWatchUpdate},
	{"UpdateRefused", testWatchUpdateRefused},
	{"Delete", testWatchDelete},
	{"Invalid", testWatchInvalid},
}

// newWatch returns a watch of ws with every field set.
func newWatch(ws, id string, createdAt time.Time) *vigie.Watch {
	return &vigie.Watch{
		Workspace: ws, ID: id, Name: "Lumen « " + id + " »", Kind: vigie.WatchBrand,
		Query:            `lumen OR "maison lumen" -job`,
		Feeds:            []string{"https://www.google.com/alerts/feeds/1/2", "https://example.test/feed.xml"},
		MastodonTags:     []string{"lumen", "lampes"},
		MastodonInstance: "https://mastodon.example",
		BlueskySearch:    true,
		Status:           vigie.StatusActive,
		PollEvery:        5 * time.Minute,
		CreatedAt:        createdAt,
	}
}

func (e *env) mustCreateWatch(t *testing.T, w *vigie.Watch) {
	t.Helper()
	if err := e.CreateWatch(e.ctx, w); err != nil {
		t.Fatalf("CreateWatch(%q, %q): %v", w.Workspace, w.ID, err)
	}
}

func (e *env) mustGetWatch(t *testing.T, ws, id string) *vigie.Watch {
	t.Helper()
	w, err := e.GetWatch(e.ctx, ws, id)
	if err != nil {
		t.Fatalf("GetWatch(%q, %q): %v", ws, id, err)
	}
	return w
}

func testWatchCreateGet(t *testing.T, e *env) {
	want := newWatch("acme", "wa_1", t0.In(time.FixedZone("CET", 3600)).Add(77))
	want.Version = 3
	in := *want
	e.mustCreateWatch(t, &in)
	if diff := cmp.Diff(want, e.mustGetWatch(t, "acme", "wa_1")); diff != "" {
		t.Errorf("GetWatch mismatch (-want +got):\n%s", diff)
	}
	bare := &vigie.Watch{Workspace: "acme", ID: "wa_2", Name: "n", Kind: vigie.WatchTopic, Query: "q", Status: vigie.StatusPaused, CreatedAt: t0}
	e.mustCreateWatch(t, bare)
	if diff := cmp.Diff(bare, e.mustGetWatch(t, "acme", "wa_2")); diff != "" {
		t.Errorf("GetWatch of a minimal watch mismatch (-want +got):\n%s", diff)
	}
	_, err := e.GetWatch(e.ctx, "acme", "wa_3")
	wantKind(t, err, vigie.KindNotFound)
}

func testWatchCreateDuplicate(t *testing.T, e *env) {
	first := newWatch("acme", "wa_1", t0)
	e.mustCreateWatch(t, first)
	dup := newWatch("acme", "wa_1", t0.Add(time.Hour))
	dup.Query = "overwrite attempt"
	wantKind(t, e.CreateWatch(e.ctx, dup), vigie.KindConflict)
	if diff := cmp.Diff(first, e.mustGetWatch(t, "acme", "wa_1")); diff != "" {
		t.Errorf("a duplicate create changed the stored watch (-want +got):\n%s", diff)
	}
	e.mustCreateWatch(t, newWatch("globex", "wa_1", t0))
}

func testWatchList(t *testing.T, e *env) {
	if ws := mustList(t, e.ListWatches, "acme"); len(ws) != 0 {
		t.Fatalf("ListWatches on an empty workspace = %v, want none", ws)
	}
	ws := []*vigie.Watch{
		newWatch("acme", "wa_c", t0),
		newWatch("acme", "wa_a", t0.Add(time.Hour)),
		newWatch("acme", "wa_b", t0),
		newWatch("acme", "wa_d", t0.Add(-time.Hour)),
	}
	ws[1].Status = vigie.StatusPaused
	for _, w := range ws {
		e.mustCreateWatch(t, w)
	}
	e.mustCreateWatch(t, newWatch("globex", "wa_z", t0))
	want := []*vigie.Watch{ws[3], ws[2], ws[0], ws[1]}
	if diff := cmp.Diff(want, mustList(t, e.ListWatches, "acme")); diff != "" {
		t.Errorf("ListWatches mismatch, want oldest first (-want +got):\n%s", diff)
	}
}

func testWatchUpdate(t *testing.T, e *env) {
	e.mustCreateWatch(t, newWatch("acme", "wa_1", t0))
	w := e.mustGetWatch(t, "acme", "wa_1")
	before := w.Version
	w.Name, w.Kind, w.Query, w.Feeds, w.MastodonTags, w.BlueskySearch = "Rival", vigie.WatchCompetitor, "luxlampes", nil, []string{"lux"}, false
	if err := e.UpdateWatch(e.ctx, w); err != nil {
		t.Fatalf("UpdateWatch: %v", err)
	}
	if w.Version != before+1 {
		t.Errorf("Version = %d after update, want %d", w.Version, before+1)
	}
	if diff := cmp.Diff(w, e.mustGetWatch(t, "acme", "wa_1")); diff != "" {
		t.Errorf("stored watch mismatch (-want +got):\n%s", diff)
	}
}

func testWatchUpdateRefused(t *testing.T, e *env) {
	e.mustCreateWatch(t, newWatch("acme", "wa_1", t0))
	a := e.mustGetWatch(t, "acme", "wa_1")
	b := e.mustGetWatch(t, "acme", "wa_1")
	a.Name = "first"
	if err := e.UpdateWatch(e.ctx, a); err != nil {
		t.Fatalf("UpdateWatch: %v", err)
	}
	b.Name = "second"
	version := b.Version
	wantKind(t, e.UpdateWatch(e.ctx, b), vigie.KindConflict)
	if b.Version != version {
		t.Errorf("a refused update changed the caller's Version to %d", b.Version)
	}
	missing := *a
	missing.ID = "wa_2"
	wantKind(t, e.UpdateWatch(e.ctx, &missing), vigie.KindNotFound)
	other := *a
	other.Workspace = "globex"
	wantKind(t, e.UpdateWatch(e.ctx, &other), vigie.KindNotFound)
	if diff := cmp.Diff(a, e.mustGetWatch(t, "acme", "wa_1")); diff != "" {
		t.Errorf("refused updates changed the stored watch (-want +got):\n%s", diff)
	}
	for _, ref := range [][2]string{{"acme", "wa_2"}, {"globex", "wa_1"}} {
		_, err := e.GetWatch(e.ctx, ref[0], ref[1])
		wantKind(t, err, vigie.KindNotFound)
	}
}

func testWatchDelete(t *testing.T, e *env) {
	e.mustCreateWatch(t, newWatch("acme", "wa_1", t0))
	keep := newWatch("acme", "wa_2", t0)
	e.mustCreateWatch(t, keep)
	if err := e.DeleteWatch(e.ctx, "acme", "wa_1"); err != nil {
		t.Fatalf("DeleteWatch: %v", err)
	}
	_, err := e.GetWatch(e.ctx, "acme", "wa_1")
	wantKind(t, err, vigie.KindNotFound)
	wantKind(t, e.DeleteWatch(e.ctx, "acme", "wa_1"), vigie.KindNotFound)
	wantKind(t, e.DeleteWatch(e.ctx, "globex", "wa_2"), vigie.KindNotFound)
	if diff := cmp.Diff([]*vigie.Watch{keep}, mustList(t, e.ListWatches, "acme")); diff != "" {
		t.Errorf("ListWatches after delete (-want +got):\n%s", diff)
	}
	// The id can be used again.
	e.mustCreateWatch(t, newWatch("acme", "wa_1", t0))
}

func testWatchInvalid(t *testing.T, e *env) {
	e.mustCreateWatch(t, newWatch("acme", "wa_1", t0))
	with := func(change func(w *vigie.Watch)) *vigie.Watch {
		w := newWatch("acme", "wa_1", t0)
		change(w)
		return w
	}
	tests := []struct {
		name  string
		w     *vigie.Watch
		field string
	}{
		{"nil", nil, "watch"},
		{"bad workspace", with(func(w *vigie.Watch) { w.Workspace = "a" }), "workspace"},
		{"no id", with(func(w *vigie.Watch) { w.ID = "" }), "id"},
		{"no name", with(func(w *vigie.Watch) { w.Name = " " }), "name"},
		{"name too long", with(func(w *vigie.Watch) { w.Name = strings.Repeat("n", 201) }), "name"},
		{"no kind", with(func(w *vigie.Watch) { w.Kind = "" }), "kind"},
		{"unknown kind", with(func(w *vigie.Watch) { w.Kind = "product" }), "kind"},
		{"no query", with(func(w *vigie.Watch) { w.Query = "" }), "query"},
		{"query too long", with(func(w *vigie.Watch) { w.Query = strings.Repeat("q", 2049) }), "query"},
		{"empty feed", with(func(w *vigie.Watch) { w.Feeds = []string{""} }), "feeds"},
		{"unknown status", with(func(w *vigie.Watch) { w.Status = "on" }), "status"},
		{"negative poll_every", with(func(w *vigie.Watch) { w.PollEvery = -1 }), "poll_every"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for op, call := range map[string]func(*vigie.Watch) error{"create": func(w *vigie.Watch) error { return e.CreateWatch(e.ctx, w) },
				"update": func(w *vigie.Watch) error { return e.UpdateWatch(e.ctx, w) }} {
				err := call(tt.w)
				wantKind(t, err, vigie.KindInvalid)
				if ve, _ := vigie.AsError(err); ve.Field != tt.field {
					t.Errorf("%s: Invalid names field %q, want %q", op, ve.Field, tt.field)
				}
			}
		})
	}
	calls := []struct {
		name string
		call func() error
	}{
		{"get no workspace", func() error { _, err := e.GetWatch(e.ctx, "", "wa_1"); return err }},
		{"get no id", func() error { _, err := e.GetWatch(e.ctx, "acme", ""); return err }},
		{"list no workspace", func() error { _, err := e.ListWatches(e.ctx, ""); return err }},
		{"delete no id", func() error { return e.DeleteWatch(e.ctx, "acme", "") }},
	}
	for _, c := range calls {
		t.Run(c.name, func(t *testing.T) { wantKind(t, c.call(), vigie.KindInvalid) })
	}
	if diff := cmp.Diff(newWatch("acme", "wa_1", t0), e.mustGetWatch(t, "acme", "wa_1")); diff != "" {
		t.Errorf("invalid calls changed the stored watch (-want +got):\n%s", diff)
	}
}
