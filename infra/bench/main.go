// Command bench measures Vigie's foundation in one run and prints a table
// (`make bench`): ingest latency per delivery on bbolt and on dynoxide, store
// writes and bus entries per mention, each bootstrap's size, and the cold
// start of the ingest bootstrap against a hello-world aws-lambda-go bootstrap
// built in the same run. It reports; it never fails on a missed target.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"vigie/internal/app"
	"vigie/internal/bus/eventbridgebus"
	"vigie/internal/config"
	"vigie/internal/runtimeapi"
	"vigie/internal/secrets"
	"vigie/internal/store/boltstore"
	"vigie/internal/store/dynamostore"
	"vigie/internal/testsrv"
	"vigie/internal/vigie"
	"vigie/internal/webhook"
)

const (
	deliveries = 300 // per store, for latency
	coldRuns   = 15  // per bootstrap
	master     = "bench-master-secret"
	ws         = "bench"
)

func progress(format string, args ...any) { fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...) }

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

type row struct{ name, value, target, ok string }

func run() error {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "vigie-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	var rows []row

	// Bootstrap sizes, built exactly as `make build` does.
	fns, _ := filepath.Glob("functions/*")
	for _, fn := range fns {
		name := filepath.Base(fn)
		progress("building %s for linux/arm64…", name)
		bin := filepath.Join(dir, "arm64", name, "bootstrap")
		if err := build("./"+fn, bin, "linux", "arm64"); err != nil {
			return err
		}
		st, _ := os.Stat(bin)
		mb := float64(st.Size()) / 1e6
		rows = append(rows, row{"bootstrap size: " + name, fmt.Sprintf("%.1f MB", mb), "< 15 MB", check(mb < 15)})
	}

	progress("analysis: throughput on the validation tweets, weights load, binary size…")
	arows, err := analysisRows(dir)
	if err != nil {
		return err
	}
	rows = append(rows, arows...)

	progress("starting dynoxide and moto on 127.0.0.1…")
	dynamoURL, stopDyn, err := startServer(os.Getenv("VIGIE_DYNOXIDE"), func(p int) []string {
		return []string{"serve", "--host", "127.0.0.1", "--port", fmt.Sprint(p)}
	})
	if err != nil {
		return fmt.Errorf("dynoxide (set VIGIE_DYNOXIDE, or use make bench): %w", err)
	}
	defer stopDyn()
	motoURL, stopMoto, err := startServer("moto_server", func(p int) []string { return []string{"-H", "127.0.0.1", "-p", fmt.Sprint(p)} })
	if err != nil {
		return fmt.Errorf("moto_server: %w", err)
	}
	defer stopMoto()

	// In-process ingest, the handler value Lambda runs, on each store.
	boltStore, err := boltstore.Open(filepath.Join(dir, "bench.db"), boltstore.Options{CursorKey: []byte("k")})
	if err != nil {
		return err
	}
	defer boltStore.Close()
	var writes atomic.Int64
	ddb := dynamodb.NewFromConfig(testsrv.AWSConfig(dynamoURL))
	if err := dynamostore.CreateTable(ctx, ddb, "vigie-bench"); err != nil {
		return err
	}
	dynStore, err := dynamostore.New(ddb, "vigie-bench", dynamostore.Options{CursorKey: []byte("k"),
		OnWrite: func(_ string, items int) { writes.Add(int64(items)) }})
	if err != nil {
		return err
	}
	for _, s := range []struct {
		name  string
		store vigie.Store
	}{{"bbolt", boltStore}, {"dynoxide", dynStore}} {
		progress("%d signed deliveries through the ingest handler on %s…", deliveries, s.name)
		r, err := ingestRun(ctx, s.store, &writes)
		if err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		rows = append(rows, row{"ingest latency p50 / p99 (" + s.name + ")", fmt.Sprintf("%s / %s", r.p50, r.p99), "", ""})
		if s.name == "dynoxide" {
			rows = append(rows,
				row{"DynamoDB writes per new mention", fmt.Sprintf("%.2f", r.writesNew), "≤ 1", check(r.writesNew <= 1)},
				row{"DynamoDB writes per redelivered mention", fmt.Sprintf("%.2f", r.writesRe), "0", check(r.writesRe == 0)})
		}
		rows = append(rows,
			row{"EventBridge entries per new mention (" + s.name + ")", fmt.Sprintf("%.2f", r.entriesNew), "≤ 1", check(r.entriesNew <= 1)},
			row{"EventBridge entries per redelivery (" + s.name + ")", fmt.Sprintf("%.2f", r.entriesRe), "0", check(r.entriesRe == 0)})
	}

	// Cold starts: host builds of the ingest bootstrap and of hello-world.
	progress("building host bootstraps for cold starts…")
	ingestBin, helloBin := filepath.Join(dir, "host", "ingest"), filepath.Join(dir, "host", "hello")
	if err := build("./functions/ingest", ingestBin, "", ""); err != nil {
		return err
	}
	if err := build("./internal/runtimeapi/testdata/hello", helloBin, "", ""); err != nil {
		return err
	}
	env, payloads, err := seedCloud(ctx, dynamoURL, motoURL)
	if err != nil {
		return err
	}
	// The same bootstrap reading its secrets from a file: what its cold
	// start costs without the SSM round trip.
	secretsFile := filepath.Join(dir, "secrets.json")
	if err := os.WriteFile(secretsFile, []byte(`{"master-secret":"`+master+`"}`), 0o600); err != nil {
		return err
	}
	fileEnv := append(append([]string(nil), env...), "VIGIE_SECRETS=file", "VIGIE_SECRETS_FILE="+secretsFile)
	progress("%d cold starts of each bootstrap…", coldRuns)
	var helloInit, helloFirst, ingInit, ingFirst, fileInit []time.Duration
	for i := range coldRuns {
		fi, _, err := coldStart(ingestBin, fileEnv, payloads[coldRuns+i], `"statusCode":200`)
		if err != nil {
			return fmt.Errorf("ingest (file secrets): %w", err)
		}
		fileInit = append(fileInit, fi)
		hi, hf, err := coldStart(helloBin, nil, []byte(`{"name":"bench"}`), `"hello bench"`)
		if err != nil {
			return fmt.Errorf("hello: %w", err)
		}
		ii, inf, err := coldStart(ingestBin, env, payloads[i], `"statusCode":200`)
		if err != nil {
			return fmt.Errorf("ingest: %w", err)
		}
		helloInit, helloFirst = append(helloInit, hi), append(helloFirst, hf)
		ingInit, ingFirst = append(ingInit, ii), append(ingFirst, inf)
	}
	hI, hF, iI, iF, fI := median(helloInit), median(helloFirst), median(ingInit), median(ingFirst), median(fileInit)
	ratioFirst, ratioInit, ratioFile := float64(iF)/float64(hF), float64(iI)/float64(hI), float64(fI)/float64(hI)
	ms := func(d time.Duration) string { return d.Round(10 * time.Microsecond).String() }
	rows = append(rows,
		row{"init (process start → ready): hello-world", ms(hI), "", ""},
		row{"init: ingest, secrets from SSM (moto)", ms(iI), "", ""},
		row{"  ratio ingest / hello-world", fmt.Sprintf("%.2f×", ratioInit), "≤ 1.3×", check(ratioInit <= 1.3)},
		row{"init: ingest, secrets from a file (no network)", ms(fI), "", ""},
		row{"  ratio ingest / hello-world", fmt.Sprintf("%.2f×", ratioFile), "≤ 1.3×", check(ratioFile <= 1.3)},
		row{"start → first answer: hello / ingest (signed delivery)", ms(hF) + " / " + ms(iF), "", ""},
		row{"  ratio ingest / hello-world", fmt.Sprintf("%.2f×", ratioFirst), "≤ 1.3×", check(ratioFirst <= 1.3)},
	)

	fmt.Printf("\nVigie foundation benchmarks (%d deliveries per store, %d cold starts each, medians)\n", deliveries, coldRuns)
	fmt.Println("EventBridge in the latency runs: an in-process stub counting entries; in the cold starts: moto.")
	fmt.Println("Cold-start ingest answers a real signed delivery: SSM (moto), GetItem+BatchGet+PutItem (dynoxide), PutEvents (moto).")
	w := 0
	for _, r := range rows {
		w = max(w, len([]rune(r.name)))
	}
	fmt.Printf("%-*s  %-22s %-8s %s\n", w, "measure", "value", "target", "")
	fmt.Println(strings.Repeat("-", w+40))
	for _, r := range rows {
		fmt.Printf("%-*s  %-22s %-8s %s\n", w, r.name, r.value, r.target, r.ok)
	}
	return nil
}

func check(ok bool) string {
	if ok {
		return "✓"
	}
	return "✗"
}

func build(pkg, out, goos, goarch string) error {
	cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-trimpath", "-ldflags=-s -w -buildid=", "-o", out, pkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if goos != "" {
		cmd.Env = append(cmd.Env, "GOOS="+goos, "GOARCH="+goarch)
	}
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("build %s: %v\n%s", pkg, err, b)
	}
	return nil
}

func startServer(bin string, args func(port int) []string) (string, func(), error) {
	if bin == "" {
		return "", nil, fmt.Errorf("no binary")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cmd := exec.Command(bin, args(port)...)
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	stop := func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	for deadline := time.Now().Add(60 * time.Second); ; {
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			return url, stop, nil
		}
		if time.Now().After(deadline) {
			stop()
			return "", nil, fmt.Errorf("%s did not answer on %s", bin, url)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

type stubEventBridge struct{}

func (stubEventBridge) PutEvents(_ context.Context, in *eventbridge.PutEventsInput, _ ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error) {
	out := &eventbridge.PutEventsOutput{}
	for range in.Entries {
		out.Entries = append(out.Entries, ebtypes.PutEventsResultEntry{EventId: aws.String("id")})
	}
	return out, nil
}

type staticSecrets map[string]secrets.Value

func (s staticSecrets) Get(_ context.Context, n string) (secrets.Value, error) { return s[n], nil }

type ingestResult struct {
	p50, p99                                   time.Duration
	writesNew, writesRe, entriesNew, entriesRe float64
}

// ingestRun sends signed single-mention deliveries through the ingest
// handler (Lambda's own JSON decoding included), then redelivers them all.
func ingestRun(ctx context.Context, st vigie.Store, writes *atomic.Int64) (ingestResult, error) {
	var entries atomic.Int64
	bus := eventbridgebus.New(stubEventBridge{}, "bench", eventbridgebus.Options{OnPut: func(n int) { entries.Add(int64(n)) }})
	if err := st.CreateWorkspace(ctx, &vigie.Workspace{ID: ws, Name: ws, CreatedAt: time.Now(), SecretGeneration: 1}); err != nil && !vigie.IsKind(err, vigie.KindConflict) {
		return ingestResult{}, err
	}
	cfg, _ := config.Load(func(string) string { return "" })
	d := &app.Deps{Config: cfg, Store: st, Bus: bus, Secrets: staticSecrets{secrets.MasterSecret: master},
		Clock: vigie.SystemClock{}, Logger: slog.New(slog.DiscardHandler)}
	h, err := app.Handler("ingest", d)
	if err != nil {
		return ingestResult{}, err
	}
	inv := lambda.NewHandler(h)
	payloads := make([][]byte, deliveries)
	for i := range payloads {
		payloads[i] = signedEvent(fmt.Sprintf("bench-%d-%d", time.Now().UnixNano(), i), fmt.Sprintf("msg_%d", i))
	}
	send := func(p []byte) (time.Duration, error) {
		start := time.Now()
		out, err := inv.Invoke(ctx, p)
		el := time.Since(start)
		if err != nil {
			return 0, err
		}
		if !strings.Contains(string(out), `"statusCode":200`) {
			return 0, fmt.Errorf("ingest answered %s", out)
		}
		return el, nil
	}
	w0, e0 := writes.Load(), entries.Load()
	lat := make([]time.Duration, 0, deliveries)
	for _, p := range payloads {
		el, err := send(p)
		if err != nil {
			return ingestResult{}, err
		}
		lat = append(lat, el)
	}
	w1, e1 := writes.Load(), entries.Load()
	for _, p := range payloads {
		if _, err := send(p); err != nil {
			return ingestResult{}, err
		}
	}
	w2, e2 := writes.Load(), entries.Load()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	n := float64(deliveries)
	return ingestResult{
		p50: lat[len(lat)/2].Round(time.Microsecond), p99: lat[len(lat)*99/100].Round(time.Microsecond),
		writesNew: float64(w1-w0) / n, writesRe: float64(w2-w1) / n, entriesNew: float64(e1-e0) / n, entriesRe: float64(e2-e1) / n,
	}, nil
}

var sampleBody = func() map[string]any {
	data, err := os.ReadFile("events/ingest/generic-single.json")
	if err != nil {
		panic("bench: run from the repository root: " + err.Error())
	}
	var m map[string]any
	_ = json.Unmarshal(data, &m)
	return m
}()

// signedEvent is the API Gateway event of a signed delivery of the sample
// mention under a fresh external id.
func signedEvent(externalID, webhookID string) []byte {
	item := sampleBody["mentions"].([]any)[0].(map[string]any)
	item["external_id"] = externalID
	body, _ := json.Marshal(sampleBody)
	secret := webhook.Secret(secrets.WebhookSecret(master, ws, 1))
	headers := map[string]string{"content-type": "application/json"}
	for k, v := range webhook.Headers(secret, webhookID, time.Now(), body) {
		headers[strings.ToLower(k)] = v[0]
	}
	ev := events.APIGatewayV2HTTPRequest{Version: "2.0", RouteKey: "POST /v1/hooks/{workspace}/generic",
		RawPath: "/v1/hooks/" + ws + "/generic", Headers: headers, Body: string(body),
		RequestContext: events.APIGatewayV2HTTPRequestContext{HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "POST"}}}
	out, _ := json.Marshal(ev)
	return out
}

// seedCloud prepares dynoxide and moto for the ingest bootstrap and returns
// its environment and one fresh signed delivery per cold start.
func seedCloud(ctx context.Context, dynamoURL, motoURL string) ([]string, [][]byte, error) {
	const path, busName = "/vigie/bench", "vigie-bench"
	sc := ssm.NewFromConfig(testsrv.AWSConfig(motoURL))
	for name, v := range map[string]string{secrets.MasterSecret: master, secrets.AdminKey: "bench-admin"} {
		if _, err := sc.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String(path + "/" + name), Value: aws.String(v),
			Type: ssmtypes.ParameterTypeSecureString, Overwrite: aws.Bool(true)}); err != nil {
			return nil, nil, err
		}
	}
	if _, err := eventbridge.NewFromConfig(testsrv.AWSConfig(motoURL)).CreateEventBus(ctx, &eventbridge.CreateEventBusInput{Name: aws.String(busName)}); err != nil {
		return nil, nil, err
	}
	env := []string{"VIGIE_STORE=dynamodb", "VIGIE_TABLE=vigie-bench", "VIGIE_BUS=eventbridge", "VIGIE_EVENT_BUS=" + busName,
		"VIGIE_SECRETS=ssm", "VIGIE_SSM_PATH=" + path, "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test",
		"AWS_ENDPOINT_URL_DYNAMODB=" + dynamoURL, "AWS_ENDPOINT_URL_SSM=" + motoURL, "AWS_ENDPOINT_URL_EVENTBRIDGE=" + motoURL,
		"AWS_LAMBDA_LOG_LEVEL=ERROR"}
	payloads := make([][]byte, 2*coldRuns) // each cold start ingests a new mention
	for i := range payloads {
		payloads[i] = signedEvent(fmt.Sprintf("cold-%d-%d", time.Now().UnixNano(), i), fmt.Sprintf("msg_cold_%d", i))
	}
	return env, payloads, nil
}

// coldStart runs bin once: the time to its first poll of /next (init) and
// to its first answer.
func coldStart(bin string, env []string, payload []byte, want string) (initDur, first time.Duration, err error) {
	p, err := runtimeapi.Run(bin, env, devNull())
	if err != nil {
		return 0, 0, err
	}
	defer p.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	res, err := p.Invoke(ctx, payload)
	first = time.Since(p.Started)
	if err != nil {
		return 0, 0, err
	}
	if res.Error != nil || !strings.Contains(string(res.Payload), want) {
		return 0, 0, fmt.Errorf("answered %s %v", res.Payload, res.Error)
	}
	return p.FirstNextAt.Sub(p.Started), first, nil
}

func devNull() *os.File {
	f, _ := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	return f
}

func median(ds []time.Duration) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}
