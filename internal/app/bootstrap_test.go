package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"vigie/internal/runtimeapi"
	"vigie/internal/secrets"
	"vigie/internal/store/dynamostore"
	"vigie/internal/testsrv"
	"vigie/internal/vigie"
	"vigie/internal/webhook"
)

func TestMain(m *testing.M) { testsrv.Main(m) }

// TestBootstraps builds every function as Lambda runs it (a bootstrap built
// with -tags lambda.norpc), runs it under the project's Runtime API harness
// against dynoxide (DynamoDB) and moto (SSM, EventBridge) on loopback, and
// invokes it with samples from events/.
func TestBootstraps(t *testing.T) {
	if testing.Short() {
		t.Skip("builds binaries and starts servers")
	}
	ctx := context.Background()
	dynamo := testsrv.Dynoxide(t)
	moto := testsrv.Moto(t)
	// moto is shared by the package's runs: names must be fresh each time.
	const table = "vigie-boot"
	run := fmt.Sprint(time.Now().UnixNano())
	path, busName := "/vigie/boot"+run, "vigie-boot-"+run
	master, admin := "boot-master-secret", "boot-admin-key"

	ddb := dynamodb.NewFromConfig(testsrv.AWSConfig(dynamo))
	if err := dynamostore.CreateTable(ctx, ddb, table); err != nil {
		t.Fatal(err)
	}
	st, err := dynamostore.New(ddb, table, dynamostore.Options{CursorKey: secrets.CursorKey(secrets.Value(master))})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.CreateWorkspace(ctx, &vigie.Workspace{ID: "acme", Name: "Acme", CreatedAt: time.Now(), SecretGeneration: 1}); err != nil {
		t.Fatal(err)
	}
	sc := ssm.NewFromConfig(testsrv.AWSConfig(moto))
	for name, v := range map[string]string{secrets.MasterSecret: master, secrets.AdminKey: admin} {
		if _, err := sc.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String(path + "/" + name), Value: aws.String(v),
			Type: ssmtypes.ParameterTypeSecureString, Overwrite: aws.Bool(true)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := eventbridge.NewFromConfig(testsrv.AWSConfig(moto)).CreateEventBus(ctx, &eventbridge.CreateEventBusInput{Name: aws.String(busName)}); err != nil {
		t.Fatal(err)
	}
	env := []string{
		"VIGIE_STORE=dynamodb", "VIGIE_TABLE=" + table, "VIGIE_BUS=eventbridge", "VIGIE_EVENT_BUS=" + busName,
		"VIGIE_SECRETS=ssm", "VIGIE_SSM_PATH=" + path,
		"AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_ENDPOINT_URL_DYNAMODB=" + dynamo,
		"AWS_ENDPOINT_URL_SSM=" + moto, "AWS_ENDPOINT_URL_EVENTBRIDGE=" + moto,
		"AWS_LAMBDA_LOG_FORMAT=JSON",
	}

	// The ingest sample, signed now for acme.
	var ingestEv events.APIGatewayV2HTTPRequest
	readJSON(t, root+"events/ingest/apigw-generic.json", &ingestEv)
	ingestEv.RawPath = "/v1/hooks/acme/generic"
	secret := webhook.Secret(secrets.WebhookSecret(secrets.Value(master), "acme", 1))
	for k, v := range webhook.Headers(secret, "msg_boot", time.Now(), []byte(ingestEv.Body)) {
		ingestEv.Headers[strings.ToLower(k)] = v[0]
	}
	var createEv events.APIGatewayV2HTTPRequest
	readJSON(t, root+"events/api/create-workspace.json", &createEv)
	createEv.Headers["authorization"] = "Bearer " + admin

	tests := []struct {
		fn         string
		event      any
		wantStatus int
		wantBody   string
	}{
		{"ingest", ingestEv, 200, `"created":1`},
		{"api", createEv, 201, `"webhook_secret":"whsec_`},
		{"api", mustRead(t, root+"events/api/health.json"), 200, `"status":"ok"`},
		{"api", mustRead(t, root+"events/api/list-mentions.json"), 401, `"code":"malformed_key"`},
	}
	bins, binDir := map[string]string{}, t.TempDir()
	for _, tt := range tests {
		t.Run(tt.fn+"/"+tt.wantBody, func(t *testing.T) {
			bin, ok := bins[tt.fn]
			if !ok {
				bin = buildBootstrap(t, binDir, tt.fn)
				bins[tt.fn] = bin
			}
			p, err := runtimeapi.Run(bin, env, os.Stderr)
			if err != nil {
				t.Fatal(err)
			}
			defer p.Stop()
			payload, _ := json.Marshal(tt.event)
			ictx, cancel := context.WithTimeout(ctx, 60*time.Second)
			defer cancel()
			res, err := p.Invoke(ictx, payload)
			if err != nil || res.Error != nil {
				t.Fatalf("invoke: %v, %v", err, res.Error)
			}
			var resp events.APIGatewayV2HTTPResponse
			if err := json.Unmarshal(res.Payload, &resp); err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.wantStatus || !strings.Contains(resp.Body, tt.wantBody) {
				t.Errorf("answer %d %s; want %d with %s", resp.StatusCode, resp.Body, tt.wantStatus, tt.wantBody)
			}
		})
	}
	page, err := st.ListMentions(ctx, "acme", vigie.MentionQuery{})
	if err != nil || len(page.Mentions) != 1 {
		t.Errorf("acme has %d mentions after the ingest bootstrap ran, %v; want 1", len(page.Mentions), err)
	}
}

func buildBootstrap(t *testing.T, dir, fn string) string {
	t.Helper()
	bin := filepath.Join(dir, fn, "bootstrap")
	cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-trimpath", "-o", bin, "./functions/"+fn)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build %s: %v\n%s", fn, err, out)
	}
	return bin
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func mustRead(t *testing.T, path string) json.RawMessage {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
