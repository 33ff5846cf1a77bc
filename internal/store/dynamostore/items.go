package dynamostore

import (
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"vigie/internal/store"
	"vigie/internal/vigie"
)

// The item types below are the table's schema for each entity, written out
// so that a rename in the domain cannot silently change stored attributes.

type workspaceItem struct {
	PK string `dynamodbav:"PK"`
	SK string `dynamodbav:"SK"`
	// GSI1PK is gsi1Workspaces and GSI1SK the id, for ListWorkspaces.
	GSI1PK           string `dynamodbav:"GSI1PK"`
	GSI1SK           string `dynamodbav:"GSI1SK"`
	ID               string `dynamodbav:"id"`
	Name             string `dynamodbav:"name"`
	CreatedAt        string `dynamodbav:"created_at"`
	SecretGeneration int    `dynamodbav:"secret_generation"`
	Version          int64  `dynamodbav:"version"`
}

type apiKeyItem struct {
	PK         string `dynamodbav:"PK"`
	SK         string `dynamodbav:"SK"`
	Workspace  string `dynamodbav:"workspace"`
	ID         string `dynamodbav:"id"`
	Name       string `dynamodbav:"name"`
	Hash       []byte `dynamodbav:"hash,omitempty"`
	CreatedAt  string `dynamodbav:"created_at"`
	RevokedAt  string `dynamodbav:"revoked_at,omitempty"`
	LastUsedAt string `dynamodbav:"last_used_at,omitempty"`
	Version    int64  `dynamodbav:"version"`
}

type authorItem struct {
	ID        string `dynamodbav:"id,omitempty"`
	Handle    string `dynamodbav:"handle,omitempty"`
	Name      string `dynamodbav:"name,omitempty"`
	Followers *int64 `dynamodbav:"followers,omitempty"`
	Verified  *bool  `dynamodbav:"verified,omitempty"`
}

type mentionItem struct {
	PK         string           `dynamodbav:"PK"`
	SK         string           `dynamodbav:"SK"`
	GSI1PK     string           `dynamodbav:"GSI1PK"`
	GSI1SK     string           `dynamodbav:"GSI1SK"`
	TTL        int64            `dynamodbav:"ttl,omitempty"`
	ID         string           `dynamodbav:"id"`
	Workspace  string           `dynamodbav:"workspace"`
	Platform   string           `dynamodbav:"platform,omitempty"`
	Channel    string           `dynamodbav:"channel,omitempty"`
	Kind       string           `dynamodbav:"kind,omitempty"`
	ExternalID string           `dynamodbav:"external_id,omitempty"`
	ParentID   string           `dynamodbav:"parent_id,omitempty"`
	ThreadID   string           `dynamodbav:"thread_id,omitempty"`
	Author     authorItem       `dynamodbav:"author"`
	Text       string           `dynamodbav:"text,omitempty"`
	URL        string           `dynamodbav:"url,omitempty"`
	CreatedAt  string           `dynamodbav:"created_at"`
	ReceivedAt string           `dynamodbav:"received_at"`
	Metrics    map[string]int64 `dynamodbav:"metrics,omitempty"`
	Watches    []string         `dynamodbav:"watches,omitempty"` // a list, in order
	EditedAt   string           `dynamodbav:"edited_at,omitempty"`
	RemovedAt  string           `dynamodbav:"removed_at,omitempty"`
	Analysis   *analysisItem    `dynamodbav:"analysis,omitempty"`
	// ExpiresAt is the exact expiry that reads and the create condition
	// compare with now; ttl is its rounded copy for DynamoDB's sweeper.
	ExpiresAt string `dynamodbav:"expires_at,omitempty"`
}

// channelItem is a channel. Durations are int64 nanoseconds, named so.
type channelItem struct {
	PK          string `dynamodbav:"PK"`
	SK          string `dynamodbav:"SK"`
	Workspace   string `dynamodbav:"workspace"`
	ID          string `dynamodbav:"id"`
	Platform    string `dynamodbav:"platform"`
	AccountID   string `dynamodbav:"account_id"`
	Instance    string `dynamodbav:"instance,omitempty"`
	Handle      string `dynamodbav:"handle,omitempty"`
	Name        string `dynamodbav:"name,omitempty"`
	Status      string `dynamodbav:"status"`
	PollEveryNS int64  `dynamodbav:"poll_every_ns,omitempty"`
	CreatedAt   string `dynamodbav:"created_at"`
	Version     int64  `dynamodbav:"version"`
}

// accountItem routes a platform account to its channel, across workspaces.
type accountItem struct {
	PK        string `dynamodbav:"PK"`
	SK        string `dynamodbav:"SK"`
	Workspace string `dynamodbav:"workspace"`
	Channel   string `dynamodbav:"channel"`
}

type watchItem struct {
	PK               string   `dynamodbav:"PK"`
	SK               string   `dynamodbav:"SK"`
	Workspace        string   `dynamodbav:"workspace"`
	ID               string   `dynamodbav:"id"`
	Name             string   `dynamodbav:"name"`
	Kind             string   `dynamodbav:"kind"`
	Query            string   `dynamodbav:"query"`
	Feeds            []string `dynamodbav:"feeds,omitempty"`
	MastodonTags     []string `dynamodbav:"mastodon_tags,omitempty"`
	MastodonInstance string   `dynamodbav:"mastodon_instance,omitempty"`
	BlueskySearch    bool     `dynamodbav:"bluesky_search,omitempty"`
	Status           string   `dynamodbav:"status"`
	PollEveryNS      int64    `dynamodbav:"poll_every_ns,omitempty"`
	CreatedAt        string   `dynamodbav:"created_at"`
	Version          int64    `dynamodbav:"version"`
}

// sourceItem is a source's polling state; zero times are left out.
type sourceItem struct {
	PK          string `dynamodbav:"PK"`
	SK          string `dynamodbav:"SK"`
	Workspace   string `dynamodbav:"workspace"`
	ID          string `dynamodbav:"id"`
	Cursor      string `dynamodbav:"cursor,omitempty"`
	NextPollAt  string `dynamodbav:"next_poll_at,omitempty"`
	LastPollAt  string `dynamodbav:"last_poll_at,omitempty"`
	LastOKAt    string `dynamodbav:"last_ok_at,omitempty"`
	LastError   string `dynamodbav:"last_error,omitempty"`
	Failures    int    `dynamodbav:"failures,omitempty"`
	LastCreated int    `dynamodbav:"last_created,omitempty"`
	Version     int64  `dynamodbav:"version"`
}

// Attribute names used in expressions.
const (
	attrExpiresAt = "expires_at"
	attrVersion   = "version"
	attrCreatedAt = "created_at"
	attrPlatform  = "platform"
	attrAccountID = "account_id"
	attrWorkspace = "workspace"
	attrChannel   = "channel"
)

// formatZero formats t, or returns "" for the zero time, which is then
// left out of the item.
func formatZero(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return store.FormatTime(t)
}

// parseZero parses a time written by formatZero.
func parseZero(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	return store.ParseTime(s)
}

// nilIfEmpty keeps "none" as nil whatever came back.
func nilIfEmpty(xs []string) []string {
	if len(xs) == 0 {
		return nil
	}
	return xs
}

func formatPtr(t *time.Time) string {
	if t == nil {
		return ""
	}
	return store.FormatTime(*t)
}

func parsePtr(s string) (*time.Time, error) {
	if s == "" {
		return nil, nil
	}
	t, err := store.ParseTime(s)
	return &t, err
}

func workspaceKey(id string) map[string]types.AttributeValue   { return key(pk(id), skWorkspace) }
func apiKeyKey(ws, id string) map[string]types.AttributeValue  { return key(pk(ws), prefixKey+id) }
func mentionKey(ws, id string) map[string]types.AttributeValue { return key(pk(ws), prefixMention+id) }

func key(pkValue, skValue string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		"PK": &types.AttributeValueMemberS{Value: pkValue},
		"SK": &types.AttributeValueMemberS{Value: skValue},
	}
}

func channelKey(ws, id string) map[string]types.AttributeValue { return key(pk(ws), prefixChannel+id) }
func watchKey(ws, id string) map[string]types.AttributeValue   { return key(pk(ws), prefixWatch+id) }
func sourceKey(ws, id string) map[string]types.AttributeValue  { return key(pk(ws), prefixSource+id) }
func accountKey(platform, accountID string) map[string]types.AttributeValue {
	return key(accountPK(platform, accountID), skAccount)
}

func marshalWorkspace(w *vigie.Workspace) (map[string]types.AttributeValue, error) {
	return attributevalue.MarshalMap(workspaceItem{
		PK: pk(w.ID), SK: skWorkspace, GSI1PK: gsi1Workspaces, GSI1SK: w.ID,
		ID: w.ID, Name: w.Name, CreatedAt: store.FormatTime(w.CreatedAt),
		SecretGeneration: w.SecretGeneration, Version: w.Version,
	})
}

func unmarshalWorkspace(av map[string]types.AttributeValue) (*vigie.Workspace, error) {
	var it workspaceItem
	if err := attributevalue.UnmarshalMap(av, &it); err != nil {
		return nil, err
	}
	created, err := store.ParseTime(it.CreatedAt)
	if err != nil {
		return nil, fmt.Errorf("workspace %q: %w", it.ID, err)
	}
	return &vigie.Workspace{ID: it.ID, Name: it.Name, CreatedAt: created, SecretGeneration: it.SecretGeneration, Version: it.Version}, nil
}

func marshalAPIKey(k *vigie.APIKey) (map[string]types.AttributeValue, error) {
	return attributevalue.MarshalMap(apiKeyItem{
		PK: pk(k.Workspace), SK: prefixKey + k.ID,
		Workspace: k.Workspace, ID: k.ID, Name: k.Name, Hash: k.Hash,
		CreatedAt: store.FormatTime(k.CreatedAt), RevokedAt: formatPtr(k.RevokedAt), LastUsedAt: formatPtr(k.LastUsedAt),
		Version: k.Version,
	})
}

func unmarshalAPIKey(av map[string]types.AttributeValue) (*vigie.APIKey, error) {
	var it apiKeyItem
	if err := attributevalue.UnmarshalMap(av, &it); err != nil {
		return nil, err
	}
	k := &vigie.APIKey{Workspace: it.Workspace, ID: it.ID, Name: it.Name, Hash: it.Hash, Version: it.Version}
	var err1, err2, err3 error
	k.CreatedAt, err1 = store.ParseTime(it.CreatedAt)
	k.RevokedAt, err2 = parsePtr(it.RevokedAt)
	k.LastUsedAt, err3 = parsePtr(it.LastUsedAt)
	for _, err := range []error{err1, err2, err3} {
		if err != nil {
			return nil, fmt.Errorf("API key %q: %w", it.ID, err)
		}
	}
	return k, nil
}

// ttlSeconds rounds an expiry up to whole seconds, so that DynamoDB's
// sweeper never deletes a mention before it has expired.
func ttlSeconds(t time.Time) int64 {
	s := t.Unix()
	if t.Nanosecond() > 0 {
		s++
	}
	return s
}

// analysisItem is vigie.Analysis with attribute names.
type analysisItem struct {
	Lang           string  `dynamodbav:"lang"`
	LangConfidence float64 `dynamodbav:"lang_confidence"`
	Sentiment      string  `dynamodbav:"sentiment"`
	SentimentScore float64 `dynamodbav:"sentiment_score"`
	Toxicity       float64 `dynamodbav:"toxicity"`
	Toxic          bool    `dynamodbav:"toxic"`
	SpamScore      float64 `dynamodbav:"spam_score"`
	Spam           bool    `dynamodbav:"spam"`
}

func marshalMention(m *vigie.Mention) (map[string]types.AttributeValue, error) {
	it := mentionItem{
		PK: pk(m.Workspace), SK: prefixMention + m.ID,
		GSI1PK: gsi1pk(m.Workspace), GSI1SK: store.MentionSortKey(m.CreatedAt, m.ID),
		ID: m.ID, Workspace: m.Workspace, Platform: m.Platform, Channel: m.Channel, Kind: m.Kind,
		ExternalID: m.ExternalID, ParentID: m.ParentID, ThreadID: m.ThreadID,
		Author: authorItem(m.Author),
		Text:   m.Text, URL: m.URL,
		CreatedAt: store.FormatTime(m.CreatedAt), ReceivedAt: store.FormatTime(m.ReceivedAt),
		Metrics: m.Metrics, Watches: m.Watches,
		EditedAt: formatPtr(m.EditedAt), RemovedAt: formatPtr(m.RemovedAt),
		ExpiresAt: formatPtr(m.ExpiresAt),
	}
	if m.ExpiresAt != nil {
		it.TTL = ttlSeconds(*m.ExpiresAt)
	}
	if m.Analysis != nil {
		a := analysisItem(*m.Analysis)
		it.Analysis = &a
	}
	return attributevalue.MarshalMap(it)
}

func unmarshalMention(av map[string]types.AttributeValue) (*vigie.Mention, error) {
	var it mentionItem
	if err := attributevalue.UnmarshalMap(av, &it); err != nil {
		return nil, err
	}
	m := &vigie.Mention{
		ID: it.ID, Workspace: it.Workspace, Platform: it.Platform, Channel: it.Channel, Kind: it.Kind,
		ExternalID: it.ExternalID, ParentID: it.ParentID, ThreadID: it.ThreadID,
		Author: vigie.Author(it.Author),
		Text:   it.Text, URL: it.URL, Metrics: it.Metrics, Watches: nilIfEmpty(it.Watches),
	}
	if len(m.Metrics) == 0 {
		m.Metrics = nil
	}
	if it.Analysis != nil {
		a := vigie.Analysis(*it.Analysis)
		m.Analysis = &a
	}
	var errs [5]error
	m.CreatedAt, errs[0] = store.ParseTime(it.CreatedAt)
	m.ReceivedAt, errs[1] = store.ParseTime(it.ReceivedAt)
	m.ExpiresAt, errs[2] = parsePtr(it.ExpiresAt)
	m.EditedAt, errs[3] = parsePtr(it.EditedAt)
	m.RemovedAt, errs[4] = parsePtr(it.RemovedAt)
	for _, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("mention %q: %w", it.ID, err)
		}
	}
	return m, nil
}

func marshalChannel(c *vigie.Channel) (map[string]types.AttributeValue, error) {
	return attributevalue.MarshalMap(channelItem{
		PK: pk(c.Workspace), SK: prefixChannel + c.ID,
		Workspace: c.Workspace, ID: c.ID, Platform: c.Platform, AccountID: c.AccountID,
		Instance: c.Instance, Handle: c.Handle, Name: c.Name, Status: c.Status,
		PollEveryNS: int64(c.PollEvery), CreatedAt: store.FormatTime(c.CreatedAt), Version: c.Version,
	})
}

func unmarshalChannel(av map[string]types.AttributeValue) (*vigie.Channel, error) {
	var it channelItem
	if err := attributevalue.UnmarshalMap(av, &it); err != nil {
		return nil, err
	}
	created, err := store.ParseTime(it.CreatedAt)
	if err != nil {
		return nil, fmt.Errorf("channel %q: %w", it.ID, err)
	}
	return &vigie.Channel{
		Workspace: it.Workspace, ID: it.ID, Platform: it.Platform, AccountID: it.AccountID,
		Instance: it.Instance, Handle: it.Handle, Name: it.Name, Status: it.Status,
		PollEvery: time.Duration(it.PollEveryNS), CreatedAt: created, Version: it.Version,
	}, nil
}

func marshalAccount(c *vigie.Channel) (map[string]types.AttributeValue, error) {
	return attributevalue.MarshalMap(accountItem{
		PK: accountPK(c.Platform, c.AccountID), SK: skAccount, Workspace: c.Workspace, Channel: c.ID,
	})
}

func marshalWatch(w *vigie.Watch) (map[string]types.AttributeValue, error) {
	return attributevalue.MarshalMap(watchItem{
		PK: pk(w.Workspace), SK: prefixWatch + w.ID,
		Workspace: w.Workspace, ID: w.ID, Name: w.Name, Kind: w.Kind, Query: w.Query,
		Feeds: w.Feeds, MastodonTags: w.MastodonTags, MastodonInstance: w.MastodonInstance,
		BlueskySearch: w.BlueskySearch, Status: w.Status, PollEveryNS: int64(w.PollEvery),
		CreatedAt: store.FormatTime(w.CreatedAt), Version: w.Version,
	})
}

func unmarshalWatch(av map[string]types.AttributeValue) (*vigie.Watch, error) {
	var it watchItem
	if err := attributevalue.UnmarshalMap(av, &it); err != nil {
		return nil, err
	}
	created, err := store.ParseTime(it.CreatedAt)
	if err != nil {
		return nil, fmt.Errorf("watch %q: %w", it.ID, err)
	}
	return &vigie.Watch{
		Workspace: it.Workspace, ID: it.ID, Name: it.Name, Kind: it.Kind, Query: it.Query,
		Feeds: nilIfEmpty(it.Feeds), MastodonTags: nilIfEmpty(it.MastodonTags), MastodonInstance: it.MastodonInstance,
		BlueskySearch: it.BlueskySearch, Status: it.Status, PollEvery: time.Duration(it.PollEveryNS),
		CreatedAt: created, Version: it.Version,
	}, nil
}

func marshalSource(s *vigie.Source) (map[string]types.AttributeValue, error) {
	return attributevalue.MarshalMap(sourceItem{
		PK: pk(s.Workspace), SK: prefixSource + s.ID,
		Workspace: s.Workspace, ID: s.ID, Cursor: s.Cursor,
		NextPollAt: formatZero(s.NextPollAt), LastPollAt: formatZero(s.LastPollAt), LastOKAt: formatZero(s.LastOKAt),
		LastError: s.LastError, Failures: s.Failures, LastCreated: s.LastCreated, Version: s.Version,
	})
}

func unmarshalSource(av map[string]types.AttributeValue) (*vigie.Source, error) {
	var it sourceItem
	if err := attributevalue.UnmarshalMap(av, &it); err != nil {
		return nil, err
	}
	s := &vigie.Source{
		Workspace: it.Workspace, ID: it.ID, Cursor: it.Cursor, LastError: it.LastError,
		Failures: it.Failures, LastCreated: it.LastCreated, Version: it.Version,
	}
	var errs [3]error
	s.NextPollAt, errs[0] = parseZero(it.NextPollAt)
	s.LastPollAt, errs[1] = parseZero(it.LastPollAt)
	s.LastOKAt, errs[2] = parseZero(it.LastOKAt)
	for _, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("source %q: %w", it.ID, err)
		}
	}
	return s, nil
}
