package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"vigie/internal/vigie"
)

var isolationTests = []subtest{
	{"Workspaces", testIsolation},
	{"Records", testIsolationRecords},
}

var contextTests = []subtest{
	{"Canceled", testContextCanceled},
}

// testIsolation fills two workspaces with things of the same ids and checks
// that nothing of one is ever returned to, or written through, the other.
func testIsolation(t *testing.T, e *env) {
	e.mustCreateWorkspace(t, "acme")
	e.mustCreateWorkspace(t, "globex")
	a, b := newMention("acme", "shared", t0), newMention("globex", "shared", t0.Add(time.Minute))
	a.Text, b.Text = "said to acme", "said to globex"
	e.mustCreateMentions(t, "acme", a)
	e.mustCreateMentions(t, "globex", b, newMention("globex", "only-b", t0))
	e.mustCreateKey(t, newKey("acme", "k1", t0))
	e.mustCreateKey(t, newKey("globex", "k1", t0))
	e.mustCreateKey(t, newKey("globex", "k2", t0))

	if diff := cmp.Diff(a, e.mustGetMention(t, "acme", "shared")); diff != "" {
		t.Errorf("GetMention(acme) mismatch (-want +got):\n%s", diff)
	}
	_, err := e.GetMention(e.ctx, "acme", "only-b")
	wantKind(t, err, vigie.KindNotFound)
	if diff := cmp.Diff([]string{"shared"}, e.walk(t, "acme", vigie.MentionQuery{Limit: 1})); diff != "" {
		t.Errorf("listing acme mismatch (-want +got):\n%s", diff)
	}
	exist, err := e.ExistingMentions(e.ctx, "acme", []string{"shared", "only-b"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]bool{"shared": true}, exist); diff != "" {
		t.Errorf("ExistingMentions(acme) mismatch (-want +got):\n%s", diff)
	}
	// A same-id mention in another workspace does not make it exist here.
	if got := e.mustCreateMentions(t, "acme", newMention("acme", "only-b", t0)); !got[0] {
		t.Errorf("creating acme/only-b = %v, want created", got)
	}
	keys, err := e.ListAPIKeys(e.ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 1 || keys[0].Workspace != "acme" || string(keys[0].Hash) != "hash-of-k1" {
		t.Errorf("ListAPIKeys(acme) = %+v, want acme's k1 only", keys)
	}
	_, err = e.GetAPIKey(e.ctx, "acme", "k2")
	wantKind(t, err, vigie.KindNotFound)

	// Writing a mention of globex through acme is refused, and writes
	// nothing of the batch anywhere.
	intruder := newMention("globex", "intruder", t0)
	_, err = e.CreateMentions(e.ctx, "acme", []*vigie.Mention{newMention("acme", "fine", t0), intruder})
	wantKind(t, err, vigie.KindInvalid)
	for _, ws := range []string{"acme", "globex"} {
		for _, id := range []string{"fine", "intruder"} {
			if _, err := e.GetMention(e.ctx, ws, id); !vigie.IsKind(err, vigie.KindNotFound) {
				t.Errorf("GetMention(%s, %s) = %v, want NotFound", ws, id, err)
			}
		}
	}
	// The other workspace is untouched by all of the above.
	if diff := cmp.Diff(b, e.mustGetMention(t, "globex", "shared")); diff != "" {
		t.Errorf("GetMention(globex) mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"shared", "only-b"}, e.walk(t, "globex", vigie.MentionQuery{})); diff != "" {
		t.Errorf("listing globex mismatch (-want +got):\n%s", diff)
	}
}

func testContextCanceled(t *testing.T, e *env) {
	e.mustCreateWorkspace(t, "acme")
	ctx, cancel := context.WithCancel(e.ctx)
	cancel()
	w := &vigie.Workspace{ID: "acme", Name: "x"}
	calls := []struct {
		name string
		call func() error
	}{
		{"CreateWorkspace", func() error { return e.CreateWorkspace(ctx, &vigie.Workspace{ID: "new"}) }},
		{"GetWorkspace", func() error { _, err := e.GetWorkspace(ctx, "acme"); return err }},
		{"UpdateWorkspace", func() error { return e.UpdateWorkspace(ctx, w) }},
		{"CreateAPIKey", func() error { return e.CreateAPIKey(ctx, newKey("acme", "k1", t0)) }},
		{"GetAPIKey", func() error { _, err := e.GetAPIKey(ctx, "acme", "k1"); return err }},
		{"ListAPIKeys", func() error { _, err := e.ListAPIKeys(ctx, "acme"); return err }},
		{"UpdateAPIKey", func() error { return e.UpdateAPIKey(ctx, newKey("acme", "k1", t0)) }},
		{"CreateMentions", func() error {
			_, err := e.CreateMentions(ctx, "acme", []*vigie.Mention{newMention("acme", "m1", t0)})
			return err
		}},
		{"ExistingMentions", func() error { _, err := e.ExistingMentions(ctx, "acme", []string{"m1"}); return err }},
		{"GetMention", func() error { _, err := e.GetMention(ctx, "acme", "m1"); return err }},
		{"ListMentions", func() error { _, err := e.ListMentions(ctx, "acme", vigie.MentionQuery{}); return err }},
		{"UpdateMention", func() error { return e.UpdateMention(ctx, newMention("acme", "m1", t0)) }},
		{"ListWorkspaces", func() error { _, err := e.ListWorkspaces(ctx); return err }},
		{"CreateChannel", func() error { return e.CreateChannel(ctx, newChannel("acme", "ch_1", t0)) }},
		{"GetChannel", func() error { _, err := e.GetChannel(ctx, "acme", "ch_1"); return err }},
		{"ListChannels", func() error { _, err := e.ListChannels(ctx, "acme"); return err }},
		{"UpdateChannel", func() error { return e.UpdateChannel(ctx, newChannel("acme", "ch_1", t0)) }},
		{"DeleteChannel", func() error { return e.DeleteChannel(ctx, "acme", "ch_1") }},
		{"ChannelByAccount", func() error { _, err := e.ChannelByAccount(ctx, "mastodon", "acct-ch_1"); return err }},
		{"CreateWatch", func() error { return e.CreateWatch(ctx, newWatch("acme", "wa_1", t0)) }},
		{"GetWatch", func() error { _, err := e.GetWatch(ctx, "acme", "wa_1"); return err }},
		{"ListWatches", func() error { _, err := e.ListWatches(ctx, "acme"); return err }},
		{"UpdateWatch", func() error { return e.UpdateWatch(ctx, newWatch("acme", "wa_1", t0)) }},
		{"DeleteWatch", func() error { return e.DeleteWatch(ctx, "acme", "wa_1") }},
		{"GetSource", func() error { _, err := e.GetSource(ctx, "acme", "src_1"); return err }},
		{"ListSources", func() error { _, err := e.ListSources(ctx, "acme"); return err }},
		{"PutSource", func() error { return e.PutSource(ctx, newSource("acme", "src_1")) }},
		{"DeleteSource", func() error { return e.DeleteSource(ctx, "acme", "src_1") }},
	}
	for _, c := range calls {
		t.Run(c.name, func(t *testing.T) {
			if err := c.call(); !errorsIsCanceled(err) {
				t.Errorf("%s with a canceled context = %v, want an error wrapping context.Canceled", c.name, err)
			}
		})
	}
	// Nothing was written.
	if _, err := e.GetWorkspace(e.ctx, "new"); !vigie.IsKind(err, vigie.KindNotFound) {
		t.Errorf("GetWorkspace(new) = %v, want NotFound", err)
	}
	if _, err := e.GetMention(e.ctx, "acme", "m1"); !vigie.IsKind(err, vigie.KindNotFound) {
		t.Errorf("GetMention(m1) = %v, want NotFound", err)
	}
	if _, err := e.GetChannel(e.ctx, "acme", "ch_1"); !vigie.IsKind(err, vigie.KindNotFound) {
		t.Errorf("GetChannel(ch_1) = %v, want NotFound", err)
	}
	if _, err := e.GetWatch(e.ctx, "acme", "wa_1"); !vigie.IsKind(err, vigie.KindNotFound) {
		t.Errorf("GetWatch(wa_1) = %v, want NotFound", err)
	}
	if _, err := e.GetSource(e.ctx, "acme", "src_1"); !vigie.IsKind(err, vigie.KindNotFound) {
		t.Errorf("GetSource(src_1) = %v, want NotFound", err)
	}
	if got, _ := e.GetWorkspace(e.ctx, "acme"); got == nil || got.Name == "x" {
		t.Errorf("UpdateWorkspace with a canceled context changed the workspace: %+v", got)
	}
}

// testIsolationRecords does for channels, watches and sources what
// testIsolation does for mentions and keys.
func testIsolationRecords(t *testing.T, e *env) {
	for _, ws := range []string{"acme", "globex"} {
		e.mustCreateWorkspace(t, ws)
	}
	chA, chB, chB2 := newChannel("acme", "shared", t0), newChannel("globex", "shared", t0), newChannel("globex", "only-b", t0)
	chB.AccountID = "acct-globex"
	waA, waB, waB2 := newWatch("acme", "shared", t0), newWatch("globex", "shared", t0), newWatch("globex", "only-b", t0)
	waB.Query = "globex only"
	srA, srB, srB2 := newSource("acme", "shared"), newSource("globex", "shared"), newSource("globex", "only-b")
	srB.Cursor = "globex cursor"
	for _, c := range []*vigie.Channel{chA, chB, chB2} {
		e.mustCreateChannel(t, c)
	}
	for _, w := range []*vigie.Watch{waA, waB, waB2} {
		e.mustCreateWatch(t, w)
	}
	for _, s := range []*vigie.Source{srA, srB, srB2} {
		e.mustPutSource(t, s)
	}

	// Reads through acme see acme's only.
	if diff := cmp.Diff([]*vigie.Channel{chA}, mustList(t, e.ListChannels, "acme")); diff != "" {
		t.Errorf("ListChannels(acme) (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]*vigie.Watch{waA}, mustList(t, e.ListWatches, "acme")); diff != "" {
		t.Errorf("ListWatches(acme) (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]*vigie.Source{srA}, mustList(t, e.ListSources, "acme")); diff != "" {
		t.Errorf("ListSources(acme) (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(chA, e.mustGetChannel(t, "acme", "shared")); diff != "" {
		t.Errorf("GetChannel(acme) (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(waA, e.mustGetWatch(t, "acme", "shared")); diff != "" {
		t.Errorf("GetWatch(acme) (-want +got):\n%s", diff)
	}
	got, err := e.GetSource(e.ctx, "acme", "shared")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(srA, got); diff != "" {
		t.Errorf("GetSource(acme) (-want +got):\n%s", diff)
	}
	_, err = e.GetChannel(e.ctx, "acme", "only-b")
	wantKind(t, err, vigie.KindNotFound)
	_, err = e.GetWatch(e.ctx, "acme", "only-b")
	wantKind(t, err, vigie.KindNotFound)
	_, err = e.GetSource(e.ctx, "acme", "only-b")
	wantKind(t, err, vigie.KindNotFound)

	// Writes through acme never reach globex's records.
	wantKind(t, e.DeleteChannel(e.ctx, "acme", "only-b"), vigie.KindNotFound)
	wantKind(t, e.DeleteWatch(e.ctx, "acme", "only-b"), vigie.KindNotFound)
	if err := e.DeleteSource(e.ctx, "acme", "only-b"); err != nil {
		t.Fatal(err)
	}
	c := *chB2
	c.Workspace = "acme"
	wantKind(t, e.UpdateChannel(e.ctx, &c), vigie.KindNotFound)
	w := *waB2
	w.Workspace = "acme"
	wantKind(t, e.UpdateWatch(e.ctx, &w), vigie.KindNotFound)
	s := *srB2
	s.Workspace = "acme"
	wantKind(t, e.PutSource(e.ctx, &s), vigie.KindConflict)
	// Connecting globex's account through acme is refused.
	c = *chB2
	c.Workspace, c.ID = "acme", "steal"
	wantKind(t, e.CreateChannel(e.ctx, &c), vigie.KindConflict)

	// ChannelByAccount, the one global lookup, finds each in its workspace.
	for _, want := range []*vigie.Channel{chA, chB, chB2} {
		got, err := e.ChannelByAccount(e.ctx, want.Platform, want.AccountID)
		if err != nil {
			t.Fatalf("ChannelByAccount(%q): %v", want.AccountID, err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("ChannelByAccount(%q) (-want +got):\n%s", want.AccountID, diff)
		}
	}
	// globex is untouched.
	if diff := cmp.Diff([]*vigie.Channel{chB2, chB}, mustList(t, e.ListChannels, "globex")); diff != "" {
		t.Errorf("ListChannels(globex) (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]*vigie.Watch{waB2, waB}, mustList(t, e.ListWatches, "globex")); diff != "" {
		t.Errorf("ListWatches(globex) (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]*vigie.Source{srB2, srB}, mustList(t, e.ListSources, "globex")); diff != "" {
		t.Errorf("ListSources(globex) (-want +got):\n%s", diff)
	}
}
