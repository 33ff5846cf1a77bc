// Package store holds the rules that Vigie's store drivers share, written
// once so that their semantics cannot drift: input validation, the sort key
// that orders a workspace's mentions, expiry, and how a listing query and its
// cursor translate into a key range. The drivers are boltstore and
// dynamostore; storetest is the contract both pass.
package store

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"vigie/internal/store/cursor"
	"vigie/internal/vigie"
)

// TimeLayout is how stores write times that are compared as strings: UTC,
// fixed width, nanoseconds, so that byte order is time order (for years 1 to
// 9999, the only ones stores accept).
const TimeLayout = "2006-01-02T15:04:05.000000000Z"

// FormatTime formats t with TimeLayout.
func FormatTime(t time.Time) string { return t.UTC().Format(TimeLayout) }

// ParseTime parses a time written by FormatTime.
func ParseTime(s string) (time.Time, error) { return time.Parse(TimeLayout, s) }

// MaxIDLen is the longest API key or mention id stores accept.
const MaxIDLen = 255

// MentionSortKey is the key that orders a workspace's mentions: creation
// time, then id. Listings return mentions in descending key order.
func MentionSortKey(createdAt time.Time, id string) string {
	return FormatTime(createdAt) + "#" + id
}

// SortKeyID returns the id part of a key made by MentionSortKey.
func SortKeyID(key string) string {
	if len(key) <= len(TimeLayout)+1 {
		return ""
	}
	return key[len(TimeLayout)+1:]
}

// Expired reports whether m is past its ExpiresAt at now. Stores treat an
// expired mention as absent everywhere, even before they delete it.
func Expired(m *vigie.Mention, now time.Time) bool {
	return m.ExpiresAt != nil && !m.ExpiresAt.After(now)
}

// CheckWorkspaceID returns Invalid unless id is a valid workspace id.
func CheckWorkspaceID(id string) error {
	if !vigie.ValidID(id) {
		return vigie.Invalidf("workspace", "workspace id must be 2 to 63 lower-case letters, digits or dashes")
	}
	return nil
}

// CheckID returns Invalid unless id is usable as an API key or mention id:
// 1 to MaxIDLen printable ASCII characters, no spaces.
func CheckID(field, id string) error {
	if id == "" || len(id) > MaxIDLen {
		return vigie.Invalidf(field, "%s must be 1 to %d characters", field, MaxIDLen)
	}
	for i := 0; i < len(id); i++ {
		if id[i] <= ' ' || id[i] > '~' {
			return vigie.Invalidf(field, "%s must be printable ASCII without spaces", field)
		}
	}
	return nil
}

// checkTime returns Invalid unless t can be written with TimeLayout.
func checkTime(field string, t time.Time) error {
	if y := t.UTC().Year(); y < 1 || y > 9999 {
		return vigie.Invalidf(field, "%s must be between years 1 and 9999", field)
	}
	return nil
}

// checkTimePtr is checkTime for optional times.
func checkTimePtr(field string, t *time.Time) error {
	if t == nil {
		return nil
	}
	return checkTime(field, *t)
}

// MaxNameLen is the longest workspace or API key name stores accept.
const MaxNameLen = 1024

func checkName(name string) error {
	if len(name) > MaxNameLen {
		return vigie.Invalidf("name", "name must be at most %d bytes", MaxNameLen)
	}
	return nil
}

// CheckWorkspace validates w for CreateWorkspace and UpdateWorkspace.
func CheckWorkspace(w *vigie.Workspace) error {
	if w == nil {
		return vigie.Invalidf("workspace", "workspace is missing")
	}
	return firstErr(CheckWorkspaceID(w.ID), checkName(w.Name), checkTime("created_at", w.CreatedAt))
}

// CheckAPIKey validates k for CreateAPIKey and UpdateAPIKey.
func CheckAPIKey(k *vigie.APIKey) error {
	if k == nil {
		return vigie.Invalidf("key", "API key is missing")
	}
	return firstErr(
		CheckWorkspaceID(k.Workspace),
		CheckID("id", k.ID),
		checkName(k.Name),
		checkTime("created_at", k.CreatedAt),
		checkTimePtr("revoked_at", k.RevokedAt),
		checkTimePtr("last_used_at", k.LastUsedAt),
	)
}

// MaxMentionSize bounds a mention's estimated stored size. DynamoDB refuses
// items over 400 KB; both drivers refuse well before, with TooLarge, so that
// a mention too big for one is too big for the other.
const MaxMentionSize = 256 << 10

// mentionSize estimates the stored size of m: its variable parts plus a
// generous allowance for names, keys and fixed-size fields.
func mentionSize(m *vigie.Mention) int {
	n := 1024 + len(m.ID) + len(m.Workspace) + len(m.Platform) + len(m.ExternalID) +
		len(m.Text) + len(m.URL) + len(m.Author.ID) + len(m.Author.Handle) + len(m.Author.Name) +
		len(m.Channel) + len(m.Kind) + len(m.ParentID) + len(m.ThreadID)
	for k := range m.Metrics {
		n += len(k) + 32
	}
	for _, w := range m.Watches {
		n += len(w) + 8
	}
	return n
}

// CheckMentions validates a CreateMentions call: every mention must be
// present, belong to workspace, have a valid id and a creation time.
func CheckMentions(workspace string, ms []*vigie.Mention) error {
	if err := CheckWorkspaceID(workspace); err != nil {
		return err
	}
	for _, m := range ms {
		if m == nil {
			return vigie.Invalidf("mention", "mention is missing")
		}
		if m.Workspace != workspace {
			return vigie.Invalidf("workspace", "mention %q does not belong to workspace %q", m.ID, workspace)
		}
		if err := checkMention(m); err != nil {
			return err
		}
	}
	return nil
}

// CheckMention validates m for UpdateMention.
func CheckMention(m *vigie.Mention) error {
	if m == nil {
		return vigie.Invalidf("mention", "mention is missing")
	}
	if err := CheckWorkspaceID(m.Workspace); err != nil {
		return err
	}
	return checkMention(m)
}

func checkMention(m *vigie.Mention) error {
	if err := CheckID("id", m.ID); err != nil {
		return err
	}
	if m.CreatedAt.IsZero() {
		return vigie.Invalidf("created_at", "mention %q has no creation time", m.ID)
	}
	if err := firstErr(
		checkTime("created_at", m.CreatedAt),
		checkTime("received_at", m.ReceivedAt),
		checkTimePtr("expires_at", m.ExpiresAt),
		checkTimePtr("edited_at", m.EditedAt),
		checkTimePtr("removed_at", m.RemovedAt),
	); err != nil {
		return err
	}
	if mentionSize(m) > MaxMentionSize {
		return &vigie.Error{Kind: vigie.KindTooLarge, Code: vigie.KindTooLarge, Field: "text",
			Message: fmt.Sprintf("mention %q is larger than %d bytes", m.ID, MaxMentionSize)}
	}
	return nil
}

// CheckMentionUpdate returns Invalid if next would change stored's creation
// time, which places the mention in listings. Drivers call it with the
// stored mention (DynamoDB: the one a failed condition sent back).
func CheckMentionUpdate(stored, next *vigie.Mention) error {
	if !stored.CreatedAt.Equal(next.CreatedAt) {
		return vigie.Invalidf("created_at", "the creation time of mention %q cannot change", next.ID)
	}
	return nil
}

// CheckIDs validates the ids of an ExistingMentions call.
func CheckIDs(workspace string, ids []string) error {
	if err := CheckWorkspaceID(workspace); err != nil {
		return err
	}
	for _, id := range ids {
		if err := CheckID("id", id); err != nil {
			return err
		}
	}
	return nil
}

// FirstOccurrences reports, for each mention, whether it is the first one in
// ms with its id. Stores only try to create first occurrences; a repeat
// within one call is reported as not created, as if it had been stored just
// before, so that the outcome does not depend on the order of concurrent
// writes.
func FirstOccurrences(ms []*vigie.Mention) []bool {
	seen := make(map[string]bool, len(ms))
	first := make([]bool, len(ms))
	for i, m := range ms {
		first[i] = !seen[m.ID]
		seen[m.ID] = true
	}
	return first
}

// List is a ListMentions query translated into a range of sort keys:
// mentions whose key k satisfies Lo <= k < Hi, in descending order, at most
// Limit of them.
type List struct {
	Lo    string // inclusive; "" means no lower bound
	Hi    string // exclusive; "" means no upper bound
	Limit int
	scope string
	codec *cursor.Codec
}

// PrepareList validates q and translates it for workspace. The cursor, if
// any, must have been issued by codec for the same workspace, Since and
// Until; otherwise PrepareList returns Invalid.
func PrepareList(codec *cursor.Codec, workspace string, q vigie.MentionQuery) (*List, error) {
	if err := CheckWorkspaceID(workspace); err != nil {
		return nil, err
	}
	l := &List{Limit: q.Limit, codec: codec}
	switch {
	case q.Limit < 0:
		return nil, vigie.Invalidf("limit", "limit must not be negative")
	case q.Limit == 0:
		l.Limit = vigie.DefaultPageSize
	case q.Limit > vigie.MaxPageSize:
		l.Limit = vigie.MaxPageSize
	}
	var since, until string
	if !q.Since.IsZero() {
		if err := checkTime("since", q.Since); err != nil {
			return nil, err
		}
		since = FormatTime(q.Since)
	}
	if !q.Until.IsZero() {
		if err := checkTime("until", q.Until); err != nil {
			return nil, err
		}
		until = FormatTime(q.Until)
	}
	if since != "" && until != "" && since > until {
		return nil, vigie.Invalidf("since", "since must not be after until")
	}
	// A key ts#id is >= since iff ts >= since, and < until iff ts < until,
	// because the time part has a fixed width.
	l.Lo, l.Hi = since, until
	// The scope binds the cursor to this listing, workspace and range.
	l.scope = "mentions\x00" + workspace + "\x00" + since + "\x00" + until
	if q.Cursor != "" {
		pos, err := codec.Decode(l.scope, q.Cursor)
		if err != nil || len(pos) <= len(TimeLayout)+1 {
			return nil, vigie.Invalidf("cursor", "cursor is not valid for this query")
		}
		// Keys after the position, in descending order, are those below it.
		l.Hi = pos
	}
	return l, nil
}

// Next returns the cursor for the page that follows the mention whose sort
// key is last.
func (l *List) Next(last string) string { return l.codec.Encode(l.scope, last) }

// InRange reports whether key lies within [Lo, Hi).
func (l *List) InRange(key string) bool {
	return key >= l.Lo && (l.Hi == "" || key < l.Hi)
}

// NewCodec checks a driver's cursor key and returns its codec.
func NewCodec(key []byte) (*cursor.Codec, error) {
	if len(key) == 0 {
		return nil, errors.New("store: a cursor key is required (32 random bytes, kept secret)")
	}
	return cursor.New(key)
}

// Canceled returns ctx's error as an Unavailable error naming op, or nil if
// ctx is still live. Stores check it before any work.
func Canceled(ctxErr error, op string) error {
	if ctxErr == nil {
		return nil
	}
	return &vigie.Error{Kind: vigie.KindUnavailable, Code: vigie.KindUnavailable, Message: op + ": request canceled", Err: ctxErr}
}

// Internal wraps an unexpected backend error for op.
func Internal(op string, err error) error {
	return &vigie.Error{Kind: vigie.KindInternal, Code: vigie.KindInternal, Message: op + ": store failure", Err: err}
}

// NotFound returns the NotFound error for a missing thing.
func NotFound(op, what string) error {
	return &vigie.Error{Kind: vigie.KindNotFound, Code: vigie.KindNotFound, Message: op + ": " + what + " not found"}
}

// Conflict returns the Conflict error for op.
func Conflict(op, why string) error {
	return &vigie.Error{Kind: vigie.KindConflict, Code: vigie.KindConflict, Message: op + ": " + why}
}

// UTCPtr returns a copy of *t in UTC, or nil.
func UTCPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// SortAPIKeys puts keys in listing order: oldest first, ties by id.
func SortAPIKeys(keys []*vigie.APIKey) {
	sortOldestFirst(keys, func(k *vigie.APIKey) (time.Time, string) { return k.CreatedAt, k.ID })
}

// SortChannels puts channels in listing order: oldest first, ties by id.
func SortChannels(cs []*vigie.Channel) {
	sortOldestFirst(cs, func(c *vigie.Channel) (time.Time, string) { return c.CreatedAt, c.ID })
}

// SortWatches puts watches in listing order: oldest first, ties by id.
func SortWatches(ws []*vigie.Watch) {
	sortOldestFirst(ws, func(w *vigie.Watch) (time.Time, string) { return w.CreatedAt, w.ID })
}

// SortSources puts sources in listing order: by id.
func SortSources(ss []*vigie.Source) {
	slices.SortFunc(ss, func(a, b *vigie.Source) int { return strings.Compare(a.ID, b.ID) })
}

// SortWorkspaces puts workspaces in listing order: by id.
func SortWorkspaces(ws []*vigie.Workspace) {
	slices.SortFunc(ws, func(a, b *vigie.Workspace) int { return strings.Compare(a.ID, b.ID) })
}

// sortOldestFirst is the one "oldest first, ties by id" order of listings.
func sortOldestFirst[T any](xs []T, key func(T) (time.Time, string)) {
	slices.SortFunc(xs, func(a, b T) int {
		ta, ia := key(a)
		tb, ib := key(b)
		if c := ta.Compare(tb); c != 0 {
			return c
		}
		return strings.Compare(ia, ib)
	})
}

// Limits on channels, watches and sources. They keep every record far
// below DynamoDB's 400 KB item limit, so both drivers accept the same ones.
const (
	MaxLabelLen     = 200      // channel and watch names
	MaxQueryLen     = 2048     // a watch's query
	MaxURLLen       = 2048     // a channel's instance, a watch's feed or instance
	MaxListLen      = 100      // a watch's feeds, its hashtags
	MaxSourceText   = 32 << 10 // a source's cursor, its last error
	maxAccountField = MaxIDLen // platform, account id, handle
)

// CheckChannel validates c for CreateChannel and UpdateChannel. Platform
// and AccountID are printable ASCII without spaces; the platform has no '#'
// either, as stores join the two into one index key.
func CheckChannel(c *vigie.Channel) error {
	if c == nil {
		return vigie.Invalidf("channel", "channel is missing")
	}
	var err error
	if strings.Contains(c.Platform, "#") {
		err = vigie.Invalidf("platform", "platform must not contain '#'")
	}
	return firstErr(
		CheckWorkspaceID(c.Workspace),
		CheckID("id", c.ID),
		CheckID("platform", c.Platform),
		err,
		CheckID("account_id", c.AccountID),
		checkLen("instance", c.Instance, MaxURLLen),
		checkLen("handle", c.Handle, maxAccountField),
		checkLen("name", c.Name, MaxLabelLen),
		checkStatus(c.Status),
		checkInterval(c.PollEvery),
		checkTime("created_at", c.CreatedAt),
	)
}

// CheckChannelUpdate returns Invalid if next would change what stored
// connects: the platform account, which the account index points at.
func CheckChannelUpdate(stored, next *vigie.Channel) error {
	if stored.Platform != next.Platform {
		return vigie.Invalidf("platform", "the platform of channel %q cannot change", next.ID)
	}
	if stored.AccountID != next.AccountID {
		return vigie.Invalidf("account_id", "the account of channel %q cannot change", next.ID)
	}
	return nil
}

// CheckWatch validates w for CreateWatch and UpdateWatch.
func CheckWatch(w *vigie.Watch) error {
	if w == nil {
		return vigie.Invalidf("watch", "watch is missing")
	}
	var kind error
	switch w.Kind {
	case vigie.WatchBrand, vigie.WatchPerson, vigie.WatchCompetitor, vigie.WatchTopic:
	default:
		kind = vigie.Invalidf("kind", "kind must be brand, person, competitor or topic")
	}
	return firstErr(
		CheckWorkspaceID(w.Workspace),
		CheckID("id", w.ID),
		checkRequired("name", w.Name, MaxLabelLen),
		kind,
		checkRequired("query", w.Query, MaxQueryLen),
		checkList("feeds", w.Feeds, MaxURLLen),
		checkList("mastodon_tags", w.MastodonTags, MaxLabelLen),
		checkLen("mastodon_instance", w.MastodonInstance, MaxURLLen),
		checkStatus(w.Status),
		checkInterval(w.PollEvery),
		checkTime("created_at", w.CreatedAt),
	)
}

// CheckSource validates s for PutSource.
func CheckSource(s *vigie.Source) error {
	if s == nil {
		return vigie.Invalidf("source", "source is missing")
	}
	var counts error
	switch {
	case s.Failures < 0:
		counts = vigie.Invalidf("failures", "failures must not be negative")
	case s.Version < 0:
		counts = vigie.Invalidf("version", "version must not be negative")
	}
	return firstErr(
		CheckWorkspaceID(s.Workspace),
		CheckID("id", s.ID),
		checkLen("cursor", s.Cursor, MaxSourceText),
		checkLen("last_error", s.LastError, MaxSourceText),
		counts,
		checkTime("next_poll_at", s.NextPollAt),
		checkTime("last_poll_at", s.LastPollAt),
		checkTime("last_ok_at", s.LastOKAt),
	)
}

// CheckRef validates the workspace and id that name a channel, watch or
// source.
func CheckRef(workspace, id string) error {
	return firstErr(CheckWorkspaceID(workspace), CheckID("id", id))
}

// CheckAccount validates a ChannelByAccount lookup.
func CheckAccount(platform, accountID string) error {
	if strings.Contains(platform, "#") {
		return vigie.Invalidf("platform", "platform must not contain '#'")
	}
	return firstErr(CheckID("platform", platform), CheckID("account_id", accountID))
}

func checkLen(field, v string, maxLen int) error {
	if len(v) > maxLen {
		return vigie.Invalidf(field, "%s must be at most %d bytes", field, maxLen)
	}
	return nil
}

func checkRequired(field, v string, maxLen int) error {
	if strings.TrimSpace(v) == "" {
		return vigie.Invalidf(field, "%s is required", field)
	}
	return checkLen(field, v, maxLen)
}

func checkList(field string, vs []string, maxLen int) error {
	if len(vs) > MaxListLen {
		return vigie.Invalidf(field, "%s must have at most %d entries", field, MaxListLen)
	}
	for _, v := range vs {
		if err := checkRequired(field, v, maxLen); err != nil {
			return err
		}
	}
	return nil
}

func checkStatus(status string) error {
	if status != vigie.StatusActive && status != vigie.StatusPaused {
		return vigie.Invalidf("status", "status must be active or paused")
	}
	return nil
}

func checkInterval(d time.Duration) error {
	if d < 0 {
		return vigie.Invalidf("poll_every", "poll_every must not be negative")
	}
	return nil
}

// firstErr returns the first non-nil error: callers get one precise
// *vigie.Error, naming one field.
func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
