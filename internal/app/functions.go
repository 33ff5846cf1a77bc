package app

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"vigie/internal/api"
	"vigie/internal/config"
	"vigie/internal/handler"
	"vigie/internal/ingest"
	"vigie/internal/watch"
)

// handlers builds each function's Lambda handler from Deps. The keys are
// the folder names under functions/, which are the template's logical ids
// without their "Function" suffix, lower-cased.
var handlers = map[string]func(d *Deps) any{
	"api": func(d *Deps) any {
		return handler.HTTP(api.NewServer(api.Deps{
			Store: d.Store, Secrets: d.Secrets, Clock: d.Clock, Logger: d.Logger, MaxBodyBytes: d.Config.MaxBodyBytes,
		}))
	},
	"ingest": func(d *Deps) any {
		return handler.HTTP(ingest.NewHandler(ingest.Deps{
			Store: d.Store, Bus: d.Bus, Secrets: d.Secrets, Clock: d.Clock, Logger: d.Logger,
			MaxBodyBytes: d.Config.MaxBodyBytes, Tolerance: d.Config.WebhookTolerance, Retention: d.Config.MentionRetention,
			Platforms: ingest.Platforms{MetaGraphURL: d.Config.MetaGraphURL, HTTP: d.HTTP},
		}))
	},
	"watch": func(d *Deps) any {
		s := watch.New(watch.Deps{
			Store: d.Store, Secrets: d.Secrets, Clock: d.Clock, Logger: d.Logger,
			Pipeline:    &ingest.Pipeline{Store: d.Store, Bus: d.Bus, Clock: d.Clock, Logger: d.Logger, Retention: d.Config.MentionRetention},
			Every:       d.Config.PollEvery,
			Concurrency: d.Config.PollConcurrency,
			Platforms: watch.Platforms{YouTubeURL: d.Config.YouTubeAPIURL, XURL: d.Config.XAPIURL,
				BlueskyURL: d.Config.BlueskyURL, HTTP: d.HTTP, FeedsAnyAddress: d.Config.FeedAddresses == "any"},
		})
		// The schedule's event says only that it is time: its content is
		// not needed.
		return func(ctx context.Context, _ json.RawMessage) (watch.Report, error) { return s.Run(ctx) }
	},
}

// Functions lists the functions Vigie has, sorted.
func Functions() []string {
	names := make([]string, 0, len(handlers))
	for n := range handlers {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Handler returns the value that function name gives to lambda.Start.
func Handler(name string, d *Deps) (any, error) {
	build, ok := handlers[name]
	if !ok {
		return nil, fmt.Errorf("app: no function %q", name)
	}
	return build(d), nil
}

// Lambda is the whole of a function's main: it reads the configuration
// through getenv, builds the cloud dependencies with Lambda's request-id
// aware JSON logger, and returns the handler for lambda.Start.
func Lambda(ctx context.Context, name string, getenv func(string) string) (any, error) {
	cfg, err := config.Load(getenv)
	if err != nil {
		return nil, err
	}
	if cfg.Bus == "local" {
		return nil, fmt.Errorf("app: VIGIE_BUS=local runs only in the local runner; Lambda functions need VIGIE_BUS=eventbridge")
	}
	d, err := Build(ctx, cfg, Options{Logger: lambdacontext.NewLogger(), Getenv: getenv})
	if err != nil {
		return nil, err
	}
	return Handler(name, d)
}
