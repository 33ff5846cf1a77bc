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
	if got, _ := e.GetWorkspace(e.ctx, "acme"); got == nil || got.Name == "x" {
		t.Errorf("UpdateWorkspace with a canceled context changed the workspace: %+v", got)
	}
}
