package api

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/google/go-cmp/cmp"

	"vigie/internal/handler"
	"vigie/internal/samtemplate"
)

// sampleDir holds the API Gateway requests for the api function: SAM's
// shape, with ADMIN_KEY, API_KEY and KEY_ID standing for real values.
var sampleDir = filepath.Join("..", "..", "events", "api")

// TestSamples plays every sample in events/api through Lambda's own JSON
// decoding and handler.HTTP, as the deployed function gets them.
func TestSamples(t *testing.T) {
	want := map[string]int{
		"health.json": 200, "create-workspace.json": 201, "get-workspace.json": 200, "rotate-webhook-secret.json": 200,
		"list-keys.json": 200, "create-key.json": 201, "revoke-key.json": 204, "list-mentions.json": 200,
		"list-channels.json": 200, "create-channel.json": 201, "get-channel.json": 200, "update-channel.json": 200,
		"delete-channel.json": 204, "list-watches.json": 200, "create-watch.json": 201, "get-watch.json": 200,
		"update-watch.json": 200, "delete-watch.json": 204, "list-sources.json": 200,
	}
	files, err := filepath.Glob(filepath.Join(sampleDir, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no samples in %s: %v", sampleDir, err)
	}
	e := setup(t, nil)
	h := lambda.NewHandler(handler.HTTP(NewServer(Deps{Store: e.store, Secrets: e.secrets})))
	for _, f := range files {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			status, ok := want[name]
			if !ok {
				t.Fatalf("no expectation for sample %s: add it here", name)
			}
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var ev events.APIGatewayV2HTTPRequest
			if err := json.Unmarshal(raw, &ev); err != nil {
				t.Fatal(err)
			}
			if ev.Version != "2.0" || ev.RouteKey != ev.RequestContext.HTTP.Method+" "+routePath(ev) || ev.RequestContext.RequestID == "" {
				t.Errorf("not an API Gateway v2 request for its route: version %q, routeKey %q", ev.Version, ev.RouteKey)
			}
			// A fresh key to revoke, so that acme keeps its own.
			var spare createdKey
			e.do(t, "POST", "/v1/keys", e.keys["acme"], `{"name":"spare"}`, 201, &spare)
			// And a fresh channel and watch to read, change and remove (the
			// sample's own account would conflict with the one connected).
			var ch channelView
			e.do(t, "POST", "/v1/channels", e.keys["acme"], fmt.Sprintf(`{"platform":"x","account_id":"%d","name":"spare"}`, time.Now().UnixNano()), 201, &ch)
			var wa watchView
			e.do(t, "POST", "/v1/watches", e.keys["acme"], `{"name":"spare","kind":"topic","query":"spare"}`, 201, &wa)
			payload := strings.NewReplacer("ADMIN_KEY", e.admin, "API_KEY", e.keys["acme"], "KEY_ID", spare.ID,
				"CHANNEL_ID", ch.ID, "WATCH_ID", wa.ID).Replace(string(raw))
			out, err := h.Invoke(context.Background(), []byte(payload))
			if err != nil {
				t.Fatalf("Invoke: %v", err)
			}
			var resp events.APIGatewayV2HTTPResponse
			if err := json.Unmarshal(out, &resp); err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != status {
				t.Errorf("status %d, want %d; body %s", resp.StatusCode, status, resp.Body)
			}
		})
	}
}

// routePath is the route of ev with its path parameters put back in braces.
func routePath(ev events.APIGatewayV2HTTPRequest) string {
	p := ev.RawPath
	for name, v := range ev.PathParameters {
		p = strings.Replace(p, "/"+v, "/{"+name+"}", 1)
	}
	return p
}

// routeKeys lists the API's routes as API Gateway names them.
func routeKeys() []string {
	var keys []string
	for _, rt := range (&server{}).table() {
		keys = append(keys, rt.method+" "+rt.path)
	}
	sort.Strings(keys)
	return keys
}

// TestRoutes_TemplateAndSamples: template.yaml routes exactly the API's
// routes to the api function, and events/api has a sample of each.
func TestRoutes_TemplateAndSamples(t *testing.T) {
	tmpl, err := samtemplate.Load(filepath.Join("..", "..", "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var inTemplate []string
	for _, f := range tmpl.Functions {
		if f.Name() != "api" {
			continue
		}
		for _, r := range f.Routes {
			inTemplate = append(inTemplate, r.Method+" "+r.Path)
		}
	}
	sort.Strings(inTemplate)
	if diff := cmp.Diff(routeKeys(), inTemplate); diff != "" {
		t.Errorf("api routes in template.yaml (-api +template):\n%s", diff)
	}

	files, _ := filepath.Glob(filepath.Join(sampleDir, "*.json"))
	sampled := map[string]bool{}
	for _, f := range files {
		var ev events.APIGatewayV2HTTPRequest
		raw, err := os.ReadFile(f)
		if err == nil {
			err = json.Unmarshal(raw, &ev)
		}
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		sampled[ev.RouteKey] = true
	}
	for _, k := range routeKeys() {
		if !sampled[k] {
			t.Errorf("no sample in events/api for %s", k)
		}
	}
}
