package vigie

import (
	"context"
	"time"
)

// Channel statuses.
const (
	StatusActive = "active"
	StatusPaused = "paused"
)

// Channel is a platform account a workspace connected: its Facebook Page,
// Instagram account, X user, YouTube channel, Mastodon or Bluesky account.
// Its credentials are secrets, kept apart (see package secrets) and never
// in this record.
type Channel struct {
	Workspace string `json:"workspace"`
	ID        string `json:"id"`
	Platform  string `json:"platform"`
	// AccountID is the platform's id of the account: Page id, Instagram
	// account id, X user id, YouTube channel id, Mastodon account id,
	// Bluesky DID. With Platform it routes app-level webhooks.
	AccountID string `json:"account_id"`
	// Instance is the account's server, for Mastodon (https://mastodon.social)
	// and Bluesky (its PDS, https://bsky.social by default).
	Instance string `json:"instance,omitempty"`
	Handle   string `json:"handle,omitempty"`
	Name     string `json:"name"`
	Status   string `json:"status"` // active or paused
	// PollEvery is how often the watch function polls the channel, for
	// platforms polled rather than pushed; zero means the default.
	PollEvery time.Duration `json:"poll_every,omitempty"`
	CreatedAt time.Time     `json:"created_at"`
	Version   int64         `json:"version"`
}

// Watch kinds.
const (
	WatchBrand      = "brand"
	WatchPerson     = "person"
	WatchCompetitor = "competitor"
	WatchTopic      = "topic"
)

// Watch is something a workspace listens for, wherever it is said: a
// boolean query (see package query) that tags every matching mention, and
// the sources polled for it.
type Watch struct {
	Workspace string `json:"workspace"`
	ID        string `json:"id"`
	Name      string `json:"name"`
	Kind      string `json:"kind"` // brand, person, competitor, topic
	Query     string `json:"query"`
	// Feeds are RSS or Atom feed URLs (Google Alerts, Talkwalker Alerts,
	// any site) polled for this watch.
	Feeds []string `json:"feeds,omitempty"`
	// MastodonTags are hashtags whose public timeline is polled on
	// MastodonInstance.
	MastodonTags     []string `json:"mastodon_tags,omitempty"`
	MastodonInstance string   `json:"mastodon_instance,omitempty"`
	// BlueskySearch polls Bluesky's post search with the query's terms.
	BlueskySearch bool          `json:"bluesky_search,omitempty"`
	Status        string        `json:"status"`
	PollEvery     time.Duration `json:"poll_every,omitempty"`
	CreatedAt     time.Time     `json:"created_at"`
	Version       int64         `json:"version"`
}

// Source is the polling state of one thing the watch function reads: a
// channel's notifications, a feed, a hashtag timeline, a search. It keeps
// the cursor, so that nothing is read twice or skipped across runs, and
// the last failure, for alerting.
type Source struct {
	Workspace string `json:"workspace"`
	ID        string `json:"id"` // derived from what is polled; see package watch
	Cursor    string `json:"cursor,omitempty"`
	// NextPollAt is when the source is due again (its interval, or a
	// platform's rate-limit reset).
	NextPollAt  time.Time `json:"next_poll_at"`
	LastPollAt  time.Time `json:"last_poll_at,omitempty"`
	LastOKAt    time.Time `json:"last_ok_at,omitempty"`
	LastError   string    `json:"last_error,omitempty"`
	Failures    int       `json:"failures,omitempty"` // consecutive
	LastCreated int       `json:"last_created,omitempty"`
	Version     int64     `json:"version"`
}

// ChannelStore keeps channels and the index from platform accounts to
// them.
type ChannelStore interface {
	// CreateChannel stores c. Conflict if the workspace has a channel with
	// its id, or if any workspace connected the same platform account.
	CreateChannel(ctx context.Context, c *Channel) error
	GetChannel(ctx context.Context, workspace, id string) (*Channel, error)
	// ListChannels returns the workspace's channels, oldest first.
	ListChannels(ctx context.Context, workspace string) ([]*Channel, error)
	// UpdateChannel has UpdateWorkspace's concurrency rules. Platform and
	// AccountID cannot change (Invalid).
	UpdateChannel(ctx context.Context, c *Channel) error
	// DeleteChannel removes the channel and its account index entry.
	// NotFound if there is none.
	DeleteChannel(ctx context.Context, workspace, id string) error
	// ChannelByAccount finds the channel connected for a platform account,
	// whatever its workspace: it routes app-level webhooks. NotFound if no
	// workspace connected it.
	ChannelByAccount(ctx context.Context, platform, accountID string) (*Channel, error)
}

// WatchStore keeps watches.
type WatchStore interface {
	// CreateWatch returns Conflict if the workspace has a watch with w.ID.
	CreateWatch(ctx context.Context, w *Watch) error
	GetWatch(ctx context.Context, workspace, id string) (*Watch, error)
	// ListWatches returns the workspace's watches, oldest first.
	ListWatches(ctx context.Context, workspace string) ([]*Watch, error)
	UpdateWatch(ctx context.Context, w *Watch) error
	DeleteWatch(ctx context.Context, workspace, id string) error
}

// SourceStore keeps polling state.
type SourceStore interface {
	// GetSource returns NotFound if the source was never saved.
	GetSource(ctx context.Context, workspace, id string) (*Source, error)
	// ListSources returns the workspace's sources, by id.
	ListSources(ctx context.Context, workspace string) ([]*Source, error)
	// PutSource creates s when s.Version is 0 (Conflict if it exists), else
	// replaces it if the stored Version equals s.Version (Conflict
	// otherwise); s.Version is incremented on success.
	PutSource(ctx context.Context, s *Source) error
	// DeleteSource removes a source; no error if there is none.
	DeleteSource(ctx context.Context, workspace, id string) error
}
