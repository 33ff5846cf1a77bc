package samtemplate

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestLoad_Fixture(t *testing.T) {
	tmpl, err := Load("testdata/fixture.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range tmpl.Functions {
		names = append(names, f.Name())
	}
	if diff := cmp.Diff([]string{"alert", "moderate", "publish", "report"}, names); diff != "" {
		t.Errorf("functions (-want +got):\n%s", diff)
	}
	rules := tmpl.Rules()
	if len(rules) != 6 {
		t.Fatalf("got %d rules, want 6", len(rules))
	}
	spam := rules[2]
	if spam.Name != "ModerateFunction.Spam" || spam.Function != "ModerateFunction" || spam.RetryAttempts != 3 ||
		spam.MaxEventAge != time.Hour || !spam.HasRetry || !spam.HasDLQ {
		t.Errorf("spam rule = %+v", spam)
	}
	var pat map[string]any
	if err := json.Unmarshal(spam.Pattern, &pat); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"detail-type": []any{"mention.received"},
		"detail": map[string]any{"spam": []any{"true"}, "platform": []any{map[string]any{"anything-but": []any{"sandbox"}}}}}
	if diff := cmp.Diff(want, pat); diff != "" {
		t.Errorf("pattern (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]any{"Ref": "Bus"}, spam.Bus); diff != "" {
		t.Errorf("bus (-want +got):\n%s", diff)
	}
	report := tmpl.Functions[3]
	if len(report.Schedules) != 1 || report.Schedules[0].Expression != "cron(0 7 ? * MON *)" ||
		string(report.Schedules[0].Input) != `{"kind":"weekly"}` || report.Environment["REPORT_FORMAT"] != "html" {
		t.Errorf("report function = %+v", report)
	}
}

func TestLoad_RealTemplate(t *testing.T) {
	tmpl, err := Load("../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var routes []string
	for _, f := range tmpl.Functions {
		if f.BuildMethod != "makefile" {
			t.Errorf("%s: BuildMethod %q, want makefile", f.LogicalID, f.BuildMethod)
		}
		for _, r := range f.Routes {
			routes = append(routes, r.Method+" "+r.Path)
		}
	}
	for _, want := range []string{"GET /v1/health", "POST /v1/hooks/{workspace}/generic", "DELETE /v1/keys/{id}"} {
		if !slices.Contains(routes, want) {
			t.Errorf("routes = %v, lack %s", routes, want)
		}
	}
}

func TestParse_Errors(t *testing.T) {
	for name, src := range map[string]string{
		"not yaml":           "a: [",
		"no pattern":         "Resources:\n  F:\n    Type: AWS::Serverless::Function\n    Properties:\n      Events:\n        E:\n          Type: EventBridgeRule\n          Properties: {}\n",
		"bad schedule":       "Resources:\n  F:\n    Type: AWS::Serverless::Function\n    Properties:\n      Events:\n        E:\n          Type: Schedule\n          Properties: {Schedule: rate(5 fortnights)}\n",
		"route without path": "Resources:\n  F:\n    Type: AWS::Serverless::Function\n    Properties:\n      Events:\n        E:\n          Type: HttpApi\n          Properties: {Method: GET}\n",
	} {
		if _, err := Parse([]byte(src)); err == nil {
			t.Errorf("%s: Parse accepted it", name)
		}
	}
}

func TestParseSchedule(t *testing.T) {
	at := time.Date(2026, 11, 22, 10, 17, 30, 0, time.UTC) // a Sunday
	tests := []struct {
		expr string
		want time.Time
	}{
		{"rate(1 minute)", time.Date(2026, 11, 22, 10, 18, 0, 0, time.UTC)},
		{"rate(5 minutes)", time.Date(2026, 11, 22, 10, 20, 0, 0, time.UTC)},
		{"rate(2 hours)", time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)},
		{"rate(1 day)", time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)},
		{"cron(0 7 ? * MON *)", time.Date(2026, 11, 23, 7, 0, 0, 0, time.UTC)},
		{"cron(*/15 * * * ? *)", time.Date(2026, 11, 22, 10, 30, 0, 0, time.UTC)},
		{"cron(0 9 1 JAN,JUL ? *)", time.Date(2027, 1, 1, 9, 0, 0, 0, time.UTC)},
		{"cron(30 8-10 ? * SUN *)", time.Date(2026, 11, 22, 10, 30, 0, 0, time.UTC)},
		{"cron(0 0 29 2 ? *)", time.Date(2028, 2, 29, 0, 0, 0, 0, time.UTC)},
		{"cron(0 0 1 1 ? 2020)", time.Time{}},
	}
	for _, tt := range tests {
		s, err := ParseSchedule(tt.expr)
		if err != nil {
			t.Errorf("ParseSchedule(%q): %v", tt.expr, err)
			continue
		}
		if got := s.Next(at); !got.Equal(tt.want) {
			t.Errorf("%s.Next(%v) = %v, want %v", tt.expr, at, got, tt.want)
		}
	}
	for _, bad := range []string{"", "rate(0 minutes)", "rate(1 minutes)", "rate(5 minute)", "rate(5 weeks)", "cron(* * * * *)",
		"cron(0 7 * * MON *)", "cron(0 7 ? * ? *)", "cron(61 * * * ? *)", "cron(0 7 L * ? *)", "cron(0 5-2 * * ? *)", "every day"} {
		if _, err := ParseSchedule(bad); err == nil {
			t.Errorf("ParseSchedule(%q) accepted it", bad)
		}
	}
}
