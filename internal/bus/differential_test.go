package bus_test

// The differential test: every event is routed by EventBridge (moto's) and
// by the local matcher with the same rule patterns, and both must send it to
// the same rules.
//
// Moto runs a rule's targets inside the PutEvents call (events.models
// put_events → Rule.send_to_targets → the SQS backend's send_message, all in
// the request), so once PutEvents has returned every message is already in
// its queue: the test drains each queue until it is empty, with no waiting,
// and a late delivery cannot be missed.

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"vigie/internal/bus/eventbridgebus"
	"vigie/internal/bus/localbus"
	"vigie/internal/samtemplate"
	"vigie/internal/testsrv"
	"vigie/internal/vigie"
)

// motoAccount is the account id moto puts in the envelopes it builds; the
// local envelopes carry the same so that a pattern on "account" routes alike.
const motoAccount = "123456789012"

func TestMain(m *testing.M) { testsrv.Main(m) }

func TestRouting_LocalMatchesEventBridge(t *testing.T) {
	root := testsrv.ModuleRoot(t)
	templates := []struct {
		name, path string
		optional   bool
	}{
		{name: "fixture", path: filepath.Join(root, "internal", "samtemplate", "testdata", "fixture.yaml")},
		{name: "template", path: filepath.Join(root, "template.yaml"), optional: true},
	}
	samples := sampleEvents(t, filepath.Join(root, "events"))
	t.Logf("%d bus event samples in events/", len(samples))

	endpoint := testsrv.Moto(t)
	cfg := testsrv.AWSConfig(endpoint)
	eb := eventbridge.NewFromConfig(cfg)
	sq := sqs.NewFromConfig(cfg)

	for _, tpl := range templates {
		t.Run(tpl.name, func(t *testing.T) {
			if _, err := os.Stat(tpl.path); err != nil && tpl.optional {
				t.Skipf("%s: %v", tpl.path, err)
			}
			rules := loadRules(t, tpl.path)
			if len(rules) == 0 {
				t.Logf("%s has no EventBridge rules: nothing to compare", tpl.path)
				return
			}
			evs := slices.Concat(samples, tableEvents(), generatedEvents(t, rules))
			evs = uniqueEvents(evs)
			t.Logf("%d rules, %d distinct events", len(rules), len(evs))

			want := routeLocally(t, rules, evs)
			got := routeOnMoto(t, eb, sq, rules, evs)
			for _, ev := range evs {
				k := eventKey(t, ev.Type, ev.Detail)
				if !slices.Equal(want[k], got[k]) {
					t.Errorf("event %s reaches %v locally but %v on EventBridge (moto)\n\t%s", ev.ID, want[k], got[k], k)
				}
			}
			// A rule that no event reaches is a rule this test says nothing about.
			reached := map[string]bool{}
			for _, names := range want {
				for _, n := range names {
					reached[n] = true
				}
			}
			for _, r := range rules {
				if n := r.Name; !reached[n] {
					t.Errorf("no event reaches rule %s (pattern %s): add an event that does, to tables or events/", n, r.Pattern)
				}
			}
		})
	}
}

func loadRules(t *testing.T, path string) []samtemplate.Rule {
	t.Helper()
	tpl, err := samtemplate.Load(path)
	if err != nil {
		t.Fatalf("load %s: %v", path, err)
	}
	return tpl.Rules()
}

// eventKey identifies an event by what EventBridge delivers of it: its
// detail-type and detail (canonical JSON, as numbers and escapes may come
// back written differently).
func eventKey(t *testing.T, detailType string, detail []byte) string {
	t.Helper()
	var v any
	if err := json.Unmarshal(detail, &v); err != nil {
		t.Fatalf("detail %s: %v", detail, err)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return detailType + " " + string(b)
}

// uniqueEvents drops events with the same key as an earlier one: they route
// alike, and the test could not tell their deliveries apart.
func uniqueEvents(evs []vigie.Event) []vigie.Event {
	seen := map[string]bool{}
	var out []vigie.Event
	for _, ev := range evs {
		var v any
		if json.Unmarshal(ev.Detail, &v) != nil {
			continue
		}
		b, _ := json.Marshal(v)
		k := ev.Type + " " + string(b)
		if !seen[k] {
			seen[k] = true
			out = append(out, ev)
		}
	}
	return out
}

// routeLocally returns, per event key, the sorted names of the rules the
// local matcher sends the event to.
func routeLocally(t *testing.T, rules []samtemplate.Rule, evs []vigie.Event) map[string][]string {
	t.Helper()
	m, err := localbus.NewMatcher(rules)
	if err != nil {
		t.Fatalf("NewMatcher: %v", err)
	}
	out := map[string][]string{}
	for _, ev := range evs {
		env, err := localbus.Envelope(ev, motoAccount, testsrv.Region)
		if err != nil {
			t.Fatalf("Envelope(%s): %v", ev.ID, err)
		}
		names, err := m.Match(env)
		if err != nil {
			t.Fatalf("Match(%s): %v", env, err)
		}
		k := eventKey(t, ev.Type, ev.Detail)
		out[k] = append(out[k], names...)
		sort.Strings(out[k])
	}
	return out
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9_-]`)

// routeOnMoto makes an event bus on moto with one rule per template rule,
// each with its own SQS queue as target, publishes evs with eventbridgebus
// and reads back which queues received what.
func routeOnMoto(t *testing.T, eb *eventbridge.Client, sq *sqs.Client, rules []samtemplate.Rule, evs []vigie.Event) map[string][]string {
	t.Helper()
	ctx := context.Background()
	// Moto is shared by the package's tests and keeps its state: names are
	// made unique per run.
	prefix := fmt.Sprintf("vigie-diff-%d", time.Now().UnixNano())
	busName := prefix
	if _, err := eb.CreateEventBus(ctx, &eventbridge.CreateEventBusInput{Name: aws.String(busName)}); err != nil {
		t.Fatalf("CreateEventBus: %v", err)
	}
	queues := make([]string, len(rules))
	for i, r := range rules {
		q, err := sq.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(fmt.Sprintf("%s-%d", prefix, i))})
		if err != nil {
			t.Fatalf("CreateQueue: %v", err)
		}
		queues[i] = aws.ToString(q.QueueUrl)
		attrs, err := sq.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: q.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
		if err != nil {
			t.Fatalf("GetQueueAttributes: %v", err)
		}
		name := unsafeName.ReplaceAllString(r.Name, "_")
		if _, err := eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String(name), EventBusName: aws.String(busName), EventPattern: aws.String(string(r.Pattern))}); err != nil {
			t.Fatalf("PutRule %s with pattern %s: %v", r.Name, r.Pattern, err)
		}
		if _, err := eb.PutTargets(ctx, &eventbridge.PutTargetsInput{
			Rule:         aws.String(name),
			EventBusName: aws.String(busName),
			Targets: []ebtypes.Target{{
				Id:  aws.String("queue"),
				Arn: aws.String(attrs.Attributes[string(sqstypes.QueueAttributeNameQueueArn)]),
				// The whole event, as with no transformer, but faster on
				// moto: its default input compiles eight JSONPath
				// expressions per delivery (about 5ms each), this one one.
				InputTransformer: &ebtypes.InputTransformer{
					InputPathsMap: map[string]string{"detailType": "$.detail-type"},
					InputTemplate: aws.String("<aws.events.event.json>"),
				},
			}},
		}); err != nil {
			t.Fatalf("PutTargets %s: %v", r.Name, err)
		}
	}

	if err := eventbridgebus.New(eb, busName, eventbridgebus.Options{}).Publish(ctx, evs...); err != nil {
		t.Fatalf("Publish: %v", err)
	}

	out := map[string][]string{}
	for _, ev := range evs {
		out[eventKey(t, ev.Type, ev.Detail)] = nil
	}
	for i, r := range rules {
		for _, body := range drain(t, sq, queues[i]) {
			var env struct {
				DetailType string          `json:"detail-type"`
				Detail     json.RawMessage `json:"detail"`
			}
			if err := json.Unmarshal([]byte(body), &env); err != nil {
				t.Fatalf("message on %s's queue: %v", r.Name, err)
			}
			k := eventKey(t, env.DetailType, env.Detail)
			if _, ok := out[k]; !ok {
				t.Errorf("rule %s received an event that was not published: %s", r.Name, k)
			}
			out[k] = append(out[k], r.Name)
		}
	}
	for _, names := range out {
		sort.Strings(names)
	}
	return out
}

// drain receives every message of the queue. Received messages stay
// invisible for the queue's visibility timeout (30s), far longer than the
// test, so the loop ends when all have been seen.
func drain(t *testing.T, sq *sqs.Client, url string) []string {
	t.Helper()
	var bodies []string
	for {
		out, err := sq.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 10})
		if err != nil {
			t.Fatalf("ReceiveMessage: %v", err)
		}
		if len(out.Messages) == 0 {
			return bodies
		}
		for _, m := range out.Messages {
			bodies = append(bodies, aws.ToString(m.Body))
		}
	}
}

// sampleEvents reads the bus event samples under dir: every JSON file whose
// top-level object has a "detail" object and a "type" (a vigie.Event) or a
// "detail-type" (an EventBridge envelope, as `sam local invoke` takes).
// Other samples (HTTP requests...) are skipped.
func sampleEvents(t *testing.T, dir string) []vigie.Event {
	t.Helper()
	var evs []vigie.Event
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if os.IsNotExist(err) && path == dir {
				return fs.SkipAll
			}
			return err
		}
		if d.IsDir() || filepath.Ext(path) != ".json" {
			return nil
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		var top map[string]json.RawMessage
		if json.Unmarshal(raw, &top) != nil {
			return nil // not an object: not a bus event
		}
		detail := top["detail"]
		if len(detail) == 0 || detail[0] != '{' {
			return nil
		}
		var ev vigie.Event
		switch {
		case top["type"] != nil:
			if err := json.Unmarshal(raw, &ev); err != nil {
				t.Errorf("%s: bus event sample: %v", path, err)
				return nil
			}
		case top["detail-type"] != nil:
			var env struct {
				ID         string          `json:"id"`
				DetailType string          `json:"detail-type"`
				Time       time.Time       `json:"time"`
				Detail     json.RawMessage `json:"detail"`
			}
			if err := json.Unmarshal(raw, &env); err != nil {
				t.Errorf("%s: EventBridge envelope sample: %v", path, err)
				return nil
			}
			ev = vigie.Event{ID: env.ID, Type: env.DetailType, Time: env.Time, Detail: env.Detail}
		default:
			return nil
		}
		if ev.ID == "" {
			ev.ID = filepath.Base(path)
		}
		evs = append(evs, ev)
		return nil
	})
	if err != nil {
		t.Fatalf("read samples: %v", err)
	}
	return evs
}

// tableEvents cover the shapes of the fixture's rules (by detail-type, by
// workspace, by categorical fields), matching and not, whatever the samples
// hold.
func tableEvents() []vigie.Event {
	when := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	ev := func(id, typ, detail string) vigie.Event {
		return vigie.Event{ID: id, Type: typ, Time: when, Detail: json.RawMessage(detail)}
	}
	var evs []vigie.Event
	for _, ws := range []string{"acme", "globex", "demo", "agency-north"} {
		for _, s := range []string{"positive", "neutral", "negative", "mixed", "NEGATIVE"} {
			for _, toxic := range []string{"true", "false"} {
				evs = append(evs, ev("mention-"+ws+"-"+s+"-"+toxic, vigie.EventMentionReceived,
					fmt.Sprintf(`{"workspace":%q,"platform":"generic","sentiment":%q,"toxic":%s,"spam":false,"mention":{"id":"m_1","text":"hello"}}`, ws, s, toxic)))
			}
		}
		evs = append(evs,
			ev("spam-"+ws, vigie.EventMentionReceived, fmt.Sprintf(`{"workspace":%q,"platform":"generic","sentiment":"neutral","toxic":false,"spam":true}`, ws)),
			ev("bare-"+ws, vigie.EventMentionReceived, fmt.Sprintf(`{"workspace":%q}`, ws)),
			ev("moderated-"+ws, "mention.moderated", fmt.Sprintf(`{"workspace":%q,"action":"hide"}`, ws)),
			ev("alert-"+ws, "alert.raised", fmt.Sprintf(`{"workspace":%q,"severity":"high","kind":"negative_spike"}`, ws)),
			ev("scheduled-"+ws, "post.scheduled", fmt.Sprintf(`{"workspace":%q,"platform":"mastodon"}`, ws)),
			ev("published-"+ws, "post.published", fmt.Sprintf(`{"workspace":%q,"platform":"mastodon"}`, ws)),
			ev("failed-"+ws, "post.failed", fmt.Sprintf(`{"workspace":%q,"platform":"mastodon","retryable":false}`, ws)),
			ev("report-"+ws, "report.ready", fmt.Sprintf(`{"workspace":%q,"format":"html"}`, ws)),
			ev("report-requested-"+ws, "report.requested", fmt.Sprintf(`{"workspace":%q,"kind":"weekly"}`, ws)),
			ev("sandbox-spam-"+ws, vigie.EventMentionReceived, fmt.Sprintf(`{"workspace":%q,"platform":"sandbox","toxic":"true","spam":"true"}`, ws)),
		)
	}
	evs = append(evs,
		ev("unknown-type", "something.else", `{"workspace":"acme","sentiment":"negative"}`),
		ev("type-case", "Mention.Received", `{"workspace":"acme","sentiment":"negative"}`),
		ev("no-workspace", vigie.EventMentionReceived, `{"sentiment":"negative","toxic":true}`),
		ev("array-values", vigie.EventMentionReceived, `{"workspace":["other","acme"],"sentiment":["neutral","negative"],"toxic":[false,true]}`),
		ev("null-values", vigie.EventMentionReceived, `{"workspace":null,"sentiment":null,"toxic":null}`),
		ev("nested-sentiment", vigie.EventMentionReceived, `{"workspace":"acme","sentiment":{"label":"negative"}}`),
		ev("string-bools", vigie.EventMentionReceived, `{"workspace":"acme","sentiment":"negative","toxic":"true","spam":"true"}`),
		ev("empty", vigie.EventMentionReceived, `{}`),
	)
	return evs
}

// generatedEvents derives events from the rules' own patterns, so that any
// rule, the template's future ones included, is exercised with no change to
// this test: for each pattern, one event meeting every condition, then for
// each condition on detail-type or detail, one event per value it lists,
// one with a value it does not list, one with that value in a case it does
// not list, one with the value inside an array, and one without the field.
// Conditions on other envelope fields (source, account...) are left as the
// bus sets them.
func generatedEvents(t *testing.T, rules []samtemplate.Rule) []vigie.Event {
	t.Helper()
	var evs []vigie.Event
	for _, r := range rules {
		var pattern map[string]any
		if err := json.Unmarshal(r.Pattern, &pattern); err != nil {
			t.Fatalf("rule %s: pattern %s: %v", r.Name, r.Pattern, err)
		}
		var leaves []leaf
		collectLeaves(pattern, nil, &leaves)
		base := map[string]any{}
		for _, l := range leaves {
			setPath(base, l.path, satisfy(l.conds[0]))
		}
		variants := []map[string]any{base}
		with := func(path []string, v any) {
			c := deepCopy(base).(map[string]any)
			setPath(c, path, v)
			variants = append(variants, c)
		}
		for _, l := range leaves {
			for _, c := range l.conds {
				with(l.path, satisfy(c))
			}
			with(l.path, "zz-unlisted")
			with(l.path, absent{})
			if s, ok := satisfy(l.conds[0]).(string); ok {
				with(l.path, swapCase(s))
				with(l.path, []any{"zz-other", s})
			}
			if b, ok := l.conds[0].(bool); ok {
				with(l.path, !b)
				with(l.path, fmt.Sprint(b)) // the string, not the boolean
			}
		}
		for i, v := range variants {
			typ, _ := v["detail-type"].(string)
			if typ == "" {
				typ = "zz.generated"
			}
			detail, ok := v["detail"].(map[string]any)
			if !ok {
				detail = map[string]any{}
			}
			raw, err := json.Marshal(detail)
			if err != nil {
				t.Fatal(err)
			}
			evs = append(evs, vigie.Event{ID: fmt.Sprintf("gen-%s-%d", r.Name, i), Type: typ, Time: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC), Detail: raw})
		}
	}
	return evs
}

// leaf is one condition of a pattern: the field at path must meet one of
// conds.
type leaf struct {
	path  []string
	conds []any
}

// collectLeaves gathers the conditions on detail-type and under detail.
func collectLeaves(node map[string]any, path []string, out *[]leaf) {
	for _, k := range slices.Sorted(maps.Keys(node)) {
		p := append(slices.Clone(path), k)
		if len(path) == 0 && k != "detail-type" && k != "detail" {
			continue
		}
		switch v := node[k].(type) {
		case map[string]any:
			collectLeaves(v, p, out)
		case []any:
			if len(v) > 0 {
				*out = append(*out, leaf{path: p, conds: v})
			}
		}
	}
}

// absent, set at a path, removes the field.
type absent struct{}

// satisfy returns a value meeting cond, or absent{} for {"exists": false}.
func satisfy(cond any) any {
	op, ok := cond.(map[string]any)
	if !ok || len(op) != 1 {
		return cond // a literal: string, number, boolean or null
	}
	for name, arg := range op {
		s, isString := arg.(string)
		switch name {
		case "prefix":
			if isString {
				return s + "-x"
			}
			if m, ok := arg.(map[string]any); ok {
				if s, ok := m["equals-ignore-case"].(string); ok {
					return swapCase(s) + "-x"
				}
			}
		case "suffix":
			if isString {
				return "x-" + s
			}
		case "equals-ignore-case":
			if isString {
				return swapCase(s)
			}
		case "wildcard", "shellstyle":
			if isString {
				return strings.ReplaceAll(s, "*", "x")
			}
		case "exists":
			if arg == false {
				return absent{}
			}
			return "present"
		case "anything-but":
			if list, ok := arg.([]any); ok && len(list) > 0 {
				if _, ok := list[0].(float64); ok {
					return 424242.0
				}
			}
			if _, ok := arg.(float64); ok {
				return 424242.0
			}
			return "zz-anything-else"
		case "numeric":
			return satisfyNumeric(arg)
		}
	}
	return "zz-unsupported-operator"
}

// satisfyNumeric returns a number meeting a numeric condition such as
// [">", 0, "<=", 5], trying the bounds and their neighbours.
func satisfyNumeric(arg any) any {
	list, _ := arg.([]any)
	var candidates []float64
	for _, v := range list {
		if f, ok := v.(float64); ok {
			candidates = append(candidates, f, f+1, f-1, f+0.5)
		}
	}
	for _, c := range candidates {
		ok := true
		for i := 0; i+1 < len(list); i += 2 {
			op, _ := list[i].(string)
			n, _ := list[i+1].(float64)
			switch op {
			case "<":
				ok = ok && c < n
			case "<=":
				ok = ok && c <= n
			case "=":
				ok = ok && c == n
			case ">=":
				ok = ok && c >= n
			case ">":
				ok = ok && c > n
			}
		}
		if ok {
			return c
		}
	}
	return 0.0
}

func swapCase(s string) string {
	if u := strings.ToUpper(s); u != s {
		return u
	}
	return strings.ToLower(s)
}

// setPath sets m's field at path to v, making the objects on the way;
// absent{} removes the field.
func setPath(m map[string]any, path []string, v any) {
	for _, k := range path[:len(path)-1] {
		next, ok := m[k].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[k] = next
		}
		m = next
	}
	last := path[len(path)-1]
	if _, ok := v.(absent); ok {
		delete(m, last)
		return
	}
	m[last] = v
}

func deepCopy(v any) any {
	switch v := v.(type) {
	case map[string]any:
		c := make(map[string]any, len(v))
		for k, e := range v {
			c[k] = deepCopy(e)
		}
		return c
	case []any:
		c := make([]any, len(v))
		for i, e := range v {
			c[i] = deepCopy(e)
		}
		return c
	}
	return v
}
