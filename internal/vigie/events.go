package vigie

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"time"
)

// EventSource is the EventBridge "source" of every event Vigie publishes.
const EventSource = "vigie"

// Event types: past-tense facts, used as EventBridge detail-type.
const (
	EventMentionReceived = "mention.received"
	EventMentionEdited   = "mention.edited"
	EventMentionRemoved  = "mention.removed"
)

// Event is a fact announced on the bus. Detail is the JSON object that
// EventBridge patterns match under "detail"; it always carries "workspace".
type Event struct {
	ID        string          `json:"id"`
	Type      string          `json:"type"`
	Workspace string          `json:"workspace"`
	Time      time.Time       `json:"time"`
	Detail    json.RawMessage `json:"detail"`
}

// MentionReceived is the detail of a mention.received event. The top-level
// fields besides Mention are categorical, strings even for yes/no, so that
// rules filter on them with exact values (no numeric ranges).
type MentionReceived struct {
	Workspace string `json:"workspace"`
	Platform  string `json:"platform"`
	Lang      string `json:"lang,omitempty"`      // fr, en, other
	Sentiment string `json:"sentiment,omitempty"` // negative, neutral, positive
	Toxic     string `json:"toxic,omitempty"`     // "true" or "false"
	Spam      string `json:"spam,omitempty"`      // "true" or "false"
	Kind      string `json:"kind,omitempty"`      // comment, reply, mention, post, article, review
	Channel   string `json:"channel,omitempty"`
	// Watches lists the ids of the matching watches; an EventBridge pattern
	// on an array matches when any element does.
	Watches []string `json:"watches,omitempty"`
	Mention *Mention `json:"mention"`
}

// NewMentionReceived builds the mention.received event for m.
func NewMentionReceived(m *Mention) (Event, error) {
	return newMentionEvent(EventMentionReceived, "ev_"+m.ID[2:], m)
}

// NewMentionEdited builds the mention.edited event for m, which holds the
// new text. Its id is derived from the mention and the new text, so that a
// repeated announcement of the same edit has the same id.
func NewMentionEdited(m *Mention) (Event, error) {
	sum := sha256.Sum256([]byte(m.ID + "\x00" + m.Text))
	return newMentionEvent(EventMentionEdited, "ev_ed_"+hex.EncodeToString(sum[:12]), m)
}

// NewMentionRemoved builds the mention.removed event for m.
func NewMentionRemoved(m *Mention) (Event, error) {
	return newMentionEvent(EventMentionRemoved, "ev_rm_"+m.ID[2:], m)
}

// newMentionEvent builds a mention event: the same detail for every type,
// so that rules filter received, edited and removed mentions alike.
func newMentionEvent(typ, id string, m *Mention) (Event, error) {
	d := MentionReceived{Workspace: m.Workspace, Platform: m.Platform, Kind: m.Kind, Channel: m.Channel, Watches: m.Watches, Mention: m}
	if a := m.Analysis; a != nil {
		d.Lang, d.Sentiment, d.Toxic, d.Spam = a.Lang, a.Sentiment, strconv.FormatBool(a.Toxic), strconv.FormatBool(a.Spam)
	}
	detail, err := json.Marshal(d)
	if err != nil {
		return Event{}, err
	}
	// The event id is derived from the mention so that consumers can drop a
	// repeat announcement of the same fact.
	return Event{ID: id, Type: typ, Workspace: m.Workspace, Time: m.ReceivedAt, Detail: detail}, nil
}
