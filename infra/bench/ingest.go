package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"vigie/internal/app"
	"vigie/internal/bus/eventbridgebus"
	"vigie/internal/config"
	"vigie/internal/secrets"
	"vigie/internal/vigie"
	"vigie/internal/webhook"
)

const (
	master    = "bench-master-secret"
	workspace = "bench"
)

// sample is a delivery body from events/ingest, decoded, so that each
// delivery can carry fresh external ids.
type sample struct {
	file string
	body map[string]any
	n    int // mentions per delivery
}

func loadSample(file string) (*sample, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("%w (run the bench from the module root: make bench)", err)
	}
	var body map[string]any
	if err := json.Unmarshal(data, &body); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	ms, _ := body["mentions"].([]any)
	if len(ms) == 0 {
		return nil, fmt.Errorf("%s: no mentions", file)
	}
	return &sample{file: file, body: body, n: len(ms)}, nil
}

// delivery is the API Gateway v2 event of a signed delivery of the sample
// in which every mention has a new external id (prefix-j), so that it
// takes the whole new-mention path. webhookID is the delivery's id.
func (s *sample) delivery(prefix, webhookID string) []byte {
	for j, m := range s.body["mentions"].([]any) {
		m.(map[string]any)["external_id"] = fmt.Sprintf("%s-%d", prefix, j)
	}
	body, _ := json.Marshal(s.body)
	secret := webhook.Secret(secrets.WebhookSecret(master, workspace, 1))
	headers := map[string]string{"content-type": "application/json"}
	for k, v := range webhook.Headers(secret, webhookID, time.Now(), body) {
		headers[strings.ToLower(k)] = v[0]
	}
	ev := events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: "POST /v1/hooks/{workspace}/generic",
		RawPath: "/v1/hooks/" + workspace + "/generic", Headers: headers, Body: string(body),
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "POST", Path: "/v1/hooks/" + workspace + "/generic"},
		},
	}
	out, _ := json.Marshal(ev)
	return out
}

// countingEventBridge stands in for EventBridge in the latency runs: it
// accepts every entry at once, so that latency is ingest's own and the
// entries are counted by eventbridgebus's OnPut.
type countingEventBridge struct{}

func (countingEventBridge) PutEvents(_ context.Context, in *eventbridge.PutEventsInput, _ ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error) {
	out := &eventbridge.PutEventsOutput{}
	for range in.Entries {
		out.Entries = append(out.Entries, ebtypes.PutEventsResultEntry{EventId: aws.String("id")})
	}
	return out, nil
}

// ingestRig is the ingest function's handler value, wired by app.Build as
// functions/ingest wires it, on one store, with its writes and bus entries
// counted.
type ingestRig struct {
	invoke           func(ctx context.Context, payload []byte) ([]byte, error)
	writes, entries  atomic.Int64
	closeDeps        func() error
	countsStoreWrite bool
	deps             *app.Deps
}

// deliverer makes deliveries whose mentions are all new (fresh ids from
// prefix); webhookID is the delivery's id where the format has one.
type deliverer interface {
	delivery(prefix, webhookID string) []byte
	mentions() int
}

func (s *sample) mentions() int { return s.n }

// newIngestRig builds the handler with VIGIE_STORE=store. Secrets come from
// a file (the SSM read happens once per process, at init, and is measured
// in the cold starts); the bus is eventbridgebus over countingEventBridge.
// extra adds to or overrides the environment of the functions.
func newIngestRig(ctx context.Context, dir, store, dynamoURL, table string, extra map[string]string) (*ingestRig, error) {
	secretsFile := filepath.Join(dir, "secrets-"+store+".json")
	if err := os.WriteFile(secretsFile, []byte(`{"master-secret":"`+master+`","admin-key":"bench-admin","meta-app-secret":"`+metaSecret+`"}`), 0o600); err != nil {
		return nil, err
	}
	env := map[string]string{
		"VIGIE_STORE": store, "VIGIE_BOLT_PATH": filepath.Join(dir, "bench.db"), "VIGIE_TABLE": table,
		"VIGIE_BUS": "eventbridge", "VIGIE_SECRETS": "file", "VIGIE_SECRETS_FILE": secretsFile, "VIGIE_LOG_LEVEL": "error",
		"AWS_REGION": awsRegion, "AWS_ACCESS_KEY_ID": awsKey, "AWS_SECRET_ACCESS_KEY": awsSecret,
		"AWS_ENDPOINT_URL_DYNAMODB": dynamoURL,
	}
	maps.Copy(env, extra)
	getenv := func(k string) string { return env[k] }
	cfg, err := config.Load(getenv)
	if err != nil {
		return nil, err
	}
	r := &ingestRig{countsStoreWrite: store == "dynamodb"}
	bus := eventbridgebus.New(countingEventBridge{}, "bench", eventbridgebus.Options{OnPut: func(n int) { r.entries.Add(int64(n)) }})
	d, err := app.Build(ctx, cfg, app.Options{
		Bus: bus, Getenv: getenv, Logger: slog.New(slog.DiscardHandler),
		OnStoreWrite: func(_ string, items int) { r.writes.Add(int64(items)) },
	})
	if err != nil {
		return nil, err
	}
	r.closeDeps, r.deps = d.Close, d
	err = d.Store.CreateWorkspace(ctx, &vigie.Workspace{ID: workspace, Name: "Bench", CreatedAt: time.Now(), SecretGeneration: 1})
	if err != nil && !vigie.IsKind(err, vigie.KindConflict) {
		_ = d.Close()
		return nil, err
	}
	h, err := app.Handler("ingest", d)
	if err != nil {
		_ = d.Close()
		return nil, err
	}
	r.invoke = lambda.NewHandler(h).Invoke // Lambda's own JSON path
	return r, nil
}

func (r *ingestRig) Close() error { return r.closeDeps() }

// ingestStats is one series of deliveries, then their redeliveries.
type ingestStats struct {
	newLat, reLat                              []time.Duration
	mentions                                   int // new mentions sent (each redelivered once)
	writesNew, writesRe, entriesNew, entriesRe int64
}

// run sends warmup unmeasured deliveries, then n signed deliveries of s with
// fresh external ids, timed one by one, then the same n again byte for byte
// (a sender's retry: same webhook-id, same body).
func (r *ingestRig) run(ctx context.Context, s deliverer, name string, warmup, n int) (ingestStats, error) {
	send := func(p []byte) (time.Duration, error) {
		start := time.Now()
		out, err := r.invoke(ctx, p)
		el := time.Since(start)
		if err != nil {
			return 0, err
		}
		if !strings.Contains(string(out), `"statusCode":200`) {
			return 0, fmt.Errorf("ingest answered %.300s", out)
		}
		return el, nil
	}
	stamp := time.Now().UnixNano()
	for i := range warmup {
		if _, err := send(s.delivery(fmt.Sprintf("warm-%s-%d-%d", name, stamp, i), fmt.Sprintf("msg_warm_%s_%d_%d", name, stamp, i))); err != nil {
			return ingestStats{}, err
		}
	}
	payloads := make([][]byte, n)
	for i := range payloads {
		payloads[i] = s.delivery(fmt.Sprintf("%s-%d-%d", name, stamp, i), fmt.Sprintf("msg_%s_%d_%d", name, stamp, i))
	}
	st := ingestStats{mentions: n * s.mentions()}
	w0, e0 := r.writes.Load(), r.entries.Load()
	for _, p := range payloads {
		el, err := send(p)
		if err != nil {
			return st, err
		}
		st.newLat = append(st.newLat, el)
	}
	w1, e1 := r.writes.Load(), r.entries.Load()
	for _, p := range payloads {
		el, err := send(p)
		if err != nil {
			return st, fmt.Errorf("redelivery: %w", err)
		}
		st.reLat = append(st.reLat, el)
	}
	w2, e2 := r.writes.Load(), r.entries.Load()
	st.writesNew, st.writesRe, st.entriesNew, st.entriesRe = w1-w0, w2-w1, e1-e0, e2-e1
	return st, nil
}

// quantile returns the q-quantile of ds (nearest rank).
func quantile(ds []time.Duration, q float64) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := int(q*float64(len(s))+0.5) - 1
	return s[min(max(i, 0), len(s)-1)]
}

func median(ds []time.Duration) time.Duration { return quantile(ds, 0.5) }

func dur(d time.Duration) string {
	switch {
	case d >= 100*time.Millisecond:
		return d.Round(time.Millisecond).String()
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond).String()
	default:
		return d.Round(time.Microsecond).String()
	}
}

func perMention(n int64, mentions int) string {
	return fmt.Sprintf("%.2f", float64(n)/float64(mentions))
}
