package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"vigie/internal/runtimeapi"
	"vigie/internal/secrets"
	"vigie/internal/store/dynamostore"
	"vigie/internal/vigie"
)

const (
	helloPkg  = "./internal/runtimeapi/testdata/hello"
	coldTable = "vigie-bench-cold"
	coldBus   = "vigie-bench"
	ssmPath   = "/vigie/bench"
)

// seedCloud prepares what the ingest bootstrap reads at its cold start and
// first delivery: the secrets under the SSM path and the bus (moto), the
// table and a workspace (dynoxide). It returns the bootstrap's environment.
func seedCloud(ctx context.Context, dynamoURL, motoURL string) ([]string, error) {
	sc := ssm.NewFromConfig(awsConfig(motoURL))
	for name, v := range map[string]string{secrets.MasterSecret: master, secrets.AdminKey: "bench-admin"} {
		if _, err := sc.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String(ssmPath + "/" + name), Value: aws.String(v),
			Type: ssmtypes.ParameterTypeSecureString, Overwrite: aws.Bool(true)}); err != nil {
			return nil, fmt.Errorf("seed SSM: %w", err)
		}
	}
	if _, err := eventbridge.NewFromConfig(awsConfig(motoURL)).CreateEventBus(ctx, &eventbridge.CreateEventBusInput{Name: aws.String(coldBus)}); err != nil {
		return nil, fmt.Errorf("seed EventBridge bus: %w", err)
	}
	ddb := dynamodb.NewFromConfig(awsConfig(dynamoURL))
	if err := dynamostore.CreateTable(ctx, ddb, coldTable); err != nil {
		return nil, fmt.Errorf("seed table: %w", err)
	}
	st, err := dynamostore.New(ddb, coldTable, dynamostore.Options{CursorKey: secrets.CursorKey(master)})
	if err != nil {
		return nil, err
	}
	if err := st.CreateWorkspace(ctx, &vigie.Workspace{ID: workspace, Name: "Bench", CreatedAt: time.Now(), SecretGeneration: 1}); err != nil {
		return nil, fmt.Errorf("seed workspace: %w", err)
	}
	return []string{
		"VIGIE_STORE=dynamodb", "VIGIE_TABLE=" + coldTable,
		"VIGIE_BUS=eventbridge", "VIGIE_EVENT_BUS=" + coldBus,
		"VIGIE_SECRETS=ssm", "VIGIE_SSM_PATH=" + ssmPath,
		"AWS_ACCESS_KEY_ID=" + awsKey, "AWS_SECRET_ACCESS_KEY=" + awsSecret, "AWS_REGION=" + awsRegion,
		"AWS_ENDPOINT_URL_DYNAMODB=" + dynamoURL, "AWS_ENDPOINT_URL_SSM=" + motoURL, "AWS_ENDPOINT_URL_EVENTBRIDGE=" + motoURL,
		"AWS_LAMBDA_LOG_LEVEL=ERROR", "VIGIE_LOG_LEVEL=error",
	}, nil
}

// roundTrips times, from the bench's own warm clients, the calls that the
// ingest bootstrap's cold path makes to the loopback servers: what of its
// first answer is the servers' (moto is Python; real AWS differs again).
func roundTrips(ctx context.Context, dynamoURL, motoURL string, n int) (ssmRT, putRT, getRT time.Duration, err error) {
	sc := ssm.NewFromConfig(awsConfig(motoURL))
	eb := eventbridge.NewFromConfig(awsConfig(motoURL))
	ddb := dynamodb.NewFromConfig(awsConfig(dynamoURL))
	st, err := dynamostore.New(ddb, coldTable, dynamostore.Options{CursorKey: secrets.CursorKey(master)})
	if err != nil {
		return 0, 0, 0, err
	}
	var s, p, g []time.Duration
	for range n {
		t := time.Now()
		if _, err := sc.GetParametersByPath(ctx, &ssm.GetParametersByPathInput{Path: aws.String(ssmPath), WithDecryption: aws.Bool(true)}); err != nil {
			return 0, 0, 0, err
		}
		s = append(s, time.Since(t))
		t = time.Now()
		// An unmatched detail-type: nothing downstream cares.
		if _, err := eb.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{{
			EventBusName: aws.String(coldBus), Source: aws.String("vigie.bench"), DetailType: aws.String("bench.probe"), Detail: aws.String(`{}`),
		}}}); err != nil {
			return 0, 0, 0, err
		}
		p = append(p, time.Since(t))
		t = time.Now()
		if _, err := st.GetWorkspace(ctx, workspace); err != nil {
			return 0, 0, 0, err
		}
		g = append(g, time.Since(t))
	}
	return median(s), median(p), median(g), nil
}

// coldTimes is one cold start: process start → first poll of /next (init),
// process start → first answer, and the time of a second invocation of the
// now warm process (0 if none was asked).
type coldTimes struct{ init, first, second time.Duration }

// coldStart runs bin once under the project's Lambda Runtime API harness and
// invokes it with payload, then with again if not nil; every answer must
// contain want.
func coldStart(ctx context.Context, bin string, env []string, payload, again []byte, want string, output *os.File) (coldTimes, error) {
	p, err := runtimeapi.Run(bin, env, output)
	if err != nil {
		return coldTimes{}, err
	}
	defer p.Stop()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	invoke := func(payload []byte) error {
		res, err := p.Invoke(ctx, payload)
		if err != nil {
			return err
		}
		if res.Error != nil {
			return fmt.Errorf("answered an error: %w", res.Error)
		}
		if !strings.Contains(string(res.Payload), want) {
			return fmt.Errorf("answered %.300s, want %s", res.Payload, want)
		}
		return nil
	}
	if err := invoke(payload); err != nil {
		return coldTimes{}, err
	}
	t := coldTimes{first: time.Since(p.Started)}
	select {
	case <-p.FirstNext: // closed before the invocation was handed out
		t.init = p.FirstNextAt.Sub(p.Started)
	default:
		return coldTimes{}, errors.New("answered without polling /next")
	}
	if again != nil {
		start := time.Now()
		if err := invoke(again); err != nil {
			return coldTimes{}, fmt.Errorf("second invocation: %w", err)
		}
		t.second = time.Since(start)
	}
	return t, nil
}
