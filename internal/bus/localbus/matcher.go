package localbus

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"

	"quamina.net/go/quamina"

	"vigie/internal/samtemplate"
	"vigie/internal/vigie"
)

// Matcher tells which template rules an EventBridge event matches, with
// quamina, an EventBridge-compatible pattern matcher. It is safe for
// concurrent use.
type Matcher struct {
	// A Quamina instance must not match on two goroutines at once; its
	// copies share the patterns and may. base is never used to match, only
	// copied, and each Match borrows a copy from the pool.
	base  *quamina.Quamina
	pool  sync.Pool
	rules map[string]samtemplate.Rule
}

// NewMatcher loads every rule's pattern, keyed by the rule's name. A
// pattern quamina cannot read is an error naming the rule: rules must keep
// to the operators both EventBridge and quamina 1.5.1 support (exact
// values, prefix, anything-but, exists, equals-ignore-case, wildcard; not numeric
// ranges, suffix, $or or cidr). Two rules with one name are an error.
func NewMatcher(rules []samtemplate.Rule) (*Matcher, error) {
	q, err := quamina.New()
	if err != nil {
		return nil, fmt.Errorf("localbus: matcher: %w", err)
	}
	m := &Matcher{base: q, rules: map[string]samtemplate.Rule{}}
	m.pool.New = func() any { return m.base.Copy() }
	for _, r := range rules {
		if _, dup := m.rules[r.Name]; dup {
			return nil, fmt.Errorf("localbus: matcher: two rules named %s", r.Name)
		}
		if err := q.AddPattern(r.Name, string(r.Pattern)); err != nil {
			return nil, fmt.Errorf("localbus: matcher: rule %s: pattern not supported: %w", r.Name, err)
		}
		m.rules[r.Name] = r
	}
	return m, nil
}

// Match returns the names of the rules that envelope (a whole EventBridge
// event, as Envelope makes it) matches, sorted; an empty, non-nil slice
// when none does.
func (m *Matcher) Match(envelope []byte) ([]string, error) {
	q := m.pool.Get().(*quamina.Quamina)
	xs, err := q.MatchesForEvent(envelope)
	m.pool.Put(q)
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

// Envelope wraps ev as EventBridge delivers it: version "0", ev.ID as id,
// ev.Type as detail-type, vigie.EventSource as source, ev.Time in UTC to
// the second, no resources, ev.Detail (a JSON object) as detail. An Invalid
// error if the detail is not a JSON object.
func Envelope(ev vigie.Event, account, region string) ([]byte, error) {
	if !isJSONObject(ev.Detail) {
		return nil, vigie.Invalidf("detail", "localbus: event %s: detail must be a JSON object", ev.ID)
	}
	return json.Marshal(envelope{
		Version: "0", ID: ev.ID, DetailType: ev.Type, Source: vigie.EventSource, Account: account,
		Time: ev.Time.UTC().Format("2006-01-02T15:04:05Z"), Region: region, Resources: []string{}, Detail: ev.Detail,
	})
}

func isJSONObject(raw json.RawMessage) bool {
	return strings.HasPrefix(strings.TrimLeft(string(raw), " \t\r\n"), "{") && json.Valid(raw)
}
