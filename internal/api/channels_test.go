package api

import (
	"context"
	"os"
	"strings"
	"testing"

	"vigie/internal/secrets"
)

func TestChannels_Lifecycle(t *testing.T) {
	e := setup(t, nil)
	acme, globex := e.keys["acme"], e.keys["globex"]
	body := `{"platform":"mastodon","account_id":"1098","instance":"https://mastodon.social","handle":"@lumen","name":"Lumen",
		"poll_every":"10m","credentials":{"access_token":"SECRET-TOKEN-1"}}`
	var c channelView
	a := e.do(t, "POST", "/v1/channels", acme, body, 201, &c)
	if !validRecordID("ch_", c.ID) || c.Platform != "mastodon" || c.Handle != "lumen" || c.Status != "active" || c.PollEvery != "10m0s" || !c.HasCredentials {
		t.Errorf("created channel = %+v", c)
	}
	stored, err := e.secrets.Get(context.Background(), secrets.ChannelSecret("acme", c.ID))
	if err != nil || stored.Reveal() != `{"access_token":"SECRET-TOKEN-1"}` {
		t.Errorf("stored credentials = %q, %v", stored.Reveal(), err)
	}

	// The same account cannot be connected twice, by anyone; the refused
	// attempt leaves no credentials behind.
	a2 := e.do(t, "POST", "/v1/channels", globex, strings.Replace(body, "SECRET-TOKEN-1", "SECRET-TOKEN-2", 1), 409, nil)
	if a2.code() != "account_connected" || a2.field() != "account_id" {
		t.Errorf("second connection = %s", a2.body)
	}
	raw, _ := os.ReadFile(e.secrets.Path)
	if strings.Contains(string(raw), "SECRET-TOKEN-2") {
		t.Error("the refused channel's credentials were kept")
	}

	var list struct{ Channels []channelView }
	e.do(t, "GET", "/v1/channels", acme, "", 200, &list)
	if len(list.Channels) != 1 || list.Channels[0].ID != c.ID {
		t.Errorf("acme's channels = %+v", list.Channels)
	}
	e.do(t, "GET", "/v1/channels", globex, "", 200, &list)
	if len(list.Channels) != 0 {
		t.Errorf("globex sees %+v", list.Channels)
	}
	e.do(t, "GET", "/v1/channels/"+c.ID, globex, "", 404, nil)
	e.do(t, "PATCH", "/v1/channels/"+c.ID, globex, `{"status":"paused"}`, 404, nil)
	e.do(t, "DELETE", "/v1/channels/"+c.ID, globex, "", 404, nil)

	e.do(t, "PATCH", "/v1/channels/"+c.ID, acme, `{"status":"paused","name":"Lumen (FR)"}`, 200, &c)
	if c.Status != "paused" || c.Name != "Lumen (FR)" {
		t.Errorf("after pause = %+v", c)
	}
	e.do(t, "PATCH", "/v1/channels/"+c.ID, acme, `{"status":"sleeping"}`, 400, nil)
	e.do(t, "GET", "/v1/channels/"+c.ID, acme, "", 200, &c)
	if c.Status != "paused" {
		t.Errorf("a refused update changed the channel: %+v", c)
	}

	e.do(t, "DELETE", "/v1/channels/"+c.ID, acme, "", 204, nil)
	e.do(t, "GET", "/v1/channels/"+c.ID, acme, "", 404, nil)
	e.do(t, "DELETE", "/v1/channels/"+c.ID, acme, "", 404, nil)
	if _, err := e.secrets.Get(context.Background(), secrets.ChannelSecret("acme", c.ID)); err == nil {
		t.Error("credentials kept after the channel was removed")
	}
	// Removed, the account can be connected again.
	e.do(t, "POST", "/v1/channels", globex, body, 201, nil)

	for _, s := range []string{string(a.body), e.logs.String()} {
		if strings.Contains(s, "SECRET-TOKEN") {
			t.Errorf("a token shows: %s", s)
		}
	}
}

func TestChannels_Invalid(t *testing.T) {
	e := setup(t, nil)
	for _, tc := range []struct{ name, body, field string }{
		{"unknown platform", `{"platform":"myspace","account_id":"1","name":"n"}`, "platform"},
		{"page id not digits", `{"platform":"facebook","account_id":"lumen","name":"n","credentials":{"access_token":"t"}}`, "account_id"},
		{"youtube id", `{"platform":"youtube","account_id":"UCshort","name":"n"}`, "account_id"},
		{"bluesky did", `{"platform":"bluesky","account_id":"lumen.bsky.social","name":"n"}`, "account_id"},
		{"mastodon without instance", `{"platform":"mastodon","account_id":"1","name":"n","credentials":{"access_token":"t"}}`, "instance"},
		{"instance not a URL", `{"platform":"mastodon","account_id":"1","instance":"mastodon.social","name":"n","credentials":{"access_token":"t"}}`, "instance"},
		{"instance on facebook", `{"platform":"facebook","account_id":"1","instance":"https://x.org","name":"n","credentials":{"access_token":"t"}}`, "instance"},
		{"missing token", `{"platform":"facebook","account_id":"1","name":"n"}`, "credentials.access_token"},
		{"empty credential", `{"platform":"x","account_id":"1","name":"n","credentials":{"bearer_token":""}}`, "credentials.bearer_token"},
		{"bluesky password", `{"platform":"bluesky","account_id":"did:plc:abc","name":"n","credentials":{"identifier":"a"}}`, "credentials.app_password"},
		{"no name", `{"platform":"x","account_id":"1"}`, "name"},
		{"poll too often", `{"platform":"x","account_id":"1","name":"n","poll_every":"10s"}`, "poll_every"},
		{"poll not a duration", `{"platform":"x","account_id":"1","name":"n","poll_every":"often"}`, "poll_every"},
		{"handle with space", `{"platform":"x","account_id":"1","name":"n","handle":"a b"}`, "handle"},
		{"huge credentials", `{"platform":"x","account_id":"1","name":"n","credentials":{"k":"` + strings.Repeat("x", MaxCredentialBytes) + `"}}`, "credentials"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := e.do(t, "POST", "/v1/channels", e.keys["acme"], tc.body, 400, nil)
			if a.field() != tc.field {
				t.Errorf("field = %q, want %q; body %s", a.field(), tc.field, a.body)
			}
		})
	}
	var list struct{ Channels []channelView }
	e.do(t, "GET", "/v1/channels", e.keys["acme"], "", 200, &list)
	if len(list.Channels) != 0 {
		t.Errorf("refused channels were stored: %+v", list.Channels)
	}
	e.do(t, "GET", "/v1/channels/not-an-id", e.keys["acme"], "", 404, nil)
}

func TestWatches(t *testing.T) {
	e := setup(t, nil)
	acme := e.keys["acme"]
	var w watchView
	e.do(t, "POST", "/v1/watches", acme, `{"name":"Lumen","kind":"brand","query":"lumen OR \"maison lumen\"",
		"feeds":["https://www.google.com/alerts/feeds/1/2"],"mastodon_tags":["#lumen"],"mastodon_instance":"https://mastodon.social",
		"bluesky_search":true}`, 201, &w)
	if !validRecordID("wa_", w.ID) || w.Kind != "brand" || len(w.Feeds) != 1 || w.MastodonTags[0] != "lumen" || !w.BlueskySearch || w.Status != "active" {
		t.Errorf("created = %+v", w)
	}
	a := e.do(t, "PATCH", "/v1/watches/"+w.ID, acme, `{"query":"(lumen OR lampe"}`, 400, nil)
	if a.code() != "query_syntax" || a.field() != "query" || !strings.Contains(string(a.body), "position 16") {
		t.Errorf("bad query answer = %s", a.body)
	}
	e.do(t, "PATCH", "/v1/watches/"+w.ID, acme, `{"query":"lampe","kind":"competitor","feeds":[]}`, 200, &w)
	if w.Query != "lampe" || w.Kind != "competitor" || len(w.Feeds) != 0 {
		t.Errorf("updated = %+v", w)
	}
	var list struct{ Watches []watchView }
	e.do(t, "GET", "/v1/watches", e.keys["globex"], "", 200, &list)
	if len(list.Watches) != 0 {
		t.Errorf("globex sees %+v", list.Watches)
	}
	e.do(t, "GET", "/v1/watches/"+w.ID, e.keys["globex"], "", 404, nil)
	e.do(t, "GET", "/v1/watches", acme, "", 200, &list)
	if len(list.Watches) != 1 {
		t.Errorf("acme's watches = %+v", list.Watches)
	}
	e.do(t, "DELETE", "/v1/watches/"+w.ID, acme, "", 204, nil)
	e.do(t, "GET", "/v1/watches/"+w.ID, acme, "", 404, nil)

	for _, tc := range []struct{ name, body, field string }{
		{"no query", `{"name":"n","kind":"brand"}`, "query"},
		{"no kind", `{"name":"n","query":"q"}`, "kind"},
		{"bad kind", `{"name":"n","kind":"rival","query":"q"}`, "kind"},
		{"bad query", `{"name":"n","kind":"brand","query":"NOT q"}`, "query"},
		{"feed not a URL", `{"name":"n","kind":"brand","query":"q","feeds":["ftp://x"]}`, "feeds[0]"},
		{"tag without instance", `{"name":"n","kind":"brand","query":"q","mastodon_tags":["x"]}`, "mastodon_instance"},
		{"bad tag", `{"name":"n","kind":"brand","query":"q","mastodon_tags":["a b"],"mastodon_instance":"https://m.s"}`, "mastodon_tags[0]"},
		{"unknown field", `{"name":"n","kind":"brand","query":"q","colour":"red"}`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := e.do(t, "POST", "/v1/watches", acme, tc.body, 400, nil)
			if a.field() != tc.field {
				t.Errorf("field = %q, want %q; body %s", a.field(), tc.field, a.body)
			}
		})
	}
}
