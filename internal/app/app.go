// Package app wires Vigie's dependencies from a config.Config: the cloud set
// (DynamoDB, EventBridge, SSM) for Lambda, or the local set (bbolt, secrets
// file) for the local runner and tests. It also names the handler value of
// each function, so that functions/*/main.go and the local runner hand Lambda
// the very same values.
package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"

	"vigie/internal/bus/eventbridgebus"
	"vigie/internal/config"
	"vigie/internal/secrets"
	"vigie/internal/store/boltstore"
	"vigie/internal/store/dynamostore"
	"vigie/internal/vigie"
)

// Deps is what the functions' services are built from.
type Deps struct {
	Config  config.Config
	Store   vigie.Store
	Bus     vigie.Bus
	Secrets secrets.Writer
	Clock   vigie.Clock
	Logger  *slog.Logger
	// HTTP is the client of platform APIs; nil gives each its default.
	HTTP *http.Client
}

// Options adjust Build for tests and the local runner.
type Options struct {
	// Bus replaces the configured bus. With VIGIE_BUS=local and no Bus,
	// Deps.Bus is left for the local runner to set: its bus keeps its queue
	// in the store's bbolt file and delivers to handlers built from Deps.
	Bus vigie.Bus
	// Clock defaults to the system clock.
	Clock vigie.Clock
	// Logger defaults to JSON on stderr at the configured level.
	Logger *slog.Logger
	// OnStoreWrite and OnBusPut count DynamoDB write requests and
	// EventBridge entries, for benchmarks.
	OnStoreWrite func(op string, items int)
	OnBusPut     func(entries int)
	// Getenv reads the AWS environment; defaults to os.Getenv.
	Getenv func(string) string
	// HTTP replaces the platform APIs' client (tests and benchmarks).
	HTTP *http.Client
}

// Build returns the dependencies cfg asks for. Close releases them.
func Build(ctx context.Context, cfg config.Config, opts Options) (*Deps, error) {
	d := &Deps{Config: cfg, Clock: opts.Clock, Logger: opts.Logger, Bus: opts.Bus, HTTP: opts.HTTP}
	if d.Clock == nil {
		d.Clock = vigie.SystemClock{}
	}
	if d.Logger == nil {
		d.Logger = NewLogger(os.Stderr, cfg.LogLevel)
	}
	getenv := opts.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	var env *awsEnv
	loadAWS := func() (awsEnv, error) {
		if env == nil {
			e, err := loadAWSEnv(getenv)
			if err != nil {
				return awsEnv{}, err
			}
			env = &e
		}
		return *env, nil
	}

	switch cfg.Secrets {
	case "ssm":
		c, err := loadAWS()
		if err != nil {
			return nil, err
		}
		s := &secrets.SSM{Path: cfg.SSMPath, Region: c.cfg.Region, Credentials: c.cfg.Credentials}
		if ep := c.endpoints("ssm"); ep != nil {
			s.Endpoint = *ep
		}
		d.Secrets = s
	default:
		d.Secrets = secrets.File{Path: cfg.SecretsFile}
	}
	// The cursor key is derived from the master secret, so reading it is
	// part of every function's start.
	master, err := d.Secrets.Get(ctx, secrets.MasterSecret)
	if err != nil {
		return nil, fmt.Errorf("app: read %s: %w", secrets.MasterSecret, err)
	}
	cursorKey := secrets.CursorKey(master)

	switch cfg.Store {
	case "dynamodb":
		c, err := loadAWS()
		if err != nil {
			return nil, err
		}
		d.Store, err = dynamostore.New(dynamodb.NewFromConfig(c.cfg, func(o *dynamodb.Options) { o.BaseEndpoint = c.endpoints("dynamodb") }), cfg.Table,
			dynamostore.Options{Clock: d.Clock, CursorKey: cursorKey, OnWrite: opts.OnStoreWrite})
		if err != nil {
			return nil, err
		}
	default:
		if err := os.MkdirAll(filepath.Dir(cfg.BoltPath), 0o700); err != nil {
			return nil, fmt.Errorf("app: %w", err)
		}
		d.Store, err = boltstore.Open(cfg.BoltPath, boltstore.Options{Clock: d.Clock, CursorKey: cursorKey})
		if err != nil {
			return nil, err
		}
	}

	if d.Bus == nil {
		switch cfg.Bus {
		case "eventbridge":
			c, err := loadAWS()
			if err != nil {
				_ = d.Store.Close()
				return nil, err
			}
			d.Bus = eventbridgebus.New(eventbridge.NewFromConfig(c.cfg, func(o *eventbridge.Options) { o.BaseEndpoint = c.endpoints("eventbridge") }), cfg.EventBus, eventbridgebus.Options{OnPut: opts.OnBusPut})
		}
	}
	return d, nil
}

// Close releases the store.
func (d *Deps) Close() error { return d.Store.Close() }

// NewLogger returns a JSON slog logger at level ("debug", "info", "warn",
// "error").
func NewLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level))
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l}))
}
