package storetest

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"vigie/internal/vigie"
)

var channelTests = []subtest{
	{"CreateGet", testChannelCreateGet},
	{"CreateDuplicateID", testChannelCreateDuplicateID},
	{"CreateDuplicateAccount", testChannelCreateDuplicateAccount},
	{"CreateConcurrentSameAccount", testChannelCreateConcurrentSameAccount},
	{"List", testChannelList},
	{"Update", testChannelUpdate},
	{"UpdateRefused", testChannelUpdateRefused},
	{"Delete", testChannelDelete},
	{"ByAccount", testChannelByAccount},
	{"Invalid", testChannelInvalid},
}

// newChannel returns a channel of ws with every field set; its account id
// is "acct-<id>".
func newChannel(ws, id string, createdAt time.Time) *vigie.Channel {
	return &vigie.Channel{
		Workspace: ws, ID: id, Platform: "mastodon", AccountID: "acct-" + id,
		Instance: "https://mastodon.example", Handle: "@lumen", Name: "Lumen « officiel » 🕯",
		Status: vigie.StatusActive, PollEvery: 90 * time.Second, CreatedAt: createdAt,
	}
}

func (e *env) mustCreateChannel(t *testing.T, c *vigie.Channel) {
	t.Helper()
	if err := e.CreateChannel(e.ctx, c); err != nil {
		t.Fatalf("CreateChannel(%q, %q): %v", c.Workspace, c.ID, err)
	}
}

func (e *env) mustGetChannel(t *testing.T, ws, id string) *vigie.Channel {
	t.Helper()
	c, err := e.GetChannel(e.ctx, ws, id)
	if err != nil {
		t.Fatalf("GetChannel(%q, %q): %v", ws, id, err)
	}
	return c
}

func testChannelCreateGet(t *testing.T, e *env) {
	want := newChannel("acme", "ch_1", t0.In(time.FixedZone("CET", 3600)).Add(123))
	want.Version = 2
	in := *want
	e.mustCreateChannel(t, &in)
	if diff := cmp.Diff(want, e.mustGetChannel(t, "acme", "ch_1")); diff != "" {
		t.Errorf("GetChannel mismatch (-want +got):\n%s", diff)
	}
	// A minimal channel round-trips too, with its empty fields empty.
	bare := &vigie.Channel{Workspace: "acme", ID: "ch_2", Platform: "x", AccountID: "42", Status: vigie.StatusPaused, CreatedAt: t0}
	e.mustCreateChannel(t, bare)
	if diff := cmp.Diff(bare, e.mustGetChannel(t, "acme", "ch_2")); diff != "" {
		t.Errorf("GetChannel of a minimal channel mismatch (-want +got):\n%s", diff)
	}
	_, err := e.GetChannel(e.ctx, "acme", "ch_3")
	wantKind(t, err, vigie.KindNotFound)
}

func testChannelCreateDuplicateID(t *testing.T, e *env) {
	first := newChannel("acme", "ch_1", t0)
	e.mustCreateChannel(t, first)
	dup := newChannel("acme", "ch_1", t0.Add(time.Hour))
	dup.AccountID, dup.Name = "another-account", "Impostor"
	err := e.CreateChannel(e.ctx, dup)
	wantKind(t, err, vigie.KindConflict)
	if !strings.Contains(err.Error(), "channel") {
		t.Errorf("Conflict %q does not say the channel id is taken", err)
	}
	if diff := cmp.Diff(first, e.mustGetChannel(t, "acme", "ch_1")); diff != "" {
		t.Errorf("a duplicate create changed the stored channel (-want +got):\n%s", diff)
	}
	// The refused channel's account was not connected.
	_, err = e.ChannelByAccount(e.ctx, "mastodon", "another-account")
	wantKind(t, err, vigie.KindNotFound)
	// The same id in another workspace is another channel (of another
	// account).
	other := newChannel("globex", "ch_1", t0)
	other.AccountID = "globex-account"
	e.mustCreateChannel(t, other)
}

func testChannelCreateDuplicateAccount(t *testing.T, e *env) {
	first := newChannel("acme", "ch_1", t0)
	e.mustCreateChannel(t, first)
	for _, c := range []*vigie.Channel{newChannel("acme", "ch_2", t0), newChannel("globex", "ch_9", t0)} {
		c.AccountID = first.AccountID
		err := e.CreateChannel(e.ctx, c)
		wantKind(t, err, vigie.KindConflict)
		if !strings.Contains(err.Error(), "account") {
			t.Errorf("Conflict %q does not say the account is connected", err)
		}
		_, err = e.GetChannel(e.ctx, c.Workspace, c.ID)
		wantKind(t, err, vigie.KindNotFound)
	}
	got, err := e.ChannelByAccount(e.ctx, "mastodon", first.AccountID)
	if err != nil {
		t.Fatalf("ChannelByAccount: %v", err)
	}
	if diff := cmp.Diff(first, got); diff != "" {
		t.Errorf("ChannelByAccount after refused duplicates (-want +got):\n%s", diff)
	}
	// The same account id on another platform is another account.
	c := newChannel("globex", "ch_9", t0)
	c.Platform, c.AccountID = "bluesky", first.AccountID
	e.mustCreateChannel(t, c)
}

func testChannelCreateConcurrentSameAccount(t *testing.T, e *env) {
	const n = 6
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			c := newChannel([]string{"acme", "globex"}[i%2], "ch_"+string(rune('a'+i)), t0)
			c.AccountID = "contested"
			errs[i] = e.CreateChannel(e.ctx, c)
		})
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case vigie.IsKind(err, vigie.KindConflict), vigie.IsKind(err, vigie.KindUnavailable):
		default:
			t.Errorf("concurrent CreateChannel: %v, want nil, Conflict or Unavailable", err)
		}
	}
	if won != 1 {
		t.Fatalf("%d of %d concurrent creates of one account succeeded, want exactly 1", won, n)
	}
	total := 0
	for _, ws := range []string{"acme", "globex"} {
		cs, err := e.ListChannels(e.ctx, ws)
		if err != nil {
			t.Fatal(err)
		}
		total += len(cs)
	}
	if total != 1 {
		t.Errorf("%d channels stored for one account, want 1", total)
	}
}

func testChannelList(t *testing.T, e *env) {
	if cs, err := e.ListChannels(e.ctx, "acme"); err != nil || len(cs) != 0 {
		t.Fatalf("ListChannels on an empty workspace = %v, %v; want none", cs, err)
	}
	cs := []*vigie.Channel{
		newChannel("acme", "ch_c", t0),
		newChannel("acme", "ch_a", t0.Add(time.Hour)),
		newChannel("acme", "ch_b", t0), // same time as ch_c: ties go by id
		newChannel("acme", "ch_d", t0.Add(-time.Hour)),
	}
	cs[1].Status = vigie.StatusPaused
	for _, c := range cs {
		e.mustCreateChannel(t, c)
	}
	e.mustCreateChannel(t, newChannel("globex", "ch_z", t0))
	got, err := e.ListChannels(e.ctx, "acme")
	if err != nil {
		t.Fatalf("ListChannels: %v", err)
	}
	want := []*vigie.Channel{cs[3], cs[2], cs[0], cs[1]}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ListChannels mismatch, want oldest first, paused included (-want +got):\n%s", diff)
	}
}

func testChannelUpdate(t *testing.T, e *env) {
	e.mustCreateChannel(t, newChannel("acme", "ch_1", t0))
	c := e.mustGetChannel(t, "acme", "ch_1")
	before := c.Version
	c.Name, c.Status, c.PollEvery, c.Handle, c.Instance = "Renamed", vigie.StatusPaused, 0, "", ""
	if err := e.UpdateChannel(e.ctx, c); err != nil {
		t.Fatalf("UpdateChannel: %v", err)
	}
	if c.Version != before+1 {
		t.Errorf("Version = %d after update, want %d", c.Version, before+1)
	}
	got := e.mustGetChannel(t, "acme", "ch_1")
	if diff := cmp.Diff(c, got); diff != "" {
		t.Errorf("stored channel mismatch (-want +got):\n%s", diff)
	}
	// The account index sees the update.
	byAccount, err := e.ChannelByAccount(e.ctx, c.Platform, c.AccountID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(c, byAccount); diff != "" {
		t.Errorf("ChannelByAccount after update (-want +got):\n%s", diff)
	}
}

func testChannelUpdateRefused(t *testing.T, e *env) {
	e.mustCreateChannel(t, newChannel("acme", "ch_1", t0))
	a := e.mustGetChannel(t, "acme", "ch_1")
	b := e.mustGetChannel(t, "acme", "ch_1")
	a.Name = "first"
	if err := e.UpdateChannel(e.ctx, a); err != nil {
		t.Fatalf("UpdateChannel: %v", err)
	}
	b.Name = "second"
	wantKind(t, e.UpdateChannel(e.ctx, b), vigie.KindConflict)

	fresh := e.mustGetChannel(t, "acme", "ch_1")
	tests := []struct {
		name   string
		change func(c *vigie.Channel)
		kind   string
	}{
		{"platform changed", func(c *vigie.Channel) { c.Platform = "bluesky" }, vigie.KindInvalid},
		{"account changed", func(c *vigie.Channel) { c.AccountID = "acct-other" }, vigie.KindInvalid},
		{"missing", func(c *vigie.Channel) { c.ID = "ch_2" }, vigie.KindNotFound},
		{"through another workspace", func(c *vigie.Channel) { c.Workspace = "globex" }, vigie.KindNotFound},
		{"future version", func(c *vigie.Channel) { c.Version += 5 }, vigie.KindConflict},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := *fresh
			tt.change(&c)
			c.Name = "refused"
			version := c.Version
			wantKind(t, e.UpdateChannel(e.ctx, &c), tt.kind)
			if c.Version != version {
				t.Errorf("a refused update changed the caller's Version to %d", c.Version)
			}
		})
	}
	if diff := cmp.Diff(a, e.mustGetChannel(t, "acme", "ch_1")); diff != "" {
		t.Errorf("refused updates changed the stored channel (-want +got):\n%s", diff)
	}
	for _, ref := range [][2]string{{"acme", "ch_2"}, {"globex", "ch_1"}} {
		_, err := e.GetChannel(e.ctx, ref[0], ref[1])
		wantKind(t, err, vigie.KindNotFound)
	}
	_, err := e.ChannelByAccount(e.ctx, "mastodon", "acct-other")
	wantKind(t, err, vigie.KindNotFound)
}

func testChannelDelete(t *testing.T, e *env) {
	c := newChannel("acme", "ch_1", t0)
	e.mustCreateChannel(t, c)
	keep := newChannel("acme", "ch_2", t0)
	e.mustCreateChannel(t, keep)
	if err := e.DeleteChannel(e.ctx, "acme", "ch_1"); err != nil {
		t.Fatalf("DeleteChannel: %v", err)
	}
	_, err := e.GetChannel(e.ctx, "acme", "ch_1")
	wantKind(t, err, vigie.KindNotFound)
	_, err = e.ChannelByAccount(e.ctx, c.Platform, c.AccountID)
	wantKind(t, err, vigie.KindNotFound)
	wantKind(t, e.DeleteChannel(e.ctx, "acme", "ch_1"), vigie.KindNotFound)
	wantKind(t, e.DeleteChannel(e.ctx, "globex", "ch_2"), vigie.KindNotFound)
	if diff := cmp.Diff([]*vigie.Channel{keep}, mustList(t, e.ListChannels, "acme")); diff != "" {
		t.Errorf("ListChannels after delete (-want +got):\n%s", diff)
	}
	// The account is free again, for any workspace.
	again := newChannel("globex", "ch_7", t0)
	again.AccountID = c.AccountID
	e.mustCreateChannel(t, again)
	got, err := e.ChannelByAccount(e.ctx, c.Platform, c.AccountID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(again, got); diff != "" {
		t.Errorf("ChannelByAccount after reconnecting (-want +got):\n%s", diff)
	}
}

func testChannelByAccount(t *testing.T, e *env) {
	a, b := newChannel("acme", "ch_1", t0), newChannel("globex", "ch_1", t0.Add(time.Minute))
	b.AccountID = "acct-globex"
	e.mustCreateChannel(t, a)
	e.mustCreateChannel(t, b)
	for _, want := range []*vigie.Channel{a, b} {
		got, err := e.ChannelByAccount(e.ctx, want.Platform, want.AccountID)
		if err != nil {
			t.Fatalf("ChannelByAccount(%q): %v", want.AccountID, err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("ChannelByAccount(%q) (-want +got):\n%s", want.AccountID, diff)
		}
	}
	for _, k := range [][2]string{{"mastodon", "acct-unknown"}, {"bluesky", a.AccountID}, {"mastodon", "ACCT-CH_1"}} {
		_, err := e.ChannelByAccount(e.ctx, k[0], k[1])
		wantKind(t, err, vigie.KindNotFound)
	}
}

func testChannelInvalid(t *testing.T, e *env) {
	e.mustCreateChannel(t, newChannel("acme", "ch_1", t0))
	with := func(change func(c *vigie.Channel)) *vigie.Channel {
		c := newChannel("acme", "ch_new", t0)
		change(c)
		return c
	}
	bad := map[string]*vigie.Channel{
		"nil":                 nil,
		"no workspace":        with(func(c *vigie.Channel) { c.Workspace = "" }),
		"bad workspace":       with(func(c *vigie.Channel) { c.Workspace = "Acme" }),
		"no id":               with(func(c *vigie.Channel) { c.ID = "" }),
		"id with space":       with(func(c *vigie.Channel) { c.ID = "ch 1" }),
		"no platform":         with(func(c *vigie.Channel) { c.Platform = "" }),
		"platform with #":     with(func(c *vigie.Channel) { c.Platform = "a#b" }),
		"no account":          with(func(c *vigie.Channel) { c.AccountID = "" }),
		"account too long":    with(func(c *vigie.Channel) { c.AccountID = strings.Repeat("1", 256) }),
		"account with NUL":    with(func(c *vigie.Channel) { c.AccountID = "a\x00b" }),
		"name too long":       with(func(c *vigie.Channel) { c.Name = strings.Repeat("n", 201) }),
		"no status":           with(func(c *vigie.Channel) { c.Status = "" }),
		"unknown status":      with(func(c *vigie.Channel) { c.Status = "deleted" }),
		"negative poll_every": with(func(c *vigie.Channel) { c.PollEvery = -time.Second }),
		"created past 9999":   with(func(c *vigie.Channel) { c.CreatedAt = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) }),
	}
	for name, c := range bad {
		t.Run("create "+name, func(t *testing.T) { wantKind(t, e.CreateChannel(e.ctx, c), vigie.KindInvalid) })
		t.Run("update "+name, func(t *testing.T) { wantKind(t, e.UpdateChannel(e.ctx, c), vigie.KindInvalid) })
	}
	// The field is named.
	err := e.CreateChannel(e.ctx, bad["no status"])
	if ve, ok := vigie.AsError(err); !ok || ve.Field != "status" {
		t.Errorf("CreateChannel with no status = %#v, want Invalid naming status", err)
	}
	calls := map[string]func() error{
		"get no workspace":      func() error { _, err := e.GetChannel(e.ctx, "", "ch_1"); return err },
		"get no id":             func() error { _, err := e.GetChannel(e.ctx, "acme", ""); return err },
		"list bad workspace":    func() error { _, err := e.ListChannels(e.ctx, "A"); return err },
		"delete no id":          func() error { return e.DeleteChannel(e.ctx, "acme", "") },
		"by account no account": func() error { _, err := e.ChannelByAccount(e.ctx, "mastodon", ""); return err },
		"by account no platform": func() error {
			_, err := e.ChannelByAccount(e.ctx, "", "acct-ch_1")
			return err
		},
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) { wantKind(t, call(), vigie.KindInvalid) })
	}
	if cs := mustList(t, e.ListChannels, "acme"); len(cs) != 1 {
		t.Errorf("after invalid calls, %d channels, want 1", len(cs))
	}
}

// mustList calls a workspace listing and fails t on error.
func mustList[T any](t *testing.T, list func(ctx context.Context, ws string) ([]T, error), ws string) []T {
	t.Helper()
	xs, err := list(t.Context(), ws)
	if err != nil {
		t.Fatalf("listing %q: %v", ws, err)
	}
	return xs
}
