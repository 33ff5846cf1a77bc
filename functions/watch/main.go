// Command watch is the watch Lambda function: on its schedule it polls
// feeds, Mastodon, Bluesky, YouTube and X for mentions (see internal/watch).
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"vigie/internal/app"
)

func main() {
	h, err := app.Lambda(context.Background(), "watch", os.Getenv)
	if err != nil {
		slog.Error("watch: start failed", "error", err)
		os.Exit(1)
	}
	lambda.Start(h)
}
