package vigie

import (
	"encoding/json"
	"strconv"
	"time"
)

// EventSource is the EventBridge "source" of every event Vigie publishes.
const EventSource = "vigie"

// Event types: past-tense facts, used as EventBridge detail-type.
const (
	EventMentionReceived = "mention.received"
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
	Workspace string   `json:"workspace"`
	Platform  string   `json:"platform"`
	Lang      string   `json:"lang,omitempty"`      // fr, en, other
	Sentiment string   `json:"sentiment,omitempty"` // negative, neutral, positive
	Toxic     string   `json:"toxic,omitempty"`     // "true" or "false"
	Spam      string   `json:"spam,omitempty"`      // "true" or "false"
	Mention   *Mention `json:"mention"`
}

// NewMentionReceived builds the mention.received event for m.
func NewMentionReceived(m *Mention) (Event, error) {
	d := MentionReceived{Workspace: m.Workspace, Platform: m.Platform, Mention: m}
	if a := m.Analysis; a != nil {
		d.Lang, d.Sentiment, d.Toxic, d.Spam = a.Lang, a.Sentiment, strconv.FormatBool(a.Toxic), strconv.FormatBool(a.Spam)
	}
	detail, err := json.Marshal(d)
	if err != nil {
		return Event{}, err
	}
	// The event id is derived from the mention so that consumers can drop a
	// repeat announcement of the same mention.
	return Event{ID: "ev_" + m.ID[2:], Type: EventMentionReceived, Workspace: m.Workspace, Time: m.ReceivedAt, Detail: detail}, nil
}
