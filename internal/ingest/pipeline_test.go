package ingest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"vigie/internal/platform"
	"vigie/internal/vigie"
)

func change(op platform.Op, id, text string) platform.Change {
	return platform.Change{Op: op, Account: "448242228374517", Mention: &vigie.Mention{
		Platform: platform.Facebook, Kind: vigie.KindComment, ExternalID: id, Text: text,
		Author: vigie.Author{ID: "651", Handle: "jane"}, CreatedAt: t0.Add(-time.Minute)}}
}

func (e *env) pipeline() *Pipeline {
	return &Pipeline{Store: e.store, Bus: e.bus, Clock: e.deps.Clock, Logger: e.deps.Logger}
}

func (e *env) types() []string {
	e.bus.mu.Lock()
	defer e.bus.mu.Unlock()
	var out []string
	for _, ev := range e.bus.events {
		out = append(out, ev.Type)
	}
	return out
}

// TestPipeline_EditAndRemove: an edit updates the stored mention and is
// announced once per distinct text; a removal marks it removed, once; a
// removal of an unknown mention is ignored; an edit of an unknown one
// stores it.
func TestPipeline_EditAndRemove(t *testing.T) {
	e := setup(t)
	p, ctx := e.pipeline(), context.Background()
	ch := &vigie.Channel{Workspace: "acme", ID: "ch_0123456789abcdef", Platform: platform.Facebook}
	steps := []struct {
		name    string
		changes []platform.Change
		want    Outcome
		events  []string
	}{
		{"new, twice in one batch", []platform.Change{change(platform.OpNew, "c1", "Où acheter ?"), change(platform.OpNew, "c1", "Où acheter ?")},
			Outcome{Received: 2, Created: 1, Duplicates: 1}, []string{"mention.received"}},
		{"redelivered", []platform.Change{change(platform.OpNew, "c1", "Où acheter ?")}, Outcome{Received: 1, Duplicates: 1}, nil},
		{"edited", []platform.Change{change(platform.OpEdit, "c1", "Où acheter la lampe ?")}, Outcome{Received: 1, Edited: 1}, []string{"mention.edited"}},
		{"same edit again", []platform.Change{change(platform.OpEdit, "c1", "Où acheter la lampe ?")}, Outcome{Received: 1, Duplicates: 1}, nil},
		{"removed", []platform.Change{change(platform.OpRemove, "c1", "")}, Outcome{Received: 1, Removed: 1}, []string{"mention.removed"}},
		{"removed again", []platform.Change{change(platform.OpRemove, "c1", "")}, Outcome{Received: 1, Duplicates: 1}, nil},
		{"removal of an unknown one", []platform.Change{change(platform.OpRemove, "c9", "")}, Outcome{Received: 1, Ignored: 1}, nil},
		{"edit of an unknown one", []platform.Change{change(platform.OpEdit, "c2", "Bonjour")}, Outcome{Received: 1, Created: 1}, []string{"mention.received"}},
		{"no external id", []platform.Change{change(platform.OpNew, "", "x")}, Outcome{Received: 1, Ignored: 1}, nil},
	}
	for _, st := range steps {
		before := len(e.types())
		got, err := p.Accept(ctx, "acme", ch, st.changes)
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		got.Mentions = nil
		if diff := cmp.Diff(st.want, got); diff != "" {
			t.Errorf("%s: outcome (-want +got):\n%s", st.name, diff)
		}
		if diff := cmp.Diff(st.events, e.types()[before:], cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("%s: events (-want +got):\n%s", st.name, diff)
		}
	}
	m, err := e.store.GetMention(ctx, "acme", vigie.MentionID(platform.Facebook, "c1"))
	if err != nil {
		t.Fatal(err)
	}
	if m.Text != "Où acheter la lampe ?" || m.EditedAt == nil || m.RemovedAt == nil || m.Channel != ch.ID || m.Kind != vigie.KindComment {
		t.Errorf("stored = %+v", m)
	}
	// Event ids: the same edit has one id, so consumers drop repeats.
	ev1, _ := vigie.NewMentionEdited(m)
	ev2, _ := vigie.NewMentionEdited(m)
	m2 := *m
	m2.Text = "autre"
	ev3, _ := vigie.NewMentionEdited(&m2)
	if ev1.ID != ev2.ID || ev1.ID == ev3.ID {
		t.Errorf("edit event ids: %s %s %s", ev1.ID, ev2.ID, ev3.ID)
	}
}

// TestPipeline_Watches: every mention is tagged with the active watches
// its text matches, in the event too.
func TestPipeline_Watches(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	for _, w := range []*vigie.Watch{
		{Workspace: "acme", ID: "wa_brand", Name: "Lumen", Kind: vigie.WatchBrand, Query: `lumen OR "maison lumen"`, Status: vigie.StatusActive, CreatedAt: t0},
		{Workspace: "acme", ID: "wa_rival", Name: "Lux", Kind: vigie.WatchCompetitor, Query: "luxlampes", Status: vigie.StatusActive, CreatedAt: t0},
		{Workspace: "acme", ID: "wa_topic", Name: "Élections", Kind: vigie.WatchTopic, Query: "election", Status: vigie.StatusActive, CreatedAt: t0},
		{Workspace: "acme", ID: "wa_off", Name: "Off", Kind: vigie.WatchTopic, Query: "lumen", Status: vigie.StatusPaused, CreatedAt: t0},
		{Workspace: "globex", ID: "wa_other", Name: "Other", Kind: vigie.WatchBrand, Query: "lumen", Status: vigie.StatusActive, CreatedAt: t0},
	} {
		if err := e.store.CreateWatch(ctx, w); err != nil {
			t.Fatal(err)
		}
	}
	_, err := e.pipeline().Accept(ctx, "acme", nil, []platform.Change{
		change(platform.OpNew, "a", "Maison LUMEN ou LuxLampes ? Avant l'Élection"),
		change(platform.OpNew, "b", "rien à voir"),
	})
	if err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string][]string{"a": {"wa_brand", "wa_rival", "wa_topic"}, "b": nil} {
		m, err := e.store.GetMention(ctx, "acme", vigie.MentionID(platform.Facebook, id))
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, m.Watches); diff != "" {
			t.Errorf("mention %s watches (-want +got):\n%s", id, diff)
		}
	}
	if d := string(e.bus.events[0].Detail); !strings.Contains(d, `"watches":["wa_brand","wa_rival","wa_topic"]`) || !strings.Contains(d, `"kind":"comment"`) {
		t.Errorf("event detail = %s", d)
	}
}
