package localbus

import (
	"encoding/json"
	"fmt"
	"sort"
	"sync"

	"quamina.net/go/quamina"

	"vigie/internal/samtemplate"
	"vigie/internal/vigie"
)

// Matcher tells which template rules an EventBridge event matches, with
// quamina, an EventBridge-compatible pattern matcher.
type Matcher struct {
	mu    sync.Mutex
	q     *quamina.Quamina
	rules map[string]samtemplate.Rule
}

// NewMatcher loads every rule's pattern. A pattern quamina cannot read is
// an error naming the rule: rules must keep to the operators both
// EventBridge and quamina support.
func NewMatcher(rules []samtemplate.Rule) (*Matcher, error) {
	q, err := quamina.New()
	if err != nil {
		return nil, err
	}
	m := &Matcher{q: q, rules: map[string]samtemplate.Rule{}}
	for _, r := range rules {
		if _, dup := m.rules[r.Name]; dup {
			return nil, fmt.Errorf("localbus: two rules named %s", r.Name)
		}
		if err := q.AddPattern(r.Name, string(r.Pattern)); err != nil {
			return nil, fmt.Errorf("localbus: rule %s: pattern not supported: %w", r.Name, err)
		}
		m.rules[r.Name] = r
	}
	return m, nil
}

// Match returns the names of the rules that envelope (a full EventBridge
// event) matches, sorted.
func (m *Matcher) Match(envelope []byte) ([]string, error) {
	// A Quamina instance is not safe for concurrent matching.
	m.mu.Lock()
	xs, err := m.q.MatchesForEvent(envelope)
	m.mu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("localbus: match: %w", err)
	}
	names := make([]string, 0, len(xs))
	for _, x := range xs {
		names = append(names, x.(string))
	}
	sort.Strings(names)
	return names, nil
}

// Rule returns a rule by name.
func (m *Matcher) Rule(name string) (samtemplate.Rule, bool) {
	r, ok := m.rules[name]
	return r, ok
}

// envelope is an EventBridge event as rules and targets see it.
type envelope struct {
	Version    string          `json:"version"`
	ID         string          `json:"id"`
	DetailType string          `json:"detail-type"`
	Source     string          `json:"source"`
	Account    string          `json:"account"`
	Time       string          `json:"time"`
	Region     string          `json:"region"`
	Resources  []string        `json:"resources"`
	Detail     json.RawMessage `json:"detail"`
}

// Envelope wraps ev as EventBridge delivers it.
func Envelope(ev vigie.Event, account, region string) ([]byte, error) {
	if !json.Valid(ev.Detail) || len(ev.Detail) == 0 || ev.Detail[0] != '{' {
		return nil, vigie.Errorf(vigie.KindInvalid, "event %s: detail must be a JSON object", ev.ID)
	}
	return json.Marshal(envelope{
		Version: "0", ID: ev.ID, DetailType: ev.Type, Source: vigie.EventSource, Account: account,
		Time: ev.Time.UTC().Format("2006-01-02T15:04:05Z"), Region: region, Resources: []string{}, Detail: ev.Detail,
	})
}
