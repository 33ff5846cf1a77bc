package localrun

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"vigie/internal/config"
	"vigie/internal/secrets"
	"vigie/internal/vigie"
	"vigie/internal/webhook"
)

func testConfig(t *testing.T, dir, template string) config.Config {
	t.Helper()
	cfg, err := config.Load(func(k string) string {
		return map[string]string{
			"VIGIE_ADDR": "127.0.0.1:0", "VIGIE_BOLT_PATH": filepath.Join(dir, "vigie.db"),
			"VIGIE_SECRETS_FILE": filepath.Join(dir, "secrets.json"), "VIGIE_TEMPLATE": template, "VIGIE_LOG_LEVEL": "error",
		}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func call(t *testing.T, method, url, key string, body []byte, h http.Header) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, url, bytes.NewReader(body))
	for k, v := range h {
		req.Header[k] = v
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

// TestRunner_EndToEnd starts the runner on the real template, plays the
// ingest samples through HTTP as a platform would, reads them back through
// the API, restarts, and finds them still there.
func TestRunner_EndToEnd(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(t, dir, "../../template.yaml")
	var banner bytes.Buffer
	r, err := Start(context.Background(), cfg, Options{Out: &banner})
	if err != nil {
		t.Fatal(err)
	}
	file := secrets.File{Path: cfg.SecretsFile}
	key, err := file.Get(context.Background(), demoKeySecret)
	if err != nil || !strings.Contains(banner.String(), key.Reveal()) || !strings.Contains(banner.String(), "whsec_") {
		t.Fatalf("banner does not show the demo key and secret: %q, %v", banner.String(), err)
	}
	master, _ := file.Get(context.Background(), secrets.MasterSecret)
	secret := webhook.Secret(secrets.WebhookSecret(master, DemoWorkspace, 1))

	for _, name := range []string{"generic-batch.json", "generic-single.json"} {
		body, err := os.ReadFile("../../events/ingest/" + name)
		if err != nil {
			t.Fatal(err)
		}
		h := webhook.Headers(secret, "msg_"+name[:6], time.Now(), body)
		if code, out := call(t, "POST", r.URL()+"/v1/hooks/demo/generic", "", body, h); code != 200 {
			t.Fatalf("ingest %s: %d %s", name, code, out)
		}
	}
	code, out := call(t, "GET", r.URL()+"/v1/mentions?limit=2", key.Reveal(), nil, nil)
	var page struct {
		Mentions []vigie.Mention
		Next     string `json:"next_cursor"`
	}
	if code != 200 || json.Unmarshal(out, &page) != nil || len(page.Mentions) != 2 || page.Next == "" {
		t.Fatalf("list: %d %s", code, out)
	}
	code, out = call(t, "GET", r.URL()+"/v1/mentions?limit=10&cursor="+page.Next, key.Reveal(), nil, nil)
	if code != 200 || json.Unmarshal(out, &page) != nil || len(page.Mentions) != 3 {
		t.Fatalf("second page: %d %s", code, out)
	}
	if code, out := call(t, "GET", r.URL()+"/v1/nowhere", "", nil, nil); code != 404 {
		t.Errorf("unknown route: %d %s", code, out)
	}
	if code, out := call(t, "GET", r.URL()+"/local/dead-letters", "", nil, nil); code != 200 || string(out) != "{\"dead_letters\":[]}\n" {
		t.Errorf("dead letters: %d %s", code, out)
	}
	if code, _ := call(t, "POST", r.URL()+"/local/dead-letters/nope/replay", "", nil, nil); code != 404 {
		t.Errorf("replay of an unknown dead letter: %d, want 404", code)
	}
	if code, _ := call(t, "POST", r.URL()+"/v1/hooks/demo/generic", "", []byte(`{}`), nil); code != 401 {
		t.Errorf("unsigned ingest: %d, want 401", code)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}

	r, err = Start(context.Background(), cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	code, out = call(t, "GET", r.URL()+"/v1/mentions", key.Reveal(), nil, nil)
	if code != 200 || json.Unmarshal(out, &page) != nil || len(page.Mentions) != 5 {
		t.Errorf("after restart: %d %s", code, out)
	}
}

// eventFn is a test function for the fixture template's rules.
type eventFn struct {
	mu    sync.Mutex
	got   []string
	block chan struct{} // when set, deliveries wait for it
	seen  chan struct{}
}

func (f *eventFn) handler(ctx context.Context, ev events.EventBridgeEvent) error {
	if f.block != nil {
		select {
		case <-f.block:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	f.mu.Lock()
	f.got = append(f.got, ev.ID)
	f.mu.Unlock()
	f.seen <- struct{}{}
	return nil
}

func fixtureHandlers(f *eventFn) map[string]any {
	h := map[string]any{}
	for _, fn := range []string{"AlertFunction", "ModerateFunction", "PublishFunction", "ReportFunction"} {
		h[fn] = f.handler
	}
	return h
}

// An event accepted before a stop is delivered at the next start, and a
// schedule of the template fires its function.
func TestRunner_FixtureEventsAndSchedules(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(t, dir, "../samtemplate/testdata/fixture.yaml")
	f := &eventFn{block: make(chan struct{}), seen: make(chan struct{}, 10)}
	never := func(time.Duration) <-chan time.Time { return nil }
	r, err := Start(context.Background(), cfg, Options{Handlers: fixtureHandlers(f), After: never, NoDemo: true, ShutdownGrace: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	// An ANY route with a greedy {path+} reaches its function for every
	// method (the api answers its own JSON 404, not the runner's).
	for _, method := range []string{"GET", "POST", "DELETE"} {
		code, out := call(t, method, r.URL()+"/v1/proxy/a/b", "", nil, nil)
		if code != 404 || !strings.Contains(string(out), `"code":"not_found"`) {
			t.Errorf("%s /v1/proxy/a/b: %d %s; want the api's 404", method, code, out)
		}
	}
	ev := vigie.Event{ID: "e1", Type: "mention.received", Workspace: "globex", Time: time.Now(),
		Detail: json.RawMessage(`{"workspace":"globex","sentiment":"negative"}`)}
	if err := r.Bus().Publish(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil { // the delivery is blocked: cut short, kept
		t.Fatal(err)
	}
	if len(f.got) != 0 {
		t.Fatalf("delivered before restart: %v", f.got)
	}

	// Restart with a clock whose timer fires at once: the delivery goes
	// through and the every-minute schedule of PublishFunction fires.
	f.block = nil
	fire := make(chan time.Time, 1)
	fire <- time.Now()
	r, err = Start(context.Background(), cfg, Options{Handlers: fixtureHandlers(f), NoDemo: true,
		After: func(time.Duration) <-chan time.Time { return fire }})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		select {
		case <-f.seen:
		case <-time.After(10 * time.Second):
			t.Fatalf("got only %v", f.got)
		}
	}
	_ = r.Close()
	f.mu.Lock()
	defer f.mu.Unlock()
	// Both schedules wait on the one firing: the weekly report (constant
	// input, no id) or the every-minute publish (a Scheduled Event) takes it.
	var sched []string
	for _, id := range f.got {
		if id != "e1" {
			sched = append(sched, id)
		}
	}
	if len(f.got) != 2 || len(sched) != 1 || (sched[0] != "" && !strings.HasPrefix(sched[0], "PublishFunction-EveryMinute-")) {
		t.Errorf("invocations = %q, want e1 and one schedule firing", f.got)
	}
}
