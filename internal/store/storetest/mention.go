package storetest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"vigie/internal/store"
	"vigie/internal/vigie"
)

var mentionTests = []subtest{
	{"CreateGet", testMentionCreateGet},
	{"CreateSomeExisting", testMentionCreateSomeExisting},
	{"CreateRepeatedInOneCall", testMentionCreateRepeatedInOneCall},
	{"CreateNone", testMentionCreateNone},
	{"GetNotFound", testMentionGetNotFound},
	{"BatchBeyondBackendLimits", testMentionBatchBeyondBackendLimits},
	{"Expired", testMentionExpired},
	{"Invalid", testMentionInvalid},
	{"Size", testMentionSize},
	{"Update", testMentionUpdate},
	{"UpdateRefused", testMentionUpdateRefused},
}

func testMentionUpdate(t *testing.T, e *env) {
	ms := []*vigie.Mention{newMention("acme", "a", t0), newMention("acme", "b", t0.Add(time.Minute)), newMention("acme", "c", t0.Add(2*time.Minute))}
	e.mustCreateMentions(t, "acme", ms...)

	edited, removed := t0.Add(time.Hour), t0.Add(2*time.Hour)
	m := e.mustGetMention(t, "acme", "b")
	m.Text, m.EditedAt, m.Watches, m.Metrics = "edited text", &edited, []string{"wa_c"}, map[string]int64{"likes": 9}
	m.CreatedAt = m.CreatedAt.In(time.FixedZone("CET", 3600)) // the same instant
	if err := e.UpdateMention(e.ctx, m); err != nil {
		t.Fatalf("UpdateMention: %v", err)
	}
	if diff := cmp.Diff(m, e.mustGetMention(t, "acme", "b")); diff != "" {
		t.Errorf("after an edit, GetMention mismatch (-want +got):\n%s", diff)
	}
	m.RemovedAt = &removed
	m.Watches, m.Metrics, m.Analysis = nil, nil, nil
	if err := e.UpdateMention(e.ctx, m); err != nil {
		t.Fatalf("UpdateMention: %v", err)
	}
	if diff := cmp.Diff(m, e.mustGetMention(t, "acme", "b")); diff != "" {
		t.Errorf("after a removal, GetMention mismatch (-want +got):\n%s", diff)
	}
	// It keeps its place in listings, once.
	if diff := cmp.Diff([]string{"c", "b", "a"}, e.walk(t, "acme", vigie.MentionQuery{Limit: 1})); diff != "" {
		t.Errorf("listing after updates mismatch (-want +got):\n%s", diff)
	}
	p, err := e.ListMentions(e.ctx, "acme", vigie.MentionQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(m, p.Mentions[1]); diff != "" {
		t.Errorf("listed mention after updates (-want +got):\n%s", diff)
	}
	// Still there: creating it again leaves it alone.
	if got := e.mustCreateMentions(t, "acme", newMention("acme", "b", t0)); got[0] {
		t.Errorf("creating an updated mention again = %v, want not created", got)
	}
}

func testMentionUpdateRefused(t *testing.T, e *env) {
	soon := t0.Add(time.Hour)
	live, expiring := newMention("acme", "live", t0), newMention("acme", "expiring", t0)
	expiring.ExpiresAt = &soon
	e.mustCreateMentions(t, "acme", live, expiring)
	tests := []struct {
		name   string
		change func(m *vigie.Mention)
		kind   string
	}{
		{"absent", func(m *vigie.Mention) { m.ID = "ghost" }, vigie.KindNotFound},
		{"through another workspace", func(m *vigie.Mention) { m.Workspace = "globex" }, vigie.KindNotFound},
		{"creation time changed", func(m *vigie.Mention) { m.CreatedAt = m.CreatedAt.Add(time.Nanosecond) }, vigie.KindInvalid},
		{"no creation time", func(m *vigie.Mention) { m.CreatedAt = time.Time{} }, vigie.KindInvalid},
		{"no id", func(m *vigie.Mention) { m.ID = "" }, vigie.KindInvalid},
		{"bad workspace", func(m *vigie.Mention) { m.Workspace = "ACME" }, vigie.KindInvalid},
		{"edited past 9999", func(m *vigie.Mention) {
			far := time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
			m.EditedAt = &far
		}, vigie.KindInvalid},
		{"too large", func(m *vigie.Mention) { m.Text = strings.Repeat("x", store.MaxMentionSize) }, vigie.KindTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMention("acme", "live", t0)
			m.Text = "refused update"
			tt.change(m)
			wantKind(t, e.UpdateMention(e.ctx, m), tt.kind)
		})
	}
	wantKind(t, e.UpdateMention(e.ctx, nil), vigie.KindInvalid)
	if diff := cmp.Diff(live, e.mustGetMention(t, "acme", "live")); diff != "" {
		t.Errorf("refused updates changed the mention (-want +got):\n%s", diff)
	}
	for _, ref := range [][2]string{{"acme", "ghost"}, {"globex", "live"}} {
		_, err := e.GetMention(e.ctx, ref[0], ref[1])
		wantKind(t, err, vigie.KindNotFound)
	}

	// An expired mention is absent: it cannot be updated.
	e.clock.Set(soon)
	m := newMention("acme", "expiring", t0)
	m.Text = "too late"
	wantKind(t, e.UpdateMention(e.ctx, m), vigie.KindNotFound)
	e.clock.Set(t0)
	if got := e.mustGetMention(t, "acme", "expiring"); got.Text == m.Text {
		t.Errorf("an expired mention was updated")
	}
}

func testMentionCreateGet(t *testing.T, e *env) {
	want := newMention("acme", "m_1", t0.In(time.FixedZone("CET", 3600)).Add(987654321))
	exp := t0.Add(24 * time.Hour)
	want.ExpiresAt = &exp
	in := *want
	if got := e.mustCreateMentions(t, "acme", &in); !got[0] {
		t.Fatalf("CreateMentions on an empty store = %v, want [true]", got)
	}
	got := e.mustGetMention(t, "acme", "m_1")
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("GetMention mismatch (-want +got):\n%s", diff)
	}
	// A minimal mention round-trips too, with its empty fields empty.
	bare := &vigie.Mention{ID: "m_2", Workspace: "acme", CreatedAt: t0}
	e.mustCreateMentions(t, "acme", bare)
	if diff := cmp.Diff(bare, e.mustGetMention(t, "acme", "m_2")); diff != "" {
		t.Errorf("GetMention of a minimal mention mismatch (-want +got):\n%s", diff)
	}
}

func testMentionCreateSomeExisting(t *testing.T, e *env) {
	a, b := newMention("acme", "a", t0), newMention("acme", "b", t0.Add(time.Minute))
	e.mustCreateMentions(t, "acme", a, b)

	a2, b2 := newMention("acme", "a", t0.Add(time.Hour)), newMention("acme", "b", t0)
	a2.Text, b2.Text = "overwrite attempt", "overwrite attempt"
	c, d := newMention("acme", "c", t0), newMention("acme", "d", t0)
	got := e.mustCreateMentions(t, "acme", a2, c, b2, d)
	if diff := cmp.Diff([]bool{false, true, false, true}, got); diff != "" {
		t.Errorf("created flags mismatch (-want +got):\n%s", diff)
	}
	for _, want := range []*vigie.Mention{a, b, c, d} {
		if diff := cmp.Diff(want, e.mustGetMention(t, "acme", want.ID)); diff != "" {
			t.Errorf("mention %q mismatch (-want +got):\n%s", want.ID, diff)
		}
	}
	// The existing ones keep their place in listings too.
	if diff := cmp.Diff([]string{"b", "d", "c", "a"}, e.walk(t, "acme", vigie.MentionQuery{})); diff != "" {
		t.Errorf("listing mismatch (-want +got):\n%s", diff)
	}
}

func testMentionCreateRepeatedInOneCall(t *testing.T, e *env) {
	first, again := newMention("acme", "x", t0), newMention("acme", "x", t0.Add(time.Hour))
	again.Text = "second copy"
	got := e.mustCreateMentions(t, "acme", first, newMention("acme", "y", t0), again)
	if diff := cmp.Diff([]bool{true, true, false}, got); diff != "" {
		t.Errorf("created flags mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(first, e.mustGetMention(t, "acme", "x")); diff != "" {
		t.Errorf("the first copy must win (-want +got):\n%s", diff)
	}
}

func testMentionCreateNone(t *testing.T, e *env) {
	if got := e.mustCreateMentions(t, "acme"); len(got) != 0 {
		t.Errorf("CreateMentions with no mentions = %v, want none", got)
	}
	got, err := e.ExistingMentions(e.ctx, "acme", nil)
	if err != nil || len(got) != 0 {
		t.Errorf("ExistingMentions with no ids = %v, %v; want an empty map", got, err)
	}
}

func testMentionGetNotFound(t *testing.T, e *env) {
	e.mustCreateMentions(t, "acme", newMention("acme", "a", t0))
	_, err := e.GetMention(e.ctx, "acme", "b")
	wantKind(t, err, vigie.KindNotFound)
}

// testMentionBatchBeyondBackendLimits goes past DynamoDB's 25 items per
// BatchWriteItem and 100 keys per BatchGetItem.
func testMentionBatchBeyondBackendLimits(t *testing.T, e *env) {
	all := ids("m-", 67)
	var pre []*vigie.Mention
	wantCreated := make([]bool, len(all))
	var ms []*vigie.Mention
	for i, id := range all {
		m := newMention("acme", id, t0.Add(time.Duration(i)*time.Second))
		ms = append(ms, m)
		if i%3 == 0 {
			pre = append(pre, m)
		} else {
			wantCreated[i] = true
		}
	}
	e.mustCreateMentions(t, "acme", pre...)
	got := e.mustCreateMentions(t, "acme", ms...)
	if diff := cmp.Diff(wantCreated, got); diff != "" {
		t.Errorf("created flags mismatch (-want +got):\n%s", diff)
	}
	// Again: nothing is new.
	if got := e.mustCreateMentions(t, "acme", ms...); cmp.Diff(make([]bool, len(ms)), got) != "" {
		t.Errorf("repeating the same batch created %v, want nothing", got)
	}

	query := append(ids("unknown-", 83), all...) // 150 ids
	exist, err := e.ExistingMentions(e.ctx, "acme", query)
	if err != nil {
		t.Fatalf("ExistingMentions: %v", err)
	}
	want := map[string]bool{}
	for _, id := range all {
		want[id] = true
	}
	if diff := cmp.Diff(want, exist); diff != "" {
		t.Errorf("ExistingMentions mismatch (-want +got):\n%s", diff)
	}
	listed := e.walk(t, "acme", vigie.MentionQuery{Limit: vigie.MaxPageSize})
	if len(listed) != len(all) {
		t.Errorf("listing returned %d mentions, want %d", len(listed), len(all))
	}
}

func testMentionExpired(t *testing.T, e *env) {
	soon, later := t0.Add(time.Hour), t0.Add(2*time.Hour)
	ms := make([]*vigie.Mention, 6)
	for i := range ms {
		ms[i] = newMention("acme", fmt.Sprintf("m%d", i), t0.Add(time.Duration(i)*time.Minute))
	}
	// Expired ones sit between live ones so that pages must skip them.
	ms[1].ExpiresAt, ms[2].ExpiresAt, ms[4].ExpiresAt = &soon, &soon, &soon
	ms[3].ExpiresAt = &later
	e.mustCreateMentions(t, "acme", ms...)
	if got := e.walk(t, "acme", vigie.MentionQuery{Limit: 1}); len(got) != 6 {
		t.Fatalf("before expiry, listing = %v, want all 6", got)
	}

	e.clock.Set(soon) // ExpiresAt == now: expired
	for _, id := range []string{"m1", "m2", "m4"} {
		_, err := e.GetMention(e.ctx, "acme", id)
		wantKind(t, err, vigie.KindNotFound)
	}
	e.mustGetMention(t, "acme", "m3")
	exist, err := e.ExistingMentions(e.ctx, "acme", []string{"m0", "m1", "m2", "m3", "m4", "m5"})
	if err != nil {
		t.Fatalf("ExistingMentions: %v", err)
	}
	if diff := cmp.Diff(map[string]bool{"m0": true, "m3": true, "m5": true}, exist); diff != "" {
		t.Errorf("ExistingMentions after expiry mismatch (-want +got):\n%s", diff)
	}
	for _, limit := range []int{1, 2, 3} {
		got := e.walk(t, "acme", vigie.MentionQuery{Limit: limit})
		if diff := cmp.Diff([]string{"m5", "m3", "m0"}, got); diff != "" {
			t.Errorf("listing with limit %d after expiry mismatch (-want +got):\n%s", limit, diff)
		}
	}

	// An expired mention counts as absent: creating it again succeeds, and
	// replaces it, at its new place in time. A live one is left alone.
	again := newMention("acme", "m1", t0.Add(10*time.Minute))
	again.Text = "back again"
	live := newMention("acme", "m3", t0)
	live.Text = "overwrite attempt"
	got := e.mustCreateMentions(t, "acme", again, live)
	if diff := cmp.Diff([]bool{true, false}, got); diff != "" {
		t.Errorf("created flags mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(again, e.mustGetMention(t, "acme", "m1")); diff != "" {
		t.Errorf("re-created mention mismatch (-want +got):\n%s", diff)
	}
	if got := e.mustGetMention(t, "acme", "m3"); got.Text == live.Text {
		t.Errorf("a live mention was overwritten")
	}
	if diff := cmp.Diff([]string{"m1", "m5", "m3", "m0"}, e.walk(t, "acme", vigie.MentionQuery{Limit: 2})); diff != "" {
		t.Errorf("listing after re-creation mismatch (-want +got):\n%s", diff)
	}
}

func testMentionInvalid(t *testing.T, e *env) {
	create := func(ws string, ms ...*vigie.Mention) func() error {
		return func() error { _, err := e.CreateMentions(e.ctx, ws, ms); return err }
	}
	good := newMention("acme", "ok", t0)
	noTime := newMention("acme", "t", time.Time{})
	farFuture := newMention("acme", "f", time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC))
	tests := []struct {
		name string
		call func() error
	}{
		{"create no workspace", create("", newMention("", "a", t0))},
		{"create bad workspace", create("ACME", newMention("ACME", "a", t0))},
		{"create nil mention", create("acme", good, nil)},
		{"create no id", create("acme", good, newMention("acme", "", t0))},
		{"create id with newline", create("acme", newMention("acme", "a\nb", t0))},
		{"create no creation time", create("acme", good, noTime)},
		{"create creation time past year 9999", create("acme", farFuture)},
		{"create mention of another workspace", create("acme", good, newMention("globex", "b", t0))},
		{"get no workspace", func() error { _, err := e.GetMention(e.ctx, "", "a"); return err }},
		{"get no id", func() error { _, err := e.GetMention(e.ctx, "acme", ""); return err }},
		{"existing no workspace", func() error { _, err := e.ExistingMentions(e.ctx, "", []string{"a"}); return err }},
		{"existing empty id", func() error { _, err := e.ExistingMentions(e.ctx, "acme", []string{"a", ""}); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { wantKind(t, tt.call(), vigie.KindInvalid) })
	}
	// No invalid batch wrote anything, not even its valid mentions.
	_, err := e.GetMention(e.ctx, "acme", "ok")
	wantKind(t, err, vigie.KindNotFound)
}

// testMentionSize checks the size limit that both drivers share: what fits
// in one fits in the other.
func testMentionSize(t *testing.T, e *env) {
	big := newMention("acme", "big", t0)
	big.Text = strings.Repeat("é", (store.MaxMentionSize-4096)/2)
	e.mustCreateMentions(t, "acme", big)
	if diff := cmp.Diff(big, e.mustGetMention(t, "acme", "big")); diff != "" {
		t.Errorf("large mention mismatch (-want +got):\n%s", diff)
	}
	tooBig := newMention("acme", "too-big", t0)
	tooBig.Text = strings.Repeat("x", store.MaxMentionSize)
	_, err := e.CreateMentions(e.ctx, "acme", []*vigie.Mention{newMention("acme", "small", t0), tooBig})
	wantKind(t, err, vigie.KindTooLarge)
	for _, id := range []string{"small", "too-big"} {
		if _, err := e.GetMention(e.ctx, "acme", id); !vigie.IsKind(err, vigie.KindNotFound) {
			t.Errorf("GetMention(%s) after a refused batch = %v, want NotFound", id, err)
		}
	}
}
