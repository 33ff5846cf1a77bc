package watch

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"vigie/internal/platform"
	"vigie/internal/platform/bluesky/blueskyfake"
	"vigie/internal/platform/feeds/feedsfake"
	"vigie/internal/platform/mastodon/mastodonfake"
	"vigie/internal/platform/x/xfake"
	"vigie/internal/platform/youtube/youtubefake"
	"vigie/internal/secrets"
	"vigie/internal/vigie"
)

const (
	acmeYT   = "UCacmeacmeacmeacmeacme01"
	globexYT = "UCglobexglobexglobexgl01"
	acmeX    = "2244994945"
)

// connect stores a channel and its credentials.
func (e *env) connect(t *testing.T, c *vigie.Channel, creds string) {
	t.Helper()
	c.Status, c.CreatedAt = vigie.StatusActive, t0
	if err := e.store.CreateChannel(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	if err := e.secrets.Set(secrets.ChannelSecret(c.Workspace, c.ID), creds); err != nil {
		t.Fatal(err)
	}
}

func (e *env) mentions(t *testing.T, ws string) []*vigie.Mention {
	t.Helper()
	page, err := e.store.ListMentions(context.Background(), ws, vigie.MentionQuery{Limit: 200})
	if err != nil {
		t.Fatal(err)
	}
	return page.Mentions
}

func (e *env) source(t *testing.T, ws, id string) *vigie.Source {
	t.Helper()
	s, err := e.store.GetSource(context.Background(), ws, id)
	if err != nil {
		t.Fatalf("source %s/%s: %v", ws, id, err)
	}
	return s
}

// TestRun polls two workspaces' channels and watches against the fakes:
// each source is polled when due, a failing or rate-limited source leaves
// the others alone and keeps its reason, cursors carry over across runs
// so that re-polls bring nothing twice, and a watch's sources keep only
// what its query matches, tagged with the watch.
func TestRun(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	yt, xf, ff := youtubefake.New(t), xfake.New(t), feedsfake.New(t)
	xf.SetNow(func() time.Time { return e.now })
	e.svc.d.Platforms = Platforms{YouTubeURL: yt.URL(), XURL: xf.URL(), HTTP: http.DefaultClient, FeedHTTP: http.DefaultClient}

	e.connect(t, &vigie.Channel{Workspace: "acme", ID: "ch_yt", Platform: platform.YouTube, AccountID: acmeYT, Name: "Acme TV"},
		`{"api_key":"`+youtubefake.APIKey+`"}`)
	e.connect(t, &vigie.Channel{Workspace: "acme", ID: "ch_x", Platform: platform.X, AccountID: acmeX, Name: "Acme"},
		`{"bearer_token":"`+xfake.Token+`"}`)
	e.connect(t, &vigie.Channel{Workspace: "globex", ID: "ch_yt", Platform: platform.YouTube, AccountID: globexYT, Name: "Globex TV"},
		`{"api_key":"`+youtubefake.APIKey+`"}`)
	// A Facebook Page comes by webhook: it is not polled.
	e.connect(t, &vigie.Channel{Workspace: "globex", ID: "ch_fb", Platform: platform.Facebook, AccountID: "448242228374517", Name: "Globex"}, `{}`)

	alerts := feedsfake.GoogleAlertsPath("lumen")
	broken := feedsfake.TalkwalkerPath("broken")
	w := &vigie.Watch{Workspace: "acme", ID: "wa_lumen", Name: "Lumen", Kind: "brand", Query: `lumen -job`, Status: vigie.StatusActive,
		Feeds: []string{ff.AddFeed(alerts, feedsfake.GoogleAlerts, "Google Alert - lumen"), ff.AddFeed(broken, feedsfake.Talkwalker, "lumen")}, CreatedAt: t0}
	if err := e.store.CreateWatch(ctx, w); err != nil {
		t.Fatal(err)
	}

	at := func(d time.Duration) time.Time { return t0.Add(-d) }
	comment := func(id, text string, d time.Duration) youtubefake.Comment {
		return youtubefake.Comment{ID: id, AuthorChannelID: "UCfan", AuthorName: "@fan", Text: text, PublishedAt: at(d)}
	}
	yt.AddThreads(acmeYT, youtubefake.Thread{VideoID: "v1", Comment: comment("Ugy1", "La lampe Lumen est superbe", 3*time.Hour)},
		youtubefake.Thread{VideoID: "v1", Comment: comment("Ugy2", "Livraison ?", 2*time.Hour)})
	yt.AddThreads(globexYT, youtubefake.Thread{VideoID: "g1", Comment: comment("Ugg1", "Globex forever", time.Hour)})
	xf.AddUsers(xfake.User{ID: "9", Username: "jane", Name: "Jane"}, xfake.User{ID: acmeX, Username: "acme", Name: "Acme"})
	xf.AddMentions(acmeX, xfake.Post{ID: "1900000000000000001", AuthorID: "9", Text: "@acme bravo", CreatedAt: at(time.Hour)})
	ff.AddEntries(alerts, feedsfake.Entry{Title: "Lumen lève 2 M€", URL: "https://news.example/lumen-leve", Content: "La jeune pousse <b>Lumen</b>…", Published: at(time.Hour)},
		feedsfake.Entry{Title: "Lumen job fair", URL: "https://news.example/jobs", Content: "Lumen recrute", Published: at(time.Hour)})
	ff.Fail(broken, http.StatusInternalServerError, 0)
	yt.RateLimit(0) // globex's or acme's first call: whichever comes first is refused
	// One refusal among the YouTube channels; which one is up to the
	// scheduler, so count rather than name it.

	rep, err := e.svc.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Workspaces != 2 || rep.Sources != 5 || rep.Due != 5 || rep.Polled != 3 || rep.Failed != 1 || rep.RateLimited != 1 {
		sts, _ := e.store.ListSources(ctx, "acme")
		for _, s := range sts {
			t.Logf("%+v", s)
		}
		t.Fatalf("first run: %+v", rep)
	}
	if s := e.source(t, "acme", sourceID("wa_lumen", "feed", w.Feeds[1])); s.Failures != 1 || !strings.Contains(s.LastError, "500") || s.Cursor != "" {
		t.Errorf("failing feed: %+v", s)
	}
	var limited *vigie.Source
	for _, ws := range []string{"acme", "globex"} {
		if s := e.source(t, ws, sourceID("ch_yt", "comments", "")); s.Failures == 1 {
			limited = s
		}
	}
	if limited == nil || !limited.NextPollAt.After(t0) || limited.LastError == "" {
		t.Fatalf("rate-limited source: %+v", limited)
	}

	// Second run, 5 minutes on: the refused sources go again, the others
	// find only what is new.
	e.now = t0.Add(5 * time.Minute)
	yt.AddThreads(acmeYT, youtubefake.Thread{VideoID: "v2", Comment: comment("Ugy3", "Et en noir ?", -time.Minute)})
	xf.AddMentions(acmeX, xfake.Post{ID: "1900000000000000002", AuthorID: "9", Text: "@acme encore", CreatedAt: e.now.Add(-time.Minute)})
	ff.AddEntries(alerts, feedsfake.Entry{Title: "Lumen au salon", URL: "https://news.example/salon", Content: "Lumen", Published: e.now.Add(-time.Minute)})
	if limited.NextPollAt.After(e.now) {
		e.now = limited.NextPollAt
	}
	rep, err = e.svc.Run(ctx)
	if err != nil || rep.Failed != 0 || rep.RateLimited != 0 {
		t.Fatalf("second run: %+v %v", rep, err)
	}

	acme, globex := e.mentions(t, "acme"), e.mentions(t, "globex")
	ids := map[string]*vigie.Mention{}
	for _, m := range acme {
		ids[m.Platform+":"+m.ExternalID] = m
	}
	for _, want := range []string{"youtube:Ugy1", "youtube:Ugy2", "youtube:Ugy3", "x:1900000000000000001", "x:1900000000000000002"} {
		if m := ids[want]; m == nil || m.Channel == "" {
			t.Errorf("acme lacks %s (or its channel): %+v", want, m)
		}
	}
	var articles []string
	for _, m := range acme {
		if m.Platform == platform.Web {
			articles = append(articles, m.URL)
			if len(m.Watches) != 1 || m.Watches[0] != "wa_lumen" {
				t.Errorf("article %s tagged %v", m.URL, m.Watches)
			}
		}
	}
	if len(articles) != 2 || len(acme) != 7 {
		t.Errorf("acme has %d mentions, articles %v (the job ad must not match)", len(acme), articles)
	}
	if len(globex) != 1 || globex[0].ExternalID != "Ugg1" {
		t.Errorf("globex: %+v", globex)
	}
	if ids["youtube:Ugy1"] != nil && ids["youtube:Ugy1"].Watches[0] != "wa_lumen" {
		t.Errorf("a channel's comment is not tagged with the watch it matches: %v", ids["youtube:Ugy1"].Watches)
	}
	events := e.bus.count()
	if events != len(acme)+len(globex) {
		t.Errorf("%d events for %d mentions", events, len(acme)+len(globex))
	}

	// Not due: nothing is requested. Due again with nothing new: nothing
	// is created or announced twice.
	before := len(yt.Requests()) + len(xf.Requests()) + len(ff.Requests())
	if rep, _ := e.svc.Run(ctx); rep.Due != 0 || len(yt.Requests())+len(xf.Requests())+len(ff.Requests()) != before {
		t.Errorf("a run before anything is due: %+v", rep)
	}
	e.now = e.now.Add(time.Hour)
	if rep, _ := e.svc.Run(ctx); rep.Due != 5 || rep.Created != 0 || e.bus.count() != events {
		t.Errorf("re-poll: %+v, %d new events", rep, e.bus.count()-events)
	}
}

// TestRun_Social polls Mastodon and Bluesky: a connected account's
// notifications, a watch's hashtag timeline and Bluesky searches (signed
// in with the workspace's Bluesky channel, one login for all), each kept
// to what the watch's query matches. A workspace without a Bluesky
// channel gets its searches recorded as failing, with the reason.
func TestRun_Social(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	mf, bf := mastodonfake.New(t), blueskyfake.New(t)
	mf.SetClock(func() time.Time { return e.now })
	bf.SetClock(func() time.Time { return e.now })

	e.connect(t, &vigie.Channel{Workspace: "acme", ID: "ch_masto", Platform: platform.Mastodon, AccountID: "109", Instance: mf.URL(), Name: "@acme"},
		`{"access_token":"`+mastodonfake.Token+`"}`)
	e.connect(t, &vigie.Channel{Workspace: "acme", ID: "ch_bsky", Platform: platform.Bluesky, AccountID: blueskyfake.DID, Instance: bf.URL(), Name: "acme.bsky.social"},
		`{"identifier":"`+blueskyfake.Identifier+`","app_password":"`+blueskyfake.Password+`"}`)
	for _, w := range []*vigie.Watch{
		{Workspace: "acme", ID: "wa_lumen", Name: "Lumen", Kind: "brand", Query: `lumen OR "maison lumen"`,
			MastodonTags: []string{"design"}, MastodonInstance: mf.URL(), BlueskySearch: true},
		{Workspace: "globex", ID: "wa_globex", Name: "Globex", Kind: "brand", Query: `globex`, BlueskySearch: true},
	} {
		w.Status, w.CreatedAt = vigie.StatusActive, t0
		if err := e.store.CreateWatch(ctx, w); err != nil {
			t.Fatal(err)
		}
	}

	fan := mastodonfake.Account{Username: "claire", Domain: "piaille.fr", DisplayName: "Claire"}
	mf.AddMentions(mastodonfake.Status{Account: fan, Content: "<p>@acme ma lampe est arrivée</p>", CreatedAt: t0.Add(-time.Hour)})
	mf.AddTagStatuses("design", mastodonfake.Status{Account: fan, Content: "<p>La <b>Lumen</b> #design</p>", CreatedAt: t0.Add(-time.Hour)},
		mastodonfake.Status{Account: fan, Content: "<p>Autre chose #design</p>", CreatedAt: t0.Add(-time.Hour)})
	bob := blueskyfake.Author{DID: "did:plc:bob", Handle: "bob.bsky.social", DisplayName: "Bob"}
	bf.AddNotifications(blueskyfake.Notification{URI: blueskyfake.PostURI(bob.DID, "3k1"), Author: bob, Reason: "mention",
		Text: "@acme.bsky.social bonjour", CreatedAt: t0.Add(-time.Hour)})
	bf.AddPosts(blueskyfake.Post{URI: blueskyfake.PostURI(bob.DID, "3k2"), Author: bob, Text: "J'adore Maison Lumen", CreatedAt: t0.Add(-time.Hour)})

	rep, err := e.svc.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// acme: notifications ×2, one tag, two search terms; globex: one
	// search term, which cannot sign in.
	if rep.Sources != 6 || rep.Polled != 5 || rep.Failed != 1 {
		t.Fatalf("run: %+v", rep)
	}
	s := e.source(t, "globex", sourceID("wa_globex", "bluesky", "globex"))
	if !strings.Contains(s.LastError, "Bluesky channel") {
		t.Errorf("globex's search: %+v", s)
	}
	got := map[string][]string{}
	for _, m := range e.mentions(t, "acme") {
		got[m.Platform+" "+m.Text] = m.Watches
	}
	want := map[string][]string{
		"mastodon @acme ma lampe est arrivée": nil,
		"mastodon La Lumen #design":           {"wa_lumen"},
		"bluesky @acme.bsky.social bonjour":   nil,
		"bluesky J'adore Maison Lumen":        {"wa_lumen"},
	}
	if len(got) != len(want) {
		t.Errorf("acme's mentions: %v", got)
	}
	for k, w := range want {
		if g, ok := got[k]; !ok || strings.Join(g, ",") != strings.Join(w, ",") {
			t.Errorf("%q: watches %v (stored %v), want %v", k, g, ok, w)
		}
	}

	// Later: only what is new comes, once.
	e.now = t0.Add(10 * time.Minute)
	mf.AddMentions(mastodonfake.Status{Account: fan, Content: "<p>@acme merci !</p>"})
	bf.AddPosts(blueskyfake.Post{URI: blueskyfake.PostURI(bob.DID, "3k3"), Author: bob, Text: "lumen encore", CreatedAt: e.now.Add(-time.Minute)})
	if rep, err = e.svc.Run(ctx); err != nil || rep.Created != 2 {
		t.Errorf("second run: %+v %v", rep, err)
	}
	if n := e.bus.count(); n != 6 {
		for _, ev := range e.bus.events {
			t.Logf("%s %s", ev.Type, ev.Detail)
		}
		t.Errorf("%d events, want 6", n)
	}
	// The session outlives the run.
	if n := bf.Calls("com.atproto.server.createSession"); n != 1 {
		t.Errorf("%d Bluesky logins for two runs, want 1", n)
	}
}

// TestRun_PrivateFeed: by default a feed URL reaching a loopback address
// is refused before any request, and the source says why.
func TestRun_PrivateFeed(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	ff := feedsfake.New(t)
	u := ff.AddFeed(feedsfake.TalkwalkerPath("x"), feedsfake.Talkwalker, "lumen")
	w := &vigie.Watch{Workspace: "acme", ID: "wa_lumen", Name: "Lumen", Kind: "brand", Query: "lumen", Feeds: []string{u},
		Status: vigie.StatusActive, CreatedAt: t0}
	if err := e.store.CreateWatch(ctx, w); err != nil {
		t.Fatal(err)
	}
	rep, err := e.svc.Run(ctx)
	if err != nil || rep.Failed != 1 {
		t.Fatalf("run: %+v %v", rep, err)
	}
	if s := e.source(t, "acme", sourceID("wa_lumen", "feed", u)); !strings.Contains(s.LastError, "not a public address") {
		t.Errorf("source: %+v", s)
	}
	if n := len(ff.Requests()); n != 0 {
		t.Errorf("the feed host got %d requests", n)
	}
}

// TestRun_Deadline: when the function's time is running out, due sources
// are left for the next run rather than cut off mid-poll, and that run
// takes them first.
func TestRun_Deadline(t *testing.T) {
	e := setup(t)
	ff := feedsfake.New(t)
	var feedURLs []string
	for _, id := range []string{"a", "b", "c"} {
		feedURLs = append(feedURLs, ff.AddFeed(feedsfake.TalkwalkerPath(id), feedsfake.Talkwalker, "lumen"))
	}
	w := &vigie.Watch{Workspace: "acme", ID: "wa_lumen", Name: "Lumen", Kind: "brand", Query: "lumen", Feeds: feedURLs,
		Status: vigie.StatusActive, CreatedAt: t0}
	if err := e.store.CreateWatch(context.Background(), w); err != nil {
		t.Fatal(err)
	}
	e.svc.d.Platforms.FeedHTTP = http.DefaultClient
	e.svc.d.PollTimeout = time.Second

	ctx, cancel := context.WithTimeout(context.Background(), saveMargin) // less than a poll and its save
	defer cancel()
	rep, err := e.svc.Run(ctx)
	if err != nil || rep.Due != 3 || rep.Deferred != 3 || rep.Polled != 0 || len(ff.Requests()) != 0 {
		t.Fatalf("late run: %+v %v, %d requests", rep, err, len(ff.Requests()))
	}
	rep, err = e.svc.Run(context.Background())
	if err != nil || rep.Due != 3 || rep.Deferred != 0 || rep.Polled != 3 {
		t.Fatalf("next run: %+v %v", rep, err)
	}
}
