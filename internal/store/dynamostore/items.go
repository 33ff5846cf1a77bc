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
	PK               string `dynamodbav:"PK"`
	SK               string `dynamodbav:"SK"`
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
	ExternalID string           `dynamodbav:"external_id,omitempty"`
	Author     authorItem       `dynamodbav:"author"`
	Text       string           `dynamodbav:"text,omitempty"`
	URL        string           `dynamodbav:"url,omitempty"`
	CreatedAt  string           `dynamodbav:"created_at"`
	ReceivedAt string           `dynamodbav:"received_at"`
	Metrics    map[string]int64 `dynamodbav:"metrics,omitempty"`
	Analysis   *analysisItem    `dynamodbav:"analysis,omitempty"`
	// ExpiresAt is the exact expiry that reads and the create condition
	// compare with now; ttl is its rounded copy for DynamoDB's sweeper.
	ExpiresAt string `dynamodbav:"expires_at,omitempty"`
}

// Attribute names used in expressions.
const (
	attrExpiresAt = "expires_at"
	attrVersion   = "version"
)

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

func workspaceKey(id string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		"PK": &types.AttributeValueMemberS{Value: pk(id)},
		"SK": &types.AttributeValueMemberS{Value: skWorkspace},
	}
}

func apiKeyKey(ws, id string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		"PK": &types.AttributeValueMemberS{Value: pk(ws)},
		"SK": &types.AttributeValueMemberS{Value: prefixKey + id},
	}
}

func mentionKey(ws, id string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		"PK": &types.AttributeValueMemberS{Value: pk(ws)},
		"SK": &types.AttributeValueMemberS{Value: prefixMention + id},
	}
}

func marshalWorkspace(w *vigie.Workspace) (map[string]types.AttributeValue, error) {
	return attributevalue.MarshalMap(workspaceItem{
		PK: pk(w.ID), SK: skWorkspace,
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
		ID: m.ID, Workspace: m.Workspace, Platform: m.Platform, ExternalID: m.ExternalID,
		Author: authorItem(m.Author),
		Text:   m.Text, URL: m.URL,
		CreatedAt: store.FormatTime(m.CreatedAt), ReceivedAt: store.FormatTime(m.ReceivedAt),
		Metrics:   m.Metrics,
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
		ID: it.ID, Workspace: it.Workspace, Platform: it.Platform, ExternalID: it.ExternalID,
		Author: vigie.Author(it.Author),
		Text:   it.Text, URL: it.URL, Metrics: it.Metrics,
	}
	if len(m.Metrics) == 0 {
		m.Metrics = nil
	}
	if it.Analysis != nil {
		a := vigie.Analysis(*it.Analysis)
		m.Analysis = &a
	}
	var err1, err2, err3 error
	m.CreatedAt, err1 = store.ParseTime(it.CreatedAt)
	m.ReceivedAt, err2 = store.ParseTime(it.ReceivedAt)
	m.ExpiresAt, err3 = parsePtr(it.ExpiresAt)
	for _, err := range []error{err1, err2, err3} {
		if err != nil {
			return nil, fmt.Errorf("mention %q: %w", it.ID, err)
		}
	}
	return m, nil
}
