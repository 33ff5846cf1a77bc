package storetest

import (
	"cmp"
	"fmt"
	"slices"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"

	"vigie/internal/vigie"
)

var listTests = []subtest{
	{"Ranges", testListRanges},
	{"Empty", testListEmpty},
	{"PageSizes", testListPageSizes},
	{"InsertDuringWalk", testListInsertDuringWalk},
	{"CursorTampered", testListCursorTampered},
	{"CursorOtherWorkspace", testListCursorOtherWorkspace},
	{"CursorOtherQuery", testListCursorOtherQuery},
	{"Invalid", testListInvalid},
}

// sorted returns the ids of ms in listing order: newest first, ties broken
// by descending id.
func sorted(ms []*vigie.Mention) []string {
	ms = slices.Clone(ms)
	slices.SortFunc(ms, func(a, b *vigie.Mention) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return cmp.Compare(b.ID, a.ID)
	})
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.ID
	}
	return out
}

func testListRanges(t *testing.T, e *env) {
	at := func(minutes int) time.Time { return t0.Add(time.Duration(minutes) * time.Minute) }
	var ms []*vigie.Mention
	for i := range 10 {
		ms = append(ms, newMention("acme", fmt.Sprintf("m-%02d", i), at(i)))
	}
	// Ties at minute 5, inserted out of id order, and neighbours one
	// nanosecond away on each side.
	for _, id := range []string{"tie-b", "tie-c", "tie-a"} {
		ms = append(ms, newMention("acme", id, at(5)))
	}
	ms = append(ms,
		newMention("acme", "ns-before", at(5).Add(-time.Nanosecond)),
		newMention("acme", "ns-after", at(5).Add(time.Nanosecond)),
		newMention("acme", "old", time.Date(1999, 12, 31, 23, 59, 59, 0, time.UTC)),
	)
	e.mustCreateMentions(t, "acme", ms...)

	tests := []struct {
		name         string
		since, until time.Time
	}{
		{"everything", time.Time{}, time.Time{}},
		{"since is inclusive", at(5), time.Time{}},
		{"until is exclusive", time.Time{}, at(5)},
		{"both", at(2), at(7)},
		{"just the ties", at(5), at(5).Add(time.Nanosecond)},
		{"since equals until", at(5), at(5)},
		{"before everything", time.Time{}, time.Date(1999, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"after everything", at(60), time.Time{}},
		{"other time zone", at(3).In(time.FixedZone("X", -5*3600)), at(6).In(time.FixedZone("Y", 9*3600))},
	}
	for _, tt := range tests {
		var in []*vigie.Mention
		for _, m := range ms {
			if !m.CreatedAt.Before(tt.since) && (tt.until.IsZero() || m.CreatedAt.Before(tt.until)) {
				in = append(in, m)
			}
		}
		want := sorted(in)
		for _, limit := range []int{1, 2, 3, 0, vigie.MaxPageSize} {
			t.Run(fmt.Sprintf("%s/limit %d", tt.name, limit), func(t *testing.T) {
				got := e.walk(t, "acme", vigie.MentionQuery{Since: tt.since, Until: tt.until, Limit: limit})
				if diff := gocmp.Diff(want, got); diff != "" {
					t.Errorf("walk mismatch (-want +got):\n%s", diff)
				}
			})
		}
	}

	// Pages hold whole mentions, not just ids.
	p, err := e.ListMentions(e.ctx, "acme", vigie.MentionQuery{Since: at(9), Limit: 1})
	if err != nil || len(p.Mentions) != 1 {
		t.Fatalf("ListMentions = %v, %v; want one mention", p, err)
	}
	if diff := gocmp.Diff(ms[9], p.Mentions[0]); diff != "" {
		t.Errorf("listed mention mismatch (-want +got):\n%s", diff)
	}
}

func testListEmpty(t *testing.T, e *env) {
	p, err := e.ListMentions(e.ctx, "acme", vigie.MentionQuery{})
	if err != nil {
		t.Fatalf("ListMentions: %v", err)
	}
	if len(p.Mentions) != 0 || p.Next != "" {
		t.Errorf("ListMentions on an empty workspace = %d mentions, Next %q; want none", len(p.Mentions), p.Next)
	}
}

func testListPageSizes(t *testing.T, e *env) {
	n := vigie.MaxPageSize + 5
	ms := make([]*vigie.Mention, n)
	for i := range ms {
		ms[i] = newMention("acme", fmt.Sprintf("m-%04d", i), t0.Add(time.Duration(i)*time.Millisecond))
	}
	e.mustCreateMentions(t, "acme", ms...)
	tests := []struct {
		limit, want int
	}{
		{0, vigie.DefaultPageSize},
		{7, 7},
		{vigie.MaxPageSize, vigie.MaxPageSize},
		{vigie.MaxPageSize + 1, vigie.MaxPageSize},
		{1 << 30, vigie.MaxPageSize},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("limit %d", tt.limit), func(t *testing.T) {
			p, err := e.ListMentions(e.ctx, "acme", vigie.MentionQuery{Limit: tt.limit})
			if err != nil {
				t.Fatalf("ListMentions: %v", err)
			}
			if len(p.Mentions) != tt.want || p.Next == "" {
				t.Errorf("page has %d mentions, Next %q; want %d and a cursor", len(p.Mentions), p.Next, tt.want)
			}
		})
	}
	// A page that ends exactly at the last mention has no Next.
	p, err := e.ListMentions(e.ctx, "acme", vigie.MentionQuery{Limit: 5, Until: t0.Add(5 * time.Millisecond)})
	if err != nil || len(p.Mentions) != 5 || p.Next != "" {
		t.Errorf("exactly full last page: %v, %v; want 5 mentions and no Next", p, err)
	}
}

// testListInsertDuringWalk checks that cursors are positions, not offsets:
// mentions added during a walk neither shift nor repeat what is listed.
func testListInsertDuringWalk(t *testing.T, e *env) {
	var ms []*vigie.Mention
	for i := range 6 {
		ms = append(ms, newMention("acme", fmt.Sprintf("m%d", i), t0.Add(time.Duration(i)*time.Minute)))
	}
	e.mustCreateMentions(t, "acme", ms...)
	p, err := e.ListMentions(e.ctx, "acme", vigie.MentionQuery{Limit: 3})
	if err != nil {
		t.Fatal(err)
	}
	newer, older := newMention("acme", "newer", t0.Add(time.Hour)), newMention("acme", "older", t0.Add(-time.Hour))
	e.mustCreateMentions(t, "acme", newer, older)
	rest := e.walk(t, "acme", vigie.MentionQuery{Limit: 3, Cursor: p.Next})
	got := append(sorted(p.Mentions), rest...)
	if diff := gocmp.Diff([]string{"m5", "m4", "m3", "m2", "m1", "m0", "older"}, got); diff != "" {
		t.Errorf("walk mismatch (-want +got):\n%s", diff)
	}
}

func firstPageCursor(t *testing.T, e *env, ws string, q vigie.MentionQuery) string {
	t.Helper()
	p, err := e.ListMentions(e.ctx, ws, q)
	if err != nil {
		t.Fatalf("ListMentions: %v", err)
	}
	if p.Next == "" {
		t.Fatalf("ListMentions returned no Next cursor")
	}
	return p.Next
}

func testListCursorTampered(t *testing.T, e *env) {
	for i := range 5 {
		e.mustCreateMentions(t, "acme", newMention("acme", fmt.Sprintf("m%d", i), t0.Add(time.Duration(i)*time.Minute)))
	}
	c := firstPageCursor(t, e, "acme", vigie.MentionQuery{Limit: 2})
	// Changing any one character must be detected.
	for i := range c {
		b := []byte(c)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		_, err := e.ListMentions(e.ctx, "acme", vigie.MentionQuery{Limit: 2, Cursor: string(b)})
		if !vigie.IsKind(err, vigie.KindInvalid) {
			t.Fatalf("cursor with character %d changed: err = %v, want Invalid", i, err)
		}
	}
	for _, bad := range []string{"x", "not a cursor", c[:len(c)-1], c + "A", c + c, "====", "\x00"} {
		_, err := e.ListMentions(e.ctx, "acme", vigie.MentionQuery{Limit: 2, Cursor: bad})
		wantKind(t, err, vigie.KindInvalid)
	}
	// The genuine one still works, with any limit.
	if _, err := e.ListMentions(e.ctx, "acme", vigie.MentionQuery{Limit: 9, Cursor: c}); err != nil {
		t.Errorf("genuine cursor: %v", err)
	}
}

func testListCursorOtherWorkspace(t *testing.T, e *env) {
	for _, ws := range []string{"acme", "globex"} {
		for i := range 3 {
			e.mustCreateMentions(t, ws, newMention(ws, fmt.Sprintf("m%d", i), t0.Add(time.Duration(i)*time.Minute)))
		}
	}
	c := firstPageCursor(t, e, "globex", vigie.MentionQuery{Limit: 1})
	_, err := e.ListMentions(e.ctx, "acme", vigie.MentionQuery{Limit: 1, Cursor: c})
	wantKind(t, err, vigie.KindInvalid)
}

func testListCursorOtherQuery(t *testing.T, e *env) {
	for i := range 5 {
		e.mustCreateMentions(t, "acme", newMention("acme", fmt.Sprintf("m%d", i), t0.Add(time.Duration(i)*time.Minute)))
	}
	since, until := t0, t0.Add(time.Hour)
	c := firstPageCursor(t, e, "acme", vigie.MentionQuery{Since: since, Until: until, Limit: 1})
	tests := []struct {
		name         string
		since, until time.Time
	}{
		{"no bounds", time.Time{}, time.Time{}},
		{"no since", time.Time{}, until},
		{"no until", since, time.Time{}},
		{"other since", since.Add(-time.Nanosecond), until},
		{"other until", since, until.Add(time.Second)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.ListMentions(e.ctx, "acme", vigie.MentionQuery{Since: tt.since, Until: tt.until, Limit: 1, Cursor: c})
			wantKind(t, err, vigie.KindInvalid)
		})
	}
	// The same instants in another time zone are the same query.
	z := time.FixedZone("Z", 7200)
	if _, err := e.ListMentions(e.ctx, "acme", vigie.MentionQuery{Since: since.In(z), Until: until.In(z), Limit: 1, Cursor: c}); err != nil {
		t.Errorf("same query in another zone: %v", err)
	}
}

func testListInvalid(t *testing.T, e *env) {
	tests := []struct {
		name string
		ws   string
		q    vigie.MentionQuery
	}{
		{"no workspace", "", vigie.MentionQuery{}},
		{"bad workspace", "Acme", vigie.MentionQuery{}},
		{"negative limit", "acme", vigie.MentionQuery{Limit: -1}},
		{"since after until", "acme", vigie.MentionQuery{Since: t0.Add(time.Second), Until: t0}},
		{"until past year 9999", "acme", vigie.MentionQuery{Until: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.ListMentions(e.ctx, tt.ws, tt.q)
			wantKind(t, err, vigie.KindInvalid)
		})
	}
}
