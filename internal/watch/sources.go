package watch

import (
	"context"
	"crypto/sha256"
	"time"

	"vigie/internal/ingest"
	"vigie/internal/platform"
	"vigie/internal/platform/bluesky"
	"vigie/internal/platform/feeds"
	"vigie/internal/platform/mastodon"
	"vigie/internal/platform/x"
	"vigie/internal/platform/youtube"
	"vigie/internal/query"
	"vigie/internal/vigie"
)

type pollFunc = func(ctx context.Context, cursor string, l platform.Limits) (platform.PollResult, error)

// failing is a source that cannot be polled, for a reason recorded on it.
func failing(err error) pollFunc {
	return func(context.Context, string, platform.Limits) (platform.PollResult, error) {
		return platform.PollResult{}, err
	}
}

// blueskyAccount is a workspace's Bluesky login, which searches use.
type blueskyAccount struct {
	client *bluesky.Client
}

// blueskyClient returns the client of a Bluesky login, kept for the life of
// the Service: its session then serves the runs of a warm function, where
// signing in at every run would use up the account's login limit (30 per
// 5 minutes, 300 per day).
func (s *Service) blueskyClient(base, identifier, password string) *bluesky.Client {
	sum := sha256.Sum256([]byte(base + "\x00" + identifier + "\x00" + password))
	key := string(sum[:])
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.bsky[key]; ok {
		return c
	}
	if s.bsky == nil {
		s.bsky = map[string]*bluesky.Client{}
	}
	c := &bluesky.Client{BaseURL: base, Identifier: identifier, Password: password, HTTP: s.d.Platforms.HTTP, Now: s.d.Clock.Now}
	s.bsky[key] = c
	return c
}

func (s *Service) every(d time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return s.d.Every
}

// channelTarget is the polled source of a channel, if its platform is
// polled: Facebook and Instagram come by webhook only, X by webhook unless
// the channel has a bearer token for polling.
func (s *Service) channelTarget(ctx context.Context, ch *vigie.Channel) (*target, *blueskyAccount) {
	t := &target{ws: ch.Workspace, channel: ch, every: s.every(ch.PollEvery)}
	creds, err := ingest.ChannelCredentials(ctx, s.d.Secrets, ch)
	hc, now := s.d.Platforms.HTTP, s.d.Clock.Now
	switch ch.Platform {
	case platform.Mastodon:
		t.id = sourceID(ch.ID, "notifications", "")
		c := &mastodon.Client{BaseURL: ch.Instance, Token: creds["access_token"], HTTP: hc, Now: now}
		t.poll = c.Notifications
	case platform.Bluesky:
		t.id = sourceID(ch.ID, "notifications", "")
		base := ch.Instance
		if base == "" {
			base = s.d.Platforms.BlueskyURL
		}
		c := s.blueskyClient(base, creds["identifier"], creds["app_password"])
		t.poll = c.Notifications
		if err == nil {
			return t, &blueskyAccount{client: c}
		}
	case platform.YouTube:
		t.id = sourceID(ch.ID, "comments", "")
		c := &youtube.Client{BaseURL: s.d.Platforms.YouTubeURL, APIKey: creds["api_key"], Token: creds["access_token"], HTTP: hc, Now: now}
		account := ch.AccountID
		t.poll = func(ctx context.Context, cursor string, l platform.Limits) (platform.PollResult, error) {
			return c.CommentThreads(ctx, account, cursor, l)
		}
	case platform.X:
		if err != nil || creds["bearer_token"] == "" {
			return nil, nil
		}
		t.id = sourceID(ch.ID, "mentions", "")
		c := &x.Client{BaseURL: s.d.Platforms.XURL, Token: creds["bearer_token"], HTTP: hc, Now: now}
		account := ch.AccountID
		t.poll = func(ctx context.Context, cursor string, l platform.Limits) (platform.PollResult, error) {
			return c.Mentions(ctx, account, cursor, l)
		}
	default:
		return nil, nil
	}
	return s.withErr(t, err), nil
}

// withErr makes t a failing source when its credentials could not be read.
func (s *Service) withErr(t *target, err error) *target {
	if err != nil {
		t.poll = failing(err)
	}
	return t
}

// watchTargets are a watch's feeds, hashtag timelines and searches.
func (s *Service) watchTargets(w *vigie.Watch, bsky *blueskyAccount) []*target {
	var ts []*target
	every := s.every(w.PollEvery)
	hc, now := s.d.Platforms.HTTP, s.d.Clock.Now
	fc := &feeds.Client{HTTP: s.d.Platforms.FeedHTTP, Now: now}
	for _, u := range w.Feeds {
		u := u
		ts = append(ts, &target{ws: w.Workspace, watch: w, every: every, id: sourceID(w.ID, "feed", u),
			poll: func(ctx context.Context, cursor string, l platform.Limits) (platform.PollResult, error) {
				return fc.Fetch(ctx, u, cursor, l)
			}})
	}
	if len(w.MastodonTags) > 0 {
		mc := &mastodon.Client{BaseURL: w.MastodonInstance, HTTP: hc, Now: now}
		for _, tag := range w.MastodonTags {
			tag := tag
			ts = append(ts, &target{ws: w.Workspace, watch: w, every: every, id: sourceID(w.ID, "tag", w.MastodonInstance+"#"+tag),
				poll: func(ctx context.Context, cursor string, l platform.Limits) (platform.PollResult, error) {
					return mc.TagTimeline(ctx, tag, cursor, l)
				}})
		}
	}
	if w.BlueskySearch {
		q, err := query.Parse(w.Query)
		var terms []string
		if err == nil {
			terms = q.Terms()
		}
		for i, term := range terms {
			if i == maxSearchTerms {
				break
			}
			term := term
			t := &target{ws: w.Workspace, watch: w, every: every, id: sourceID(w.ID, "bluesky", term)}
			if bsky == nil {
				t.poll = failing(vigie.Errorf(vigie.KindInvalid, "Bluesky search needs a connected Bluesky channel in the workspace to sign in with"))
			} else {
				c := bsky.client
				t.poll = func(ctx context.Context, cursor string, l platform.Limits) (platform.PollResult, error) {
					return c.SearchPosts(ctx, term, cursor, l)
				}
			}
			ts = append(ts, t)
		}
	}
	return ts
}

// maxSearchTerms bounds the searches one watch makes per run: one per
// positive term of its query (a search engine's own boolean syntax differs
// from ours; the full query is applied to what the searches return).
const maxSearchTerms = 5
