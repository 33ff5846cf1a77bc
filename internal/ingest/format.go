package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"vigie/internal/vigie"
)

// Limits of the generic format.
const (
	MaxMentions    = 500
	MaxTextBytes   = 100_000
	MaxExternalID  = 256
	MaxFutureSkew  = 24 * time.Hour
	maxAuthorField = 256
	maxURL         = 2048
	maxMetrics     = 32
)

// validName reports whether s is 1 to 32 of a-z, 0-9, '_' and '-': platform
// and metric names.
func validName(s string) bool {
	if len(s) < 1 || len(s) > 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// Delivery is the body of a generic webhook delivery.
type Delivery struct {
	Mentions []Item `json:"mentions"`
}

// Item is one mention in a delivery.
type Item struct {
	Platform   string           `json:"platform"`
	ExternalID string           `json:"external_id"`
	Author     ItemAuthor       `json:"author"`
	Text       *string          `json:"text"`
	URL        string           `json:"url"`
	CreatedAt  string           `json:"created_at"`
	Metrics    map[string]int64 `json:"metrics"`
}

// ItemAuthor is who wrote an item.
type ItemAuthor struct {
	ID        string `json:"id"`
	Handle    string `json:"handle"`
	Name      string `json:"name"`
	Followers *int64 `json:"followers"`
	Verified  *bool  `json:"verified"`
}

// Parse decodes and validates a whole delivery, received at now, into
// mentions of workspace. Any invalid item fails the whole delivery with an
// Invalid error naming the field (e.g. "mentions[3].created_at"). Two items
// with the same platform and external id are one mention: the first is kept.
func Parse(workspace string, body []byte, now time.Time) ([]*vigie.Mention, error) {
	if !utf8.Valid(body) {
		return nil, vigie.Invalidf("", "body is not valid UTF-8")
	}
	var d Delivery
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		return nil, decodeError(err)
	}
	if dec.More() {
		return nil, vigie.Invalidf("", "malformed JSON: data after the object")
	}
	if d.Mentions == nil {
		return nil, missing("mentions")
	}
	if len(d.Mentions) == 0 || len(d.Mentions) > MaxMentions {
		return nil, vigie.Invalidf("mentions", "mentions must hold 1 to %d items, not %d", MaxMentions, len(d.Mentions))
	}
	seen := map[string]bool{}
	out := make([]*vigie.Mention, 0, len(d.Mentions))
	for i, it := range d.Mentions {
		m, err := it.mention(fmt.Sprintf("mentions[%d]", i), workspace, now)
		if err != nil {
			return nil, err
		}
		if !seen[m.ID] {
			seen[m.ID] = true
			out = append(out, m)
		}
	}
	return out, nil
}

func (it Item) mention(at, workspace string, now time.Time) (*vigie.Mention, error) {
	switch {
	case it.Platform == "":
		return nil, missing(at + ".platform")
	case !validName(it.Platform):
		return nil, vigie.Invalidf(at+".platform", "%s.platform must be 1 to 32 lower-case letters, digits, '_' or '-'", at)
	case it.ExternalID == "":
		return nil, missing(at + ".external_id")
	case len(it.ExternalID) > MaxExternalID || !printable(it.ExternalID):
		return nil, vigie.Invalidf(at+".external_id", "%s.external_id must be 1 to %d printable characters", at, MaxExternalID)
	case it.Text == nil:
		return nil, missing(at + ".text")
	case strings.TrimSpace(*it.Text) == "":
		return nil, vigie.Invalidf(at+".text", "%s.text is empty", at)
	case len(*it.Text) > MaxTextBytes:
		return nil, vigie.Invalidf(at+".text", "%s.text is over %d bytes", at, MaxTextBytes)
	case it.Author.ID == "" && it.Author.Handle == "":
		return nil, missing(at + ".author.handle")
	case it.CreatedAt == "":
		return nil, missing(at + ".created_at")
	}
	for name, v := range map[string]string{"id": it.Author.ID, "handle": it.Author.Handle, "name": it.Author.Name} {
		if len(v) > maxAuthorField || !printable(v) {
			return nil, vigie.Invalidf(at+".author."+name, "%s.author.%s must be at most %d printable characters", at, name, maxAuthorField)
		}
	}
	if it.Author.Followers != nil && *it.Author.Followers < 0 {
		return nil, vigie.Invalidf(at+".author.followers", "%s.author.followers is negative", at)
	}
	created, err := time.Parse(time.RFC3339Nano, it.CreatedAt)
	if err != nil || created.Year() < 2000 {
		return nil, vigie.Invalidf(at+".created_at", "%s.created_at must be an RFC 3339 time such as 2026-11-20T09:12:41Z", at)
	}
	if created.After(now.Add(MaxFutureSkew)) {
		return nil, vigie.Invalidf(at+".created_at", "%s.created_at is more than 24 hours in the future", at)
	}
	if it.URL != "" {
		u, err := url.Parse(it.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || len(it.URL) > maxURL {
			return nil, vigie.Invalidf(at+".url", "%s.url must be an absolute http(s) URL of at most %d bytes", at, maxURL)
		}
	}
	if len(it.Metrics) > maxMetrics {
		return nil, vigie.Invalidf(at+".metrics", "%s.metrics has more than %d entries", at, maxMetrics)
	}
	for k, v := range it.Metrics {
		if !validName(k) {
			return nil, vigie.Invalidf(at+".metrics", "%s.metrics names must be 1 to 32 lower-case letters, digits, '_' or '-'", at)
		}
		if v < 0 {
			return nil, vigie.Invalidf(at+".metrics."+k, "%s.metrics.%s is negative", at, k)
		}
	}
	m := &vigie.Mention{
		ID: vigie.MentionID(it.Platform, it.ExternalID), Workspace: workspace, Platform: it.Platform,
		ExternalID: it.ExternalID, Text: *it.Text, URL: it.URL, CreatedAt: created.UTC(), ReceivedAt: now.UTC(),
		Author: vigie.Author{ID: it.Author.ID, Handle: it.Author.Handle, Name: it.Author.Name,
			Followers: it.Author.Followers, Verified: it.Author.Verified},
	}
	if len(it.Metrics) > 0 {
		m.Metrics = it.Metrics
	}
	return m, nil
}

func missing(field string) error {
	return &vigie.Error{Kind: vigie.KindInvalid, Code: "field_missing", Field: field, Message: field + " is required"}
}

func printable(s string) bool {
	for _, r := range s {
		if !unicode.IsPrint(r) && r != ' ' {
			return false
		}
	}
	return true
}

// decodeError names the field a JSON error is about without quoting input.
func decodeError(err error) error {
	var typ *json.UnmarshalTypeError
	var syn *json.SyntaxError
	switch {
	case errors.As(err, &typ):
		field := typ.Field
		return vigie.Invalidf(field, "%s has the wrong type: want %s", orBody(field), typ.Type.Kind())
	case errors.As(err, &syn):
		return vigie.Invalidf("", "malformed JSON at byte %d", syn.Offset)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return vigie.Invalidf(name, "unknown field %q", name)
	default:
		return vigie.Invalidf("", "malformed JSON body")
	}
}

func orBody(field string) string {
	if field == "" {
		return "the body"
	}
	return field
}
