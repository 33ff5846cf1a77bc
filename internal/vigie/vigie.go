// Package vigie holds Vigie's domain: workspaces, API keys, mentions and the
// events they raise, and the ports (stores, bus, clock) that services use.
// It imports neither Lambda nor AWS.
package vigie

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"time"
)

// Clock tells the time. Services take one instead of calling time.Now so
// tests can fix it.
type Clock interface{ Now() time.Time }

// SystemClock is the real clock.
type SystemClock struct{}

// Now returns the current time in UTC.
func (SystemClock) Now() time.Time { return time.Now().UTC() }

// ClockFunc adapts a function to Clock.
type ClockFunc func() time.Time

// Now calls f.
func (f ClockFunc) Now() time.Time { return f() }

// ValidID reports whether s is usable as a workspace id: 2–63 characters of
// lower-case letters, digits and dashes, starting with a letter or digit.
// Ids appear in URLs and store keys, so nothing else is allowed. (A loop,
// not a regexp: compiling one at package init is paid at every cold start.)
func ValidID(s string) bool {
	if len(s) < 2 || len(s) > 63 || s[0] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// Workspace is one agency client. Everything else belongs to exactly one.
type Workspace struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
	// SecretGeneration selects the webhook signing secret derived for this
	// workspace; bumping it rotates the secret.
	SecretGeneration int `json:"secret_generation"`
	// Version is the optimistic-concurrency counter: stores reject an update
	// whose Version is not the stored one, and increment it on success.
	Version int64 `json:"version"`
}

// APIKey is a workspace-scoped credential. Only a hash of its secret is kept.
type APIKey struct {
	Workspace  string     `json:"workspace"`
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	Hash       []byte     `json:"-"` // SHA-256 of the secret part of the key
	CreatedAt  time.Time  `json:"created_at"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
	Version    int64      `json:"version"`
}

// Author is who wrote a mention, as the platform describes them.
type Author struct {
	ID        string `json:"id,omitempty"`
	Handle    string `json:"handle,omitempty"`
	Name      string `json:"name,omitempty"`
	Followers *int64 `json:"followers,omitempty"`
	Verified  *bool  `json:"verified,omitempty"`
}

// Mention kinds.
const (
	KindComment = "comment" // on one of the channel's own posts
	KindReply   = "reply"   // an answer to a comment or post
	KindMention = "mention" // a post that names the account
	KindPost    = "post"    // a post found by a watch
	KindArticle = "article" // a web page (feeds, alerts)
	KindReview  = "review"
)

// Mention is one thing said somewhere, normalized whatever its source.
type Mention struct {
	ID         string           `json:"id"`
	Workspace  string           `json:"workspace"`
	Platform   string           `json:"platform"`
	Channel    string           `json:"channel,omitempty"` // the connected channel it came through, if any
	Kind       string           `json:"kind,omitempty"`    // KindComment, KindReply, ...
	ExternalID string           `json:"external_id"`
	ParentID   string           `json:"parent_id,omitempty"` // external id of what it answers
	ThreadID   string           `json:"thread_id,omitempty"` // external id of the thread's root
	Author     Author           `json:"author"`
	Text       string           `json:"text"`
	URL        string           `json:"url,omitempty"`
	CreatedAt  time.Time        `json:"created_at"`
	ReceivedAt time.Time        `json:"received_at"`
	Metrics    map[string]int64 `json:"metrics,omitempty"`
	// Watches are the ids of the workspace's watches whose query matches.
	Watches []string `json:"watches,omitempty"`
	// EditedAt is set when the author changed the text after it was first
	// received; RemovedAt when it was deleted on the platform (the text is
	// kept: what was said is part of the record).
	EditedAt  *time.Time `json:"edited_at,omitempty"`
	RemovedAt *time.Time `json:"removed_at,omitempty"`
	// Analysis is the embedded model's reading of Text, set at ingestion.
	Analysis *Analysis `json:"analysis,omitempty"`
	// ExpiresAt, when set, is when the store forgets the mention (DynamoDB
	// TTL). Stores never return an expired item, even before it is deleted.
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

// Analysis is what the embedded model reads in a mention's text.
type Analysis struct {
	Lang           string  `json:"lang"`            // fr, en or other
	LangConfidence float64 `json:"lang_confidence"` // in [0, 1]
	Sentiment      string  `json:"sentiment"`       // negative, neutral or positive
	SentimentScore float64 `json:"sentiment_score"` // in [-1, 1]
	Toxicity       float64 `json:"toxicity"`        // probability
	Toxic          bool    `json:"toxic"`
	SpamScore      float64 `json:"spam_score"` // probability
	Spam           bool    `json:"spam"`
}

// MentionID is the id of the mention with the given platform and external id.
// It is derived, not random, so that a redelivery maps to the same item and
// the store's create-if-absent makes ingestion idempotent.
func MentionID(platform, externalID string) string {
	sum := sha256.Sum256([]byte(platform + "\x00" + externalID))
	return "m_" + hex.EncodeToString(sum[:12])
}

// MentionQuery selects a workspace's mentions by creation time.
type MentionQuery struct {
	Since  time.Time // inclusive; zero means no lower bound
	Until  time.Time // exclusive; zero means no upper bound
	Limit  int       // page size; stores apply a default and a maximum
	Cursor string    // opaque, from a previous page's Next
}

// Page sizes for listings.
const (
	DefaultPageSize = 50
	MaxPageSize     = 200
)

// MentionPage is one page of mentions, newest first.
type MentionPage struct {
	Mentions []*Mention
	// Next is an opaque cursor for the following page, empty on the last.
	Next string
}

// WorkspaceStore keeps workspaces.
type WorkspaceStore interface {
	// CreateWorkspace stores w if no workspace has its id. Returns Conflict
	// if one does; the stored one is left untouched.
	CreateWorkspace(ctx context.Context, w *Workspace) error
	// GetWorkspace returns NotFound if there is no such workspace.
	GetWorkspace(ctx context.Context, id string) (*Workspace, error)
	// UpdateWorkspace replaces w if the stored Version equals w.Version and
	// then increments w.Version. Returns NotFound, or Conflict when another
	// update came first.
	UpdateWorkspace(ctx context.Context, w *Workspace) error
	// ListWorkspaces returns every workspace, by id: for agency-wide jobs
	// (the watch function's schedule) that then work one workspace at a
	// time.
	ListWorkspaces(ctx context.Context) ([]*Workspace, error)
}

// APIKeyStore keeps workspace API keys.
type APIKeyStore interface {
	// CreateAPIKey returns Conflict if the workspace has a key with k.ID.
	CreateAPIKey(ctx context.Context, k *APIKey) error
	// GetAPIKey returns NotFound if workspace has no key id.
	GetAPIKey(ctx context.Context, workspace, id string) (*APIKey, error)
	// ListAPIKeys returns the workspace's keys, revoked ones included,
	// oldest first.
	ListAPIKeys(ctx context.Context, workspace string) ([]*APIKey, error)
	// UpdateAPIKey has UpdateWorkspace's concurrency rules.
	UpdateAPIKey(ctx context.Context, k *APIKey) error
}

// MentionStore keeps mentions.
type MentionStore interface {
	// CreateMentions stores each mention whose id is not yet in workspace,
	// in as many requests as the backend needs, and reports for each whether
	// it was created (false: it existed and was left untouched). All mentions
	// must belong to workspace (Invalid otherwise). On error some mentions
	// may have been stored: calling again with the same input completes the
	// work without duplicates.
	CreateMentions(ctx context.Context, workspace string, ms []*Mention) (created []bool, err error)
	// ExistingMentions returns the subset of ids stored (and not expired) in
	// workspace.
	ExistingMentions(ctx context.Context, workspace string, ids []string) (map[string]bool, error)
	// UpdateMention replaces a stored mention (an edit or a removal on the
	// platform). NotFound if it is absent or expired. Its creation time and
	// id cannot change.
	UpdateMention(ctx context.Context, m *Mention) error
	// GetMention returns NotFound if there is no such mention, or it expired.
	GetMention(ctx context.Context, workspace, id string) (*Mention, error)
	// ListMentions returns mentions created in [Since, Until), newest first.
	// Returns Invalid for a cursor that was not issued by this store for this
	// workspace and query.
	ListMentions(ctx context.Context, workspace string, q MentionQuery) (*MentionPage, error)
}

// Store is everything a Vigie function needs to keep.
type Store interface {
	WorkspaceStore
	APIKeyStore
	MentionStore
	ChannelStore
	WatchStore
	SourceStore
	Close() error
}

// Bus carries events between functions.
type Bus interface {
	// Publish announces events. It returns nil only when every event was
	// accepted; otherwise the error names each event that was not, and the
	// caller should fail so that its own trigger is retried.
	Publish(ctx context.Context, events ...Event) error
}
