package app_test

import (
	"os"
	"regexp"
	"slices"
	"sort"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/google/go-cmp/cmp"

	"vigie/internal/app"
	"vigie/internal/bus/localbus"
	"vigie/internal/samtemplate"
	"vigie/internal/store/dynamostore"
)

const root = "../../"

// functions/, template.yaml, the Makefile's sam build targets and app's
// handlers name the same functions.
func TestFunctionsMatchTemplate(t *testing.T) {
	tmpl, err := samtemplate.Load(root + "template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(root + "functions")
	if err != nil {
		t.Fatal(err)
	}
	var dirs, inTemplate []string
	for _, e := range entries {
		if e.IsDir() {
			dirs = append(dirs, e.Name())
		}
	}
	makefile, err := os.ReadFile(root + "Makefile")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range tmpl.Functions {
		inTemplate = append(inTemplate, f.Name())
		if !regexp.MustCompile(`(?m)^build-` + f.LogicalID + `:`).Match(makefile) {
			t.Errorf("Makefile has no build-%s target for sam build", f.LogicalID)
		}
		if f.BuildMethod != "makefile" {
			t.Errorf("%s: BuildMethod %q, want makefile", f.LogicalID, f.BuildMethod)
		}
	}
	sort.Strings(inTemplate)
	if diff := cmp.Diff(dirs, inTemplate); diff != "" {
		t.Errorf("functions/ vs template.yaml (-dirs +template):\n%s", diff)
	}
	if diff := cmp.Diff(dirs, app.Functions()); diff != "" {
		t.Errorf("functions/ vs app handlers (-dirs +app):\n%s", diff)
	}
}

// Every rule target has a retry policy and a dead-letter queue, and every
// pattern loads in the local bus — on the real template and on the fixture
// that has the rule shapes later functions will add.
func TestRules(t *testing.T) {
	for _, path := range []string{root + "template.yaml", root + "internal/samtemplate/testdata/fixture.yaml"} {
		tmpl, err := samtemplate.Load(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range tmpl.Rules() {
			if !r.HasRetry || !r.HasDLQ {
				t.Errorf("%s: rule %s lacks a RetryPolicy or a DeadLetterConfig", path, r.Name)
			}
		}
		if _, err := localbus.NewMatcher(tmpl.Rules()); err != nil {
			t.Errorf("%s: %v", path, err)
		}
	}
}

// The template's table is the one dynamostore is written for.
func TestTableMatchesStore(t *testing.T) {
	tmpl, err := samtemplate.Load(root + "template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	table, _ := tmpl.Resources["Table"].(map[string]any)
	props, _ := table["Properties"].(map[string]any)
	want := dynamostore.TableDefinition("x")

	type attr struct{ Name, Type string }
	var gotAttrs, wantAttrs []attr
	for _, a := range props["AttributeDefinitions"].([]any) {
		m := a.(map[string]any)
		gotAttrs = append(gotAttrs, attr{m["AttributeName"].(string), m["AttributeType"].(string)})
	}
	for _, a := range want.AttributeDefinitions {
		wantAttrs = append(wantAttrs, attr{aws.ToString(a.AttributeName), string(a.AttributeType)})
	}
	less := func(a, b attr) int {
		if a.Name < b.Name {
			return -1
		}
		if a.Name > b.Name {
			return 1
		}
		return 0
	}
	slices.SortFunc(gotAttrs, less)
	slices.SortFunc(wantAttrs, less)
	if diff := cmp.Diff(wantAttrs, gotAttrs); diff != "" {
		t.Errorf("attribute definitions (-store +template):\n%s", diff)
	}
	keys := func(list []any) []attr {
		var out []attr
		for _, k := range list {
			m := k.(map[string]any)
			out = append(out, attr{m["AttributeName"].(string), m["KeyType"].(string)})
		}
		return out
	}
	var wantKeys []attr
	for _, k := range want.KeySchema {
		wantKeys = append(wantKeys, attr{aws.ToString(k.AttributeName), string(k.KeyType)})
	}
	if diff := cmp.Diff(wantKeys, keys(props["KeySchema"].([]any))); diff != "" {
		t.Errorf("key schema (-store +template):\n%s", diff)
	}
	gsis := props["GlobalSecondaryIndexes"].([]any)
	if len(gsis) != len(want.GlobalSecondaryIndexes) {
		t.Fatalf("template has %d GSIs, store %d", len(gsis), len(want.GlobalSecondaryIndexes))
	}
	for i, g := range want.GlobalSecondaryIndexes {
		m := gsis[i].(map[string]any)
		var wk []attr
		for _, k := range g.KeySchema {
			wk = append(wk, attr{aws.ToString(k.AttributeName), string(k.KeyType)})
		}
		if m["IndexName"] != aws.ToString(g.IndexName) {
			t.Errorf("GSI %d named %v, want %s", i, m["IndexName"], aws.ToString(g.IndexName))
		}
		if diff := cmp.Diff(wk, keys(m["KeySchema"].([]any))); diff != "" {
			t.Errorf("GSI %s keys (-store +template):\n%s", aws.ToString(g.IndexName), diff)
		}
	}
	ttl, _ := props["TimeToLiveSpecification"].(map[string]any)
	if ttl["AttributeName"] != dynamostore.TTLAttribute || ttl["Enabled"] != true {
		t.Errorf("TTL = %v, want %s enabled", ttl, dynamostore.TTLAttribute)
	}
	if props["BillingMode"] != "PAY_PER_REQUEST" {
		t.Errorf("BillingMode = %v", props["BillingMode"])
	}
	if pitr, _ := props["PointInTimeRecoverySpecification"].(map[string]any); pitr["PointInTimeRecoveryEnabled"] != true {
		t.Errorf("point-in-time recovery is off")
	}
}
