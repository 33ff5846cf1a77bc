// Package samtemplate reads the parts of a SAM template.yaml that the local
// runner and the tests need: the functions, their HTTP API routes, their
// EventBridge rules (pattern, retry policy, dead-letter queue) and their
// schedules. CloudFormation's short-form tags (!Ref, !Sub, !GetAtt…) are
// read as their long forms ({"Ref": …}, {"Fn::Sub": …}), never rejected.
package samtemplate

import (
	"encoding/json"
	"fmt"
	"os"
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
	CodeURI     string
	BuildMethod string
	Environment map[string]string // literal values only
	Routes      []Route
	Rules       []Rule
	Schedules   []Schedule
}

// Name is the function's folder under functions/: its logical id without
// the "Function" suffix, lower-cased (IngestFunction → ingest).
func (f Function) Name() string {
	return strings.ToLower(strings.TrimSuffix(f.LogicalID, "Function"))
}

// Route is an HttpApi event.
type Route struct {
	Event  string
	Method string // upper case; "ANY" for any
	Path   string // e.g. /v1/hooks/{workspace}/generic
}

// Rule is an EventBridgeRule event.
type Rule struct {
	Name          string          // "<FunctionLogicalID>.<EventName>", unique in the template
	Function      string          // logical id of the target function
	Bus           any             // EventBusName as written (string or intrinsic)
	Pattern       json.RawMessage // the EventBridge pattern, as JSON
	RetryAttempts int             // MaximumRetryAttempts (EventBridge default 185)
	MaxEventAge   time.Duration   // MaximumEventAgeInSeconds (default 24 h)
	HasRetry      bool            // the rule declares a RetryPolicy
	HasDLQ        bool            // the rule declares a DeadLetterConfig
}

// EventBridge's defaults when a target has no RetryPolicy.
const (
	DefaultRetryAttempts = 185
	DefaultMaxEventAge   = 24 * time.Hour
)

// Schedule is a Schedule or ScheduleV2 event.
type Schedule struct {
	Name       string
	Expression string // rate(...) or cron(...)
	Enabled    bool
	Input      json.RawMessage // constant input, if any
}

// Rules returns every rule of every function.
func (t *Template) Rules() []Rule {
	var rules []Rule
	for _, f := range t.Functions {
		rules = append(rules, f.Rules...)
	}
	return rules
}

// Load reads and parses the template at path.
func Load(path string) (*Template, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("samtemplate: %w", err)
	}
	t, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("samtemplate: %s: %w", path, err)
	}
	return t, nil
}

// Parse parses a template.
func Parse(data []byte) (*Template, error) {
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
	t := &Template{Resources: resources}
	for id, r := range resources {
		res, _ := r.(map[string]any)
		if res["Type"] != "AWS::Serverless::Function" {
			continue
		}
		f, err := function(id, res)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", id, err)
		}
		t.Functions = append(t.Functions, f)
	}
	sort.Slice(t.Functions, func(i, j int) bool { return t.Functions[i].LogicalID < t.Functions[j].LogicalID })
	return t, nil
}

func function(id string, res map[string]any) (Function, error) {
	props, _ := res["Properties"].(map[string]any)
	meta, _ := res["Metadata"].(map[string]any)
	f := Function{LogicalID: id, Environment: map[string]string{}}
	f.CodeURI, _ = props["CodeUri"].(string)
	f.BuildMethod, _ = meta["BuildMethod"].(string)
	if env, ok := props["Environment"].(map[string]any); ok {
		vars, _ := env["Variables"].(map[string]any)
		for k, v := range vars {
			if s, ok := v.(string); ok {
				f.Environment[k] = s
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
		switch ev["Type"] {
		case "HttpApi":
			method, _ := p["Method"].(string)
			path, _ := p["Path"].(string)
			if method == "" || path == "" {
				return f, fmt.Errorf("event %s: HttpApi needs Method and Path", name)
			}
			method = strings.ToUpper(method)
			if method == "ANY" || method == "X-AMAZON-APIGATEWAY-ANY-METHOD" {
				method = "ANY"
			}
			f.Routes = append(f.Routes, Route{Event: name, Method: method, Path: path})
		case "EventBridgeRule", "CloudWatchEvent":
			r, err := rule(id, name, p)
			if err != nil {
				return f, fmt.Errorf("event %s: %w", name, err)
			}
			f.Rules = append(f.Rules, r)
		case "Schedule", "ScheduleV2":
			expr, _ := p["Schedule"].(string)
			if expr == "" {
				expr, _ = p["ScheduleExpression"].(string)
			}
			if _, err := ParseSchedule(expr); err != nil {
				return f, fmt.Errorf("event %s: %w", name, err)
			}
			s := Schedule{Name: name, Expression: expr, Enabled: true}
			if en, ok := p["Enabled"].(bool); ok {
				s.Enabled = en
			}
			if st, ok := p["State"].(string); ok {
				s.Enabled = st != "DISABLED"
			}
			if in, ok := p["Input"].(string); ok {
				if !json.Valid([]byte(in)) {
					return f, fmt.Errorf("event %s: Input is not JSON", name)
				}
				s.Input = json.RawMessage(in)
			}
			f.Schedules = append(f.Schedules, s)
		}
	}
	return f, nil
}

func rule(fn, name string, p map[string]any) (Rule, error) {
	pattern, ok := p["Pattern"].(map[string]any)
	if !ok || len(pattern) == 0 {
		return Rule{}, fmt.Errorf("EventBridgeRule needs a Pattern")
	}
	pj, err := json.Marshal(pattern)
	if err != nil {
		return Rule{}, err
	}
	r := Rule{Name: fn + "." + name, Function: fn, Bus: p["EventBusName"], Pattern: pj,
		RetryAttempts: DefaultRetryAttempts, MaxEventAge: DefaultMaxEventAge}
	if rp, ok := p["RetryPolicy"].(map[string]any); ok {
		r.HasRetry = true
		if n, ok := number(rp["MaximumRetryAttempts"]); ok {
			r.RetryAttempts = n
		}
		if n, ok := number(rp["MaximumEventAgeInSeconds"]); ok {
			r.MaxEventAge = time.Duration(n) * time.Second
		}
	}
	_, r.HasDLQ = p["DeadLetterConfig"].(map[string]any)
	return r, nil
}

func number(v any) (int, bool) {
	switch n := v.(type) {
	case int:
		return n, true
	case float64:
		return int(n), true
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
	if strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!") {
		fn := strings.TrimPrefix(n.Tag, "!")
		if fn != "Ref" && fn != "Condition" {
			fn = "Fn::" + fn
		}
		if s, ok := v.(string); ok && fn == "Fn::GetAtt" {
			v = strings.SplitN(s, ".", 2)
		}
		return map[string]any{fn: v}
	}
	return v
}

func scalar(n *yaml.Node) any {
	if strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!") {
		return n.Value
	}
	var v any
	if err := n.Decode(&v); err != nil {
		return n.Value
	}
	return v
}
