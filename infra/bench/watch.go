package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"vigie/internal/app"
	"vigie/internal/platform"
	"vigie/internal/platform/bluesky/blueskyfake"
	"vigie/internal/platform/fakeapi"
	"vigie/internal/platform/feeds/feedsfake"
	"vigie/internal/platform/mastodon/mastodonfake"
	"vigie/internal/platform/youtube/youtubefake"
	"vigie/internal/secrets"
	"vigie/internal/store/dynamostore"
	"vigie/internal/vigie"
	"vigie/internal/watch"
)

// Watch bench layout: watchWorkspaces workspaces, each with a YouTube, a
// Mastodon and a Bluesky channel and a watch with a feed and a hashtag:
// five sources each.
const (
	watchWorkspaces = 10
	watchSources    = 5 * watchWorkspaces
	watchBacklog    = 40 // items per source before the first run
	watchNew        = 10 // items per source added before the second run
	watchTable      = "vigie-bench-watch"
)

// watchFakes are the platforms the bench polls, on loopback.
type watchFakes struct {
	rec *fakeapi.Recorder
	yt  *youtubefake.Server
	ma  *mastodonfake.Server
	bs  *blueskyfake.Server
	fd  *feedsfake.Server
}

func (f *watchFakes) requests() int {
	return len(f.yt.Requests()) + len(f.ma.Requests()) + len(f.bs.Requests()) + len(f.fd.Requests())
}

// seed adds n items to every source, authored at t.
func (f *watchFakes) seed(round, n int, t time.Time) {
	fan := mastodonfake.Account{Username: "claire", Domain: "piaille.fr", DisplayName: "Claire"}
	bob := blueskyfake.Author{DID: "did:plc:bob", Handle: "bob.bsky.social", DisplayName: "Bob"}
	for i := range n {
		at := t.Add(time.Duration(i-n) * time.Second)
		text := fmt.Sprintf("La lampe Lumen %d-%d est superbe", round, i)
		f.ma.AddMentions(mastodonfake.Status{Account: fan, Content: "<p>@acme " + text + "</p>", CreatedAt: at})
		f.ma.AddTagStatuses("lumen", mastodonfake.Status{Account: fan, Content: "<p>" + text + " #lumen</p>", CreatedAt: at})
		f.bs.AddNotifications(blueskyfake.Notification{URI: blueskyfake.PostURI(bob.DID, fmt.Sprintf("3r%dn%d", round, i)), Author: bob,
			Reason: "mention", Text: "@acme.bsky.social " + text, CreatedAt: at})
		for w := range watchWorkspaces {
			f.yt.AddThreads(benchYouTubeChannel(w), youtubefake.Thread{VideoID: "v1", Comment: youtubefake.Comment{
				ID: fmt.Sprintf("Ugw%dr%dc%d", w, round, i), AuthorChannelID: "UCfan", AuthorName: "@fan", Text: text, PublishedAt: at}})
			f.fd.AddEntries(benchFeedPath(w), feedsfake.Entry{Title: text, URL: fmt.Sprintf("https://news.example/%d/%d/%d", w, round, i),
				Content: text, Published: at})
		}
	}
}

func benchYouTubeChannel(w int) string { return fmt.Sprintf("UCbenchbenchbenchbench%02d", w) }
func benchFeedPath(w int) string       { return feedsfake.GoogleAlertsPath(fmt.Sprintf("lumen%02d", w)) }

// watchRows runs the watch function, as Lambda invokes it, over 50
// sources against the fake platforms, with the store on dynoxide: a first
// run on a backlog, a second after new items arrived, a third with
// nothing new.
func watchRows(ctx context.Context, dir, dynamoURL string) ([]row, error) {
	f := &watchFakes{rec: &fakeapi.Recorder{}}
	defer f.rec.Close()
	f.yt, f.ma, f.bs, f.fd = youtubefake.New(f.rec), mastodonfake.New(f.rec), blueskyfake.New(f.rec), feedsfake.New(f.rec)

	const every = time.Second // each run finds every source due again
	if err := dynamostore.CreateTable(ctx, dynamodb.NewFromConfig(awsConfig(dynamoURL)), watchTable); err != nil {
		return nil, err
	}
	rig, err := newIngestRig(ctx, dir, "dynamodb", dynamoURL, watchTable, map[string]string{
		"VIGIE_YOUTUBE_API_URL": f.yt.URL(), "VIGIE_POLL_EVERY": every.String(), "VIGIE_FEED_ADDRESSES": "any",
	})
	if err != nil {
		return nil, err
	}
	defer rig.Close()
	if err := setupWatchSources(ctx, rig.deps, f); err != nil {
		return nil, err
	}
	h, err := app.Handler("watch", rig.deps)
	if err != nil {
		return nil, err
	}
	run := h.(func(context.Context, json.RawMessage) (watch.Report, error))

	f.seed(0, watchBacklog, time.Now().Add(-time.Hour))
	type result struct {
		rep      watch.Report
		wall     time.Duration
		requests int
	}
	runOnce := func(name string) (result, error) {
		progress("watch: %s…", name)
		before := f.requests()
		start := time.Now()
		rep, err := run(ctx, json.RawMessage(`{}`))
		r := result{rep: rep, wall: time.Since(start), requests: f.requests() - before}
		if err == nil && (rep.Failed > 0 || rep.RateLimited > 0) {
			err = fmt.Errorf("%s: %d sources failed, %d rate limited", name, rep.Failed, rep.RateLimited)
		}
		time.Sleep(every)
		return r, err
	}
	first, err := runOnce("first run over a backlog")
	if err != nil {
		return nil, err
	}
	f.seed(1, watchNew, time.Now())
	second, err := runOnce(fmt.Sprintf("second run, %d new items per source", watchNew))
	if err != nil {
		return nil, err
	}
	idle, err := runOnce("third run, nothing new")
	if err != nil {
		return nil, err
	}
	if errs := f.rec.Errors(); len(errs) > 0 {
		return nil, fmt.Errorf("the fakes saw unexpected requests: %s", strings.Join(errs, "; "))
	}
	line := func(r result) string {
		return fmt.Sprintf("%s, %d requests, %d mentions", dur(r.wall), r.requests, r.rep.Created)
	}
	return []row{
		{name: fmt.Sprintf("Watch function: %d sources (YouTube, Mastodon, Bluesky, feeds, hashtags), fakes on loopback, store on dynoxide, %d at once", first.rep.Due, watch.DefaultConcurrency)},
		{"  first run, backlog of " + fmt.Sprint(watchBacklog) + " per source", line(first), "", ""},
		{"  second run, " + fmt.Sprint(watchNew) + " new per source", line(second), "every new item, once",
			check(second.rep.Created == watchNew*watchSources && first.rep.Due == watchSources)},
		{"  third run, nothing new", line(idle), "0 mentions, ≤ 1 request per source",
			check(idle.rep.Created == 0 && idle.requests <= watchSources)},
	}, nil
}

// setupWatchSources connects the channels and watches of the bench's
// workspaces, with their credentials.
func setupWatchSources(ctx context.Context, d *app.Deps, f *watchFakes) error {
	now := time.Now()
	for w := range watchWorkspaces {
		ws := fmt.Sprintf("watch%02d", w)
		if err := d.Store.CreateWorkspace(ctx, &vigie.Workspace{ID: ws, Name: ws, CreatedAt: now, SecretGeneration: 1}); err != nil {
			return err
		}
		chs := []struct {
			ch    vigie.Channel
			creds string
		}{
			{vigie.Channel{Platform: platform.YouTube, AccountID: benchYouTubeChannel(w)}, `{"api_key":"` + youtubefake.APIKey + `"}`},
			{vigie.Channel{Platform: platform.Mastodon, AccountID: fmt.Sprint(1000 + w), Instance: f.ma.URL()}, `{"access_token":"` + mastodonfake.Token + `"}`},
			{vigie.Channel{Platform: platform.Bluesky, AccountID: fmt.Sprintf("did:plc:bench%02d", w), Instance: f.bs.URL()},
				`{"identifier":"` + blueskyfake.Identifier + `","app_password":"` + blueskyfake.Password + `"}`},
		}
		for i, c := range chs {
			ch := c.ch
			ch.Workspace, ch.ID, ch.Name, ch.Status, ch.CreatedAt = ws, fmt.Sprintf("ch_bench%09d", i), ch.Platform, vigie.StatusActive, now
			if err := d.Store.CreateChannel(ctx, &ch); err != nil {
				return err
			}
			if err := d.Secrets.Put(ctx, secrets.ChannelSecret(ws, ch.ID), c.creds); err != nil {
				return err
			}
		}
		feed := f.fd.AddFeed(benchFeedPath(w), feedsfake.GoogleAlerts, "Google Alert - lumen")
		err := d.Store.CreateWatch(ctx, &vigie.Watch{Workspace: ws, ID: "wa_bench000000001", Name: "Lumen", Kind: "brand", Query: "lumen",
			Feeds: []string{feed}, MastodonTags: []string{"lumen"}, MastodonInstance: f.ma.URL(), Status: vigie.StatusActive, CreatedAt: now})
		if err != nil {
			return err
		}
	}
	return nil
}
