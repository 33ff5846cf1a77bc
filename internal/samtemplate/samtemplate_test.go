package samtemplate

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// asJSON compares JSON documents by value, not by spelling.
var asJSON = cmp.Transformer("json", func(raw json.RawMessage) any {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return "invalid JSON: " + string(raw)
	}
	return v
})

func TestLoad_Fixture(t *testing.T) {
	got, err := Load("testdata/fixture.yaml")
	if err != nil {
		t.Fatal(err)
	}
	rule := func(fn, event, pattern string, retries int, age time.Duration) Rule {
		return Rule{Name: fn + "." + event, Function: fn, Bus: "Bus", Pattern: json.RawMessage(pattern),
			RetryAttempts: retries, MaxEventAge: age, HasRetry: true, HasDLQ: true}
	}
	globalEnv := map[string]string{"VIGIE_STORE": "dynamodb", "VIGIE_LOG_LEVEL": "info"}
	fn := func(id string) Function {
		return Function{LogicalID: id, CodeURI: ".", BuildMethod: "makefile", Environment: globalEnv}
	}
	alert, api, ingest, moderate, publish, report := fn("AlertFunction"), fn("ApiFunction"), fn("IngestFunction"),
		fn("ModerateFunction"), fn("PublishFunction"), fn("ReportFunction")
	alert.Rules = []Rule{
		rule("AlertFunction", "AcmeEverything", `{"source":["vigie"],"detail":{"workspace":["acme"]}}`, 2, time.Hour),
		rule("AlertFunction", "Negative", `{"source":["vigie"],"detail-type":["mention.received"],"detail":{"sentiment":["negative"]}}`, 2, time.Hour),
	}
	api.CodeURI = "functions/api"
	// VIGIE_LOG_LEVEL is an intrinsic here: it hides the global literal.
	api.Environment = map[string]string{"VIGIE_STORE": "dynamodb", "VIGIE_PAGE_SIZE": "50"}
	api.Routes = []Route{
		{Event: "Health", Function: "ApiFunction", Method: "GET", Path: "/v1/health"},
		{Event: "Proxy", Function: "ApiFunction", Method: "ANY", Path: "/v1/proxy/{path+}"},
		{Event: "RevokeKey", Function: "ApiFunction", Method: "DELETE", Path: "/v1/keys/{id}"},
	}
	ingest.Routes = []Route{{Event: "Generic", Function: "IngestFunction", Method: "POST", Path: "/v1/hooks/{workspace}/generic"}}
	moderate.Rules = []Rule{
		rule("ModerateFunction", "Spam", `{"detail-type":["mention.received"],"detail":{"spam":["true"],"platform":[{"anything-but":["sandbox"]}]}}`, 3, time.Hour),
		rule("ModerateFunction", "Toxic", `{"detail-type":["mention.received"],"detail":{"toxic":["true"]}}`, 3, time.Hour),
	}
	publish.Rules = []Rule{rule("PublishFunction", "Scheduled", `{"source":["vigie"],"detail-type":["post.scheduled"]}`, 1, 10*time.Minute)}
	publish.Schedules = []Schedule{{Name: "EveryMinute", Function: "PublishFunction", Expression: "rate(1 minute)", Enabled: true}}
	report.Environment = map[string]string{"VIGIE_STORE": "dynamodb", "VIGIE_LOG_LEVEL": "info", "REPORT_FORMAT": "html"}
	report.Rules = []Rule{
		rule("ReportFunction", "AgencyMentions", `{"detail-type":[{"prefix":"mention."}],"detail":{"workspace":[{"prefix":"agency-"}]}}`, 185, 24*time.Hour),
		rule("ReportFunction", "Requested", `{"source":["vigie"],"detail-type":["report.requested"],"detail":{"workspace":[{"exists":true}]}}`, 0, time.Minute),
	}
	report.Schedules = []Schedule{
		{Name: "Monthly", Function: "ReportFunction", Expression: "cron(0 6 1 * ? *)", Enabled: false},
		{Name: "Weekly", Function: "ReportFunction", Expression: "cron(0 7 ? * MON *)", Enabled: true, Input: json.RawMessage(`{"kind":"weekly"}`)},
	}
	want := []Function{alert, api, ingest, moderate, publish, report}
	if diff := cmp.Diff(want, got.Functions, asJSON); diff != "" {
		t.Errorf("functions (-want +got):\n%s", diff)
	}

	var names []string
	for _, f := range got.Functions {
		names = append(names, f.Name())
	}
	if diff := cmp.Diff([]string{"alert", "api", "ingest", "moderate", "publish", "report"}, names); diff != "" {
		t.Errorf("names (-want +got):\n%s", diff)
	}
	if n := len(got.Rules()); n != 7 {
		t.Errorf("Rules() has %d rules, want 7", n)
	}
	if n := len(got.Routes()); n != 4 {
		t.Errorf("Routes() has %d routes, want 4", n)
	}
	if n := len(got.Schedules()); n != 3 {
		t.Errorf("Schedules() has %d schedules, want 3", n)
	}
	if f, ok := got.Function("ModerateFunction"); !ok || f.LogicalID != "ModerateFunction" {
		t.Errorf("Function(ModerateFunction) = %v, %v", f.LogicalID, ok)
	}
	if _, ok := got.Function("NoFunction"); ok {
		t.Error("Function(NoFunction) found one")
	}
}

// Short-form tags, known or not, are read as their long forms, and values
// CloudFormation reads as strings stay strings.
func TestParse_ShortFormTags(t *testing.T) {
	src := `
AWSTemplateFormatVersion: 2010-09-09
Resources:
  R:
    Type: Custom::Thing
    Properties:
      Ref: !Ref Bus
      Sub: !Sub "vigie-${Stage}"
      SubList: !Sub ["${A}", {A: !Ref X}]
      GetAtt: !GetAtt Queue.Arn
      GetAttList: !GetAtt [Queue, Arn]
      If: !If [IsProd, 1, !Ref AWS::NoValue]
      Join: !Join [",", [a, !Ref B]]
      Cond: !Condition IsProd
      Unknown: !Frobnicate {x: 1}
      Date: 2026-01-01
      Plain: [1, true, ~, "s"]
`
	got, err := Parse([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"Ref":        map[string]any{"Ref": "Bus"},
		"Sub":        map[string]any{"Fn::Sub": "vigie-${Stage}"},
		"SubList":    map[string]any{"Fn::Sub": []any{"${A}", map[string]any{"A": map[string]any{"Ref": "X"}}}},
		"GetAtt":     map[string]any{"Fn::GetAtt": []any{"Queue", "Arn"}},
		"GetAttList": map[string]any{"Fn::GetAtt": []any{"Queue", "Arn"}},
		"If":         map[string]any{"Fn::If": []any{"IsProd", 1, map[string]any{"Ref": "AWS::NoValue"}}},
		"Join":       map[string]any{"Fn::Join": []any{",", []any{"a", map[string]any{"Ref": "B"}}}},
		"Cond":       map[string]any{"Condition": "IsProd"},
		"Unknown":    map[string]any{"Fn::Frobnicate": map[string]any{"x": 1}},
		"Date":       "2026-01-01",
		"Plain":      []any{1, true, nil, "s"},
	}
	props := got.Resources["R"].(map[string]any)["Properties"]
	if diff := cmp.Diff(want, props); diff != "" {
		t.Errorf("properties (-want +got):\n%s", diff)
	}
}

func TestParse_RuleBus(t *testing.T) {
	tests := []struct {
		name, bus, want string
	}{
		{"literal", "EventBusName: vigie-prod", "vigie-prod"},
		{"ref", "EventBusName: !Ref Bus", "Bus"},
		{"getatt", "EventBusName: !GetAtt Bus.Name", "Bus"},
		{"none", "", DefaultBus},
		{"sub", `EventBusName: !Sub "vigie-${Stage}"`, `{"Fn::Sub":"vigie-${Stage}"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			props := "{Pattern: {source: [vigie]}}"
			if tt.bus != "" {
				props = "{" + tt.bus + ", Pattern: {source: [vigie]}}"
			}
			got, err := Parse([]byte(fnWithEvent("EventBridgeRule", props)))
			if err != nil {
				t.Fatal(err)
			}
			r := got.Rules()[0]
			if r.Bus != tt.want {
				t.Errorf("Bus = %q, want %q", r.Bus, tt.want)
			}
			// No RetryPolicy: EventBridge's defaults.
			if r.RetryAttempts != DefaultRetryAttempts || r.MaxEventAge != DefaultMaxEventAge || r.HasRetry || r.HasDLQ {
				t.Errorf("rule = %+v, want EventBridge's defaults and no DLQ", r)
			}
		})
	}
}

// fnWithEvent is a template with one function F with one event E.
func fnWithEvent(typ, props string) string {
	return "Resources:\n  F:\n    Type: AWS::Serverless::Function\n    Properties:\n      Events:\n        E:\n          Type: " +
		typ + "\n          Properties: " + props + "\n"
}

func TestParse_Errors(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		{"not yaml", "a: [", "yaml"},
		{"empty", "", "empty template"},
		{"not a mapping", "- a", "not a mapping"},
		{"no pattern", fnWithEvent("EventBridgeRule", "{}"), "F: event E: EventBridgeRule needs a Pattern"},
		{"too many retries", fnWithEvent("EventBridgeRule", "{Pattern: {source: [vigie]}, RetryPolicy: {MaximumRetryAttempts: 186}}"), "MaximumRetryAttempts"},
		{"retries not a number", fnWithEvent("EventBridgeRule", "{Pattern: {source: [vigie]}, RetryPolicy: {MaximumRetryAttempts: !Ref N}}"), "MaximumRetryAttempts"},
		{"event age too short", fnWithEvent("EventBridgeRule", "{Pattern: {source: [vigie]}, RetryPolicy: {MaximumEventAgeInSeconds: 59}}"), "MaximumEventAgeInSeconds"},
		{"event age too long", fnWithEvent("EventBridgeRule", "{Pattern: {source: [vigie]}, RetryPolicy: {MaximumEventAgeInSeconds: 86401}}"), "MaximumEventAgeInSeconds"},
		{"bad schedule", fnWithEvent("Schedule", "{Schedule: rate(5 fortnights)}"), "F: event E: rate(5 fortnights)"},
		{"schedule from a parameter", fnWithEvent("Schedule", "{Schedule: !Ref Every}"), "want rate(...) or cron(...)"},
		{"schedule time zone", fnWithEvent("ScheduleV2", "{ScheduleExpression: rate(1 hour), ScheduleExpressionTimezone: Europe/Paris}"), "only UTC"},
		{"schedule input not JSON", fnWithEvent("Schedule", "{Schedule: rate(1 hour), Input: '{kind'}"), "Input is not JSON"},
		{"route without path", fnWithEvent("HttpApi", "{Method: GET}"), "HttpApi needs"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.src))
			if err == nil {
				t.Fatal("Parse accepted it")
			}
			if !strings.HasPrefix(err.Error(), "samtemplate: parse: ") || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q, want it to start with the operation and contain %q", err, tt.want)
			}
		})
	}
}

func TestLoad_Missing(t *testing.T) {
	if _, err := Load("testdata/no-such-file.yaml"); err == nil || !strings.HasPrefix(err.Error(), "samtemplate: load: ") {
		t.Errorf("Load(missing) = %v", err)
	}
}

// The project's own template parses; what it must contain is checked
// where the functions are wired (internal/app).
func TestLoad_RealTemplate(t *testing.T) {
	const path = "../../template.yaml"
	if _, err := os.Stat(path); err != nil {
		t.Skipf("no project template: %v", err)
	}
	tmpl, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(tmpl.Functions) == 0 {
		t.Error("the template has no functions")
	}
	seen := map[string]bool{}
	for _, r := range tmpl.Routes() {
		key := r.Method + " " + r.Path
		if seen[key] {
			t.Errorf("route %s declared twice", key)
		}
		seen[key] = true
	}
}

func TestParseSchedule(t *testing.T) {
	at := time.Date(2026, 11, 22, 10, 17, 30, 0, time.UTC) // a Sunday
	tests := []struct {
		name, expr string
		after      time.Time
		want       time.Time
	}{
		{"every minute", "rate(1 minute)", at, time.Date(2026, 11, 22, 10, 18, 0, 0, time.UTC)},
		{"on the minute is after", "rate(1 minute)", time.Date(2026, 11, 22, 10, 18, 0, 0, time.UTC), time.Date(2026, 11, 22, 10, 19, 0, 0, time.UTC)},
		{"every 5 minutes", "rate(5 minutes)", at, time.Date(2026, 11, 22, 10, 20, 0, 0, time.UTC)},
		{"every 2 hours", "rate(2 hours)", at, time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)},
		{"every day", "rate(1 day)", at, time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)},
		{"other zone in, UTC out", "rate(1 hour)", at.In(time.FixedZone("CET", 3600)), time.Date(2026, 11, 22, 11, 0, 0, 0, time.UTC)},
		{"weekly by day name", "cron(0 7 ? * MON *)", at, time.Date(2026, 11, 23, 7, 0, 0, 0, time.UTC)},
		{"weekdays range of names", "cron(0 9 ? * MON-FRI *)", time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC), time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)},
		{"day of week by number", "cron(0 9 ? * 1 *)", at, time.Date(2026, 11, 29, 9, 0, 0, 0, time.UTC)},
		{"step from star", "cron(*/15 * * * ? *)", at, time.Date(2026, 11, 22, 10, 30, 0, 0, time.UTC)},
		{"step from a start", "cron(5/20 * * * ? *)", at, time.Date(2026, 11, 22, 10, 25, 0, 0, time.UTC)},
		{"step in a range", "cron(0 8-20/6 * * ? *)", at, time.Date(2026, 11, 22, 14, 0, 0, 0, time.UTC)},
		{"list of month names", "cron(0 9 1 JAN,JUL ? *)", at, time.Date(2027, 1, 1, 9, 0, 0, 0, time.UTC)},
		{"lower-case names", "cron(0 9 1 jan ? *)", at, time.Date(2027, 1, 1, 9, 0, 0, 0, time.UTC)},
		{"hour range today", "cron(30 8-10 ? * SUN *)", at, time.Date(2026, 11, 22, 10, 30, 0, 0, time.UTC)},
		{"leap day", "cron(0 0 29 2 ? *)", at, time.Date(2028, 2, 29, 0, 0, 0, 0, time.UTC)},
		{"far year", "cron(0 0 1 1 ? 2040)", at, time.Date(2040, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"past year never fires", "cron(0 0 1 1 ? 2020)", at, time.Time{}},
		{"impossible date never fires", "cron(0 0 31 2 ? *)", at, time.Time{}},
		{"year list", "cron(0 0 1 1 ? 2026,2028)", at, time.Date(2028, 1, 1, 0, 0, 0, 0, time.UTC)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := ParseSchedule(tt.expr)
			if err != nil {
				t.Fatalf("ParseSchedule(%q): %v", tt.expr, err)
			}
			got := s.Next(tt.after)
			if !got.Equal(tt.want) || (!got.IsZero() && got.Location() != time.UTC) {
				t.Errorf("%s.Next(%v) = %v, want %v (UTC)", tt.expr, tt.after, got, tt.want)
			}
		})
	}
}

func TestParseSchedule_Errors(t *testing.T) {
	tests := []struct {
		name, expr, want string
	}{
		{"empty", "", "want rate(...) or cron(...)"},
		{"words", "every day", "want rate(...) or cron(...)"},
		{"one-time", "at(2026-11-22T10:00:00)", "want rate(...) or cron(...)"},
		{"zero rate", "rate(0 minutes)", "positive"},
		{"negative rate", "rate(-1 minutes)", "positive"},
		{"plural for one", "rate(1 minutes)", "singular"},
		{"singular for many", "rate(5 minute)", "singular"},
		{"unknown unit", "rate(5 weeks)", "unit"},
		{"overflowing rate", "rate(9999999999 days)", "too long"},
		{"five fields", "cron(* * * * *)", "6 fields"},
		{"both days", "cron(0 7 * * MON *)", "exactly one"},
		{"neither day", "cron(0 7 ? * ? *)", "exactly one"},
		{"minute out of range", "cron(61 * * * ? *)", "0-59"},
		{"last day", "cron(0 7 L * ? *)", "L, W and # are not supported"},
		{"weekday nearest", "cron(0 7 15W * ? *)", "L, W and # are not supported"},
		{"nth weekday", "cron(0 7 ? * MON#2 *)", "L, W and # are not supported"},
		{"backwards range", "cron(0 5-2 * * ? *)", "backwards"},
		{"zero step", "cron(*/0 * * * ? *)", "step"},
		{"unknown name", "cron(0 0 1 FOO ? *)", "1-12"},
		{"year too late", "cron(0 0 1 1 ? 2200)", "1970-2199"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseSchedule(tt.expr)
			if err == nil {
				t.Fatalf("ParseSchedule(%q) accepted it", tt.expr)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ParseSchedule(%q) = %q, want it to say %q", tt.expr, err, tt.want)
			}
		})
	}
}
