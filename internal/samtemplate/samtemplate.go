// Package samtemplate reads the parts of a SAM template.yaml that the local
// runner and the tests need: the functions, their HTTP API routes, their
// EventBridge rules (pattern, retry policy, dead-letter queue) and their
// schedules, so that what runs locally is what the template deploys.
//
// What it accepts:
//
//   - Functions are the AWS::Serverless::Function resources. A function's
//     folder under functions/ is named by its logical id, without the
//     "Function" suffix and lower-cased (IngestFunction → functions/ingest):
//     with Metadata BuildMethod makefile the CodeUri is "." and the Handler
//     of provided.al2023 is "bootstrap", so neither names the folder.
//   - Environment holds the literal variables of Globals.Function, overlaid
//     by the function's own, as SAM merges them; values written with an
//     intrinsic (!Ref Table…) are left out, as they exist only once deployed.
//   - Routes come from HttpApi events, rules from EventBridgeRule (and the
//     older CloudWatchEvent) events, schedules from Schedule and ScheduleV2
//     events. Other event types are ignored.
//   - CloudFormation's short-form tags (!Ref, !Sub, !GetAtt, !If, !Join…,
//     and any unknown one) never fail the parse: they are read as their long
//     forms ({"Ref": …}, {"Fn::Sub": …}).
//
// What it refuses, with an error naming the resource and event: a rule
// without a Pattern or with a RetryPolicy outside EventBridge's bounds, a
// route without Method or Path, a schedule expression ParseSchedule cannot
// read, and a ScheduleV2 time zone other than UTC (the local runner fires
// schedules in UTC).
package samtemplate

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Template is what Vigie reads of a SAM template.
type Template struct {
	Functions []Function // sorted by logical id
	// Resources is every resource as plain values (intrinsics in long
	// form), for checks on what the template declares.
	Resources map[string]any
}

// Function is an AWS::Serverless::Function.
type Function struct {
	LogicalID   string
	CodeURI     string            // cleaned ("./functions/x/" → "functions/x"); "" when not a literal
	BuildMethod string            // Metadata.BuildMethod, e.g. "makefile"
	Environment map[string]string // literal variables, Globals merged; never nil
	Routes      []Route           // sorted by event name
	Rules       []Rule            // sorted by event name
	Schedules   []Schedule        // sorted by event name
}

// Name is the function's folder under functions/: its logical id without
// the "Function" suffix, lower-cased (IngestFunction → ingest).
func (f Function) Name() string {
	return strings.ToLower(strings.TrimSuffix(f.LogicalID, "Function"))
}

// Route is an HttpApi event.
type Route struct {
	Event    string // the event's name in the template
	Function string // logical id of the function it invokes
	Method   string // upper case; "ANY" for any method
	Path     string // e.g. /v1/hooks/{workspace}/generic
}

// Rule is an EventBridgeRule event.
type Rule struct {
	Name     string // "<FunctionLogicalID>.<EventName>", unique in the template
	Function string // logical id of the target function
	// Bus names the rule's event bus: the literal EventBusName, or the
	// logical id of the resource a !Ref or !GetAtt names, or "default"
	// when the rule names none (EventBridge's default bus).
	Bus           string
	Pattern       json.RawMessage // the EventBridge pattern, as JSON
	RetryAttempts int             // MaximumRetryAttempts: retries after the first attempt
	MaxEventAge   time.Duration   // MaximumEventAgeInSeconds
	HasRetry      bool            // the rule declares a RetryPolicy
	HasDLQ        bool            // the rule declares a DeadLetterConfig
}

// EventBridge's retry policy: its defaults when a target declares none, and
// the bounds of what a template may declare.
const (
	DefaultRetryAttempts = 185
	DefaultMaxEventAge   = 24 * time.Hour
	maxRetryAttempts     = 185
	minEventAge          = time.Minute
	maxEventAge          = 24 * time.Hour
)

// DefaultBus is Rule.Bus for a rule that names no bus.
const DefaultBus = "default"

// Schedule is a Schedule or ScheduleV2 event.
type Schedule struct {
	Name       string // the event's name in the template
	Function   string // logical id of the function it invokes
	Expression string // rate(...) or cron(...), as ParseSchedule reads it
	Enabled    bool
	Input      json.RawMessage // constant input, if any
}

// Function returns the function with the given logical id.
func (t *Template) Function(logicalID string) (Function, bool) {
	i := sort.Search(len(t.Functions), func(i int) bool { return t.Functions[i].LogicalID >= logicalID })
	if i < len(t.Functions) && t.Functions[i].LogicalID == logicalID {
		return t.Functions[i], true
	}
	return Function{}, false
}

// Rules returns every rule of every function, by function then event name.
func (t *Template) Rules() []Rule {
	var out []Rule
	for _, f := range t.Functions {
		out = append(out, f.Rules...)
	}
	return out
}

// Routes returns every route of every function, by function then event name.
func (t *Template) Routes() []Route {
	var out []Route
	for _, f := range t.Functions {
		out = append(out, f.Routes...)
	}
	return out
}

// Schedules returns every schedule of every function, by function then
// event name.
func (t *Template) Schedules() []Schedule {
	var out []Schedule
	for _, f := range t.Functions {
		out = append(out, f.Schedules...)
	}
	return out
}

// Load reads and parses the template at path.
func Load(path string) (*Template, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("samtemplate: load: %w", err)
	}
	t, err := parse(data)
	if err != nil {
		return nil, fmt.Errorf("samtemplate: load %s: %w", path, err)
	}
	return t, nil
}

// Parse parses a template.
func Parse(data []byte) (*Template, error) {
	t, err := parse(data)
	if err != nil {
		return nil, fmt.Errorf("samtemplate: parse: %w", err)
	}
	return t, nil
}

func parse(data []byte) (*Template, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, err
	}
	if len(root.Content) == 0 {
		return nil, fmt.Errorf("empty template")
	}
	doc, ok := value(root.Content[0]).(map[string]any)
	if !ok {
		return nil, fmt.Errorf("template is not a mapping")
	}
	resources, _ := doc["Resources"].(map[string]any)
	globals, _ := doc["Globals"].(map[string]any)
	globalFn, _ := globals["Function"].(map[string]any)
	t := &Template{Resources: resources}
	for id, r := range resources {
		res, _ := r.(map[string]any)
		if res["Type"] != "AWS::Serverless::Function" {
			continue
		}
		f, err := function(id, res, globalFn)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", id, err)
		}
		t.Functions = append(t.Functions, f)
	}
	sort.Slice(t.Functions, func(i, j int) bool { return t.Functions[i].LogicalID < t.Functions[j].LogicalID })
	return t, nil
}

func function(id string, res, globals map[string]any) (Function, error) {
	props, _ := res["Properties"].(map[string]any)
	meta, _ := res["Metadata"].(map[string]any)
	f := Function{LogicalID: id, Environment: map[string]string{}}
	if uri, ok := props["CodeUri"].(string); ok && uri != "" {
		f.CodeURI = path.Clean(strings.ReplaceAll(uri, `\`, "/"))
	}
	f.BuildMethod, _ = meta["BuildMethod"].(string)
	for _, p := range []map[string]any{globals, props} {
		env, _ := p["Environment"].(map[string]any)
		vars, _ := env["Variables"].(map[string]any)
		for k, v := range vars {
			if s, ok := literal(v); ok {
				f.Environment[k] = s
			} else {
				// The function's intrinsic hides a global literal, as
				// its deployed value would.
				delete(f.Environment, k)
			}
		}
	}
	evs, _ := props["Events"].(map[string]any)
	names := make([]string, 0, len(evs))
	for n := range evs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		ev, _ := evs[name].(map[string]any)
		p, _ := ev["Properties"].(map[string]any)
		var err error
		switch ev["Type"] {
		case "HttpApi":
			var r Route
			if r, err = route(id, name, p); err == nil {
				f.Routes = append(f.Routes, r)
			}
		case "EventBridgeRule", "CloudWatchEvent":
			var r Rule
			if r, err = rule(id, name, p); err == nil {
				f.Rules = append(f.Rules, r)
			}
		case "Schedule", "ScheduleV2":
			var s Schedule
			if s, err = schedule(id, name, p); err == nil {
				f.Schedules = append(f.Schedules, s)
			}
		}
		if err != nil {
			return f, fmt.Errorf("event %s: %w", name, err)
		}
	}
	return f, nil
}

func route(fn, name string, p map[string]any) (Route, error) {
	method, _ := p["Method"].(string)
	path, _ := p["Path"].(string)
	if method == "" || path == "" {
		return Route{}, fmt.Errorf("HttpApi needs a literal Method and Path")
	}
	method = strings.ToUpper(method)
	if method == "X-AMAZON-APIGATEWAY-ANY-METHOD" {
		method = "ANY"
	}
	return Route{Event: name, Function: fn, Method: method, Path: path}, nil
}

func rule(fn, name string, p map[string]any) (Rule, error) {
	pattern, ok := p["Pattern"].(map[string]any)
	if !ok || len(pattern) == 0 {
		return Rule{}, fmt.Errorf("EventBridgeRule needs a Pattern")
	}
	pj, err := json.Marshal(pattern)
	if err != nil {
		return Rule{}, fmt.Errorf("pattern: %w", err)
	}
	r := Rule{Name: fn + "." + name, Function: fn, Bus: busName(p["EventBusName"]), Pattern: pj,
		RetryAttempts: DefaultRetryAttempts, MaxEventAge: DefaultMaxEventAge}
	if rp, ok := p["RetryPolicy"].(map[string]any); ok {
		r.HasRetry = true
		if v, set := rp["MaximumRetryAttempts"]; set {
			n, ok := number(v)
			if !ok || n < 0 || n > maxRetryAttempts {
				return Rule{}, fmt.Errorf("RetryPolicy.MaximumRetryAttempts must be a number from 0 to %d", maxRetryAttempts)
			}
			r.RetryAttempts = n
		}
		if v, set := rp["MaximumEventAgeInSeconds"]; set {
			n, ok := number(v)
			age := time.Duration(n) * time.Second
			if !ok || age < minEventAge || age > maxEventAge {
				return Rule{}, fmt.Errorf("RetryPolicy.MaximumEventAgeInSeconds must be a number from %d to %d",
					int(minEventAge.Seconds()), int(maxEventAge.Seconds()))
			}
			r.MaxEventAge = age
		}
	}
	_, r.HasDLQ = p["DeadLetterConfig"].(map[string]any)
	return r, nil
}

// busName reads an EventBusName: a literal, or the logical id that a !Ref
// or !GetAtt names; anything else is kept as its JSON.
func busName(v any) string {
	switch b := v.(type) {
	case nil:
		return DefaultBus
	case string:
		return b
	case map[string]any:
		if ref, ok := b["Ref"].(string); ok {
			return ref
		}
		if att, ok := b["Fn::GetAtt"].([]any); ok && len(att) > 0 {
			if id, ok := att[0].(string); ok {
				return id
			}
		}
	}
	j, _ := json.Marshal(v)
	return string(j)
}

func schedule(fn, name string, p map[string]any) (Schedule, error) {
	expr, _ := p["Schedule"].(string) // Schedule
	if expr == "" {
		expr, _ = p["ScheduleExpression"].(string) // ScheduleV2
	}
	if _, err := ParseSchedule(expr); err != nil {
		return Schedule{}, err
	}
	if tz, ok := p["ScheduleExpressionTimezone"]; ok && tz != "UTC" && tz != "Etc/UTC" {
		return Schedule{}, fmt.Errorf("ScheduleExpressionTimezone %v: only UTC is supported", tz)
	}
	s := Schedule{Name: name, Function: fn, Expression: expr, Enabled: true}
	if en, ok := p["Enabled"].(bool); ok {
		s.Enabled = en
	}
	if st, ok := p["State"].(string); ok {
		s.Enabled = st != "DISABLED"
	}
	if in, ok := p["Input"].(string); ok {
		if !json.Valid([]byte(in)) {
			return Schedule{}, errors.New("schedule Input is not JSON")
		}
		s.Input = json.RawMessage(in)
	}
	return s, nil
}

// literal returns a scalar written in the template as a string, the way
// CloudFormation passes it to the function.
func literal(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case bool:
		return strconv.FormatBool(x), true
	case int:
		return strconv.Itoa(x), true
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), true
	}
	return "", false
}

func number(v any) (int, bool) {
	switch n := v.(type) {
	case int:
		return n, true
	case float64:
		return int(n), n == float64(int(n))
	case string:
		i, err := strconv.Atoi(n)
		return i, err == nil
	}
	return 0, false
}

// value turns a YAML node into plain Go values, mapping CloudFormation's
// short-form tags to their long forms.
func value(n *yaml.Node) any {
	var v any
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) > 0 {
			return value(n.Content[0])
		}
		return nil
	case yaml.AliasNode:
		return value(n.Alias)
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			m[n.Content[i].Value] = value(n.Content[i+1])
		}
		v = m
	case yaml.SequenceNode:
		s := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			s = append(s, value(c))
		}
		v = s
	default:
		v = scalar(n)
	}
	if isShortForm(n.Tag) {
		fn := strings.TrimPrefix(n.Tag, "!")
		if fn != "Ref" && fn != "Condition" {
			fn = "Fn::" + fn
		}
		if s, ok := v.(string); ok && fn == "Fn::GetAtt" {
			// !GetAtt Res.Attr is the short form of [Res, Attr].
			var parts []any
			for _, p := range strings.SplitN(s, ".", 2) {
				parts = append(parts, p)
			}
			v = parts
		}
		return map[string]any{fn: v}
	}
	return v
}

// isShortForm tells a CloudFormation tag (!Ref) from a YAML one (!!str).
func isShortForm(tag string) bool {
	return strings.HasPrefix(tag, "!") && !strings.HasPrefix(tag, "!!")
}

func scalar(n *yaml.Node) any {
	// CloudFormation reads an unquoted date as a string (as in
	// AWSTemplateFormatVersion: 2010-09-09), not a time.
	if isShortForm(n.Tag) || n.Tag == "!!timestamp" {
		return n.Value
	}
	var v any
	if err := n.Decode(&v); err != nil {
		return n.Value
	}
	return v
}
