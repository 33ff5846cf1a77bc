package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"reflect"
	"strconv"
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

// Delivery is the body of a generic webhook delivery, for senders written
// in Go (Parse reads items one by one to name the failing one).
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
// Invalid error naming the field as a JSON path (e.g.
// "mentions[3].created_at"). Two items with the same platform and external
// id are one mention: the first is kept.
func Parse(workspace string, body []byte, now time.Time) ([]*vigie.Mention, error) {
	if !utf8.Valid(body) {
		return nil, vigie.Invalidf("", "body is not valid UTF-8")
	}
	// Items are kept raw and decoded one by one so that a wrong type or an
	// unknown field is reported with the item's index, which
	// encoding/json's own errors do not carry.
	var d struct {
		Mentions []json.RawMessage `json:"mentions"`
	}
	if err := decodeStrict(body, &d); err != nil {
		return nil, decodeError("", body, err)
	}
	if d.Mentions == nil {
		return nil, missing("mentions")
	}
	if len(d.Mentions) == 0 || len(d.Mentions) > MaxMentions {
		return nil, vigie.Invalidf("mentions", "mentions must hold 1 to %d items, not %d", MaxMentions, len(d.Mentions))
	}
	seen := make(map[string]bool, len(d.Mentions))
	out := make([]*vigie.Mention, 0, len(d.Mentions))
	for i, raw := range d.Mentions {
		at := fmt.Sprintf("mentions[%d]", i)
		if raw[0] != '{' {
			return nil, vigie.Invalidf(at, "%s must be an object", at)
		}
		var it Item
		if err := decodeStrict(raw, &it); err != nil {
			return nil, decodeError(at, raw, err)
		}
		m, err := it.mention(at, workspace, now)
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

// decodeStrict decodes one JSON value into v, refusing unknown fields and
// anything after the value.
func decodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errTrailing
	}
	return nil
}

var errTrailing = errors.New("data after the object")

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

// decodeError turns a decoding error of data, the value at path at ("" for
// the body), into an Invalid error naming the field, without quoting input.
func decodeError(at string, data []byte, err error) error {
	var typ *json.UnmarshalTypeError
	var syn *json.SyntaxError
	switch {
	case errors.As(err, &typ):
		field := join(at, typ.Field)
		return vigie.Invalidf(field, "%s has the wrong type: want %s", orBody(field), kindName(typ.Type.Kind()))
	case errors.As(err, &syn):
		return vigie.Invalidf("", "malformed JSON at byte %d", syn.Offset)
	case errors.Is(err, errTrailing):
		return vigie.Invalidf("", "malformed JSON: data after the object")
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return vigie.Invalidf("", "malformed JSON: unexpected end of the body")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		// encoding/json names the unknown key but not the object holding it:
		// only the item and its author can hold one (mentions is raw).
		quoted := strings.TrimPrefix(err.Error(), "json: unknown field ")
		name, uerr := strconv.Unquote(quoted)
		if uerr != nil {
			name = quoted
		}
		field := join(at, clip(unknownPath(data, name)))
		return vigie.Invalidf(field, "unknown field %s", field)
	default:
		return vigie.Invalidf(at, "malformed JSON")
	}
}

// unknownPath finds where the unknown key name sits in an item: at its top
// or in its author. It runs only on the error path.
func unknownPath(data []byte, name string) string {
	var top map[string]json.RawMessage
	if json.Unmarshal(data, &top) != nil {
		return name
	}
	if _, ok := top[name]; ok {
		return name
	}
	if a, ok := top["author"]; ok {
		var author map[string]json.RawMessage
		if json.Unmarshal(a, &author) == nil {
			if _, ok := author[name]; ok {
				return "author." + name
			}
		}
	}
	return name
}

// clip bounds a key taken from the input before it is echoed and logged.
func clip(s string) string {
	const max = 64
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// join appends a JSON path to its parent's path.
func join(at, field string) string {
	switch {
	case at == "":
		return field
	case field == "":
		return at
	}
	return at + "." + field
}

// kindName names a Go kind the way the format's documentation does.
func kindName(k reflect.Kind) string {
	switch k {
	case reflect.String:
		return "a string"
	case reflect.Int64, reflect.Int:
		return "a non-negative integer"
	case reflect.Bool:
		return "true or false"
	case reflect.Map, reflect.Struct:
		return "an object"
	case reflect.Slice:
		return "an array"
	}
	return k.String()
}

func orBody(field string) string {
	if field == "" {
		return "the body"
	}
	return field
}
