// Command ingest is the ingest Lambda function: signed webhooks in,
// mentions normalized, stored and announced as mention.received.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"vigie/internal/app"
)

func main() {
	h, err := app.Lambda(context.Background(), "ingest", os.Getenv)
	if err != nil {
		slog.Error("ingest: start failed", "error", err)
		os.Exit(1)
	}
	lambda.Start(h)
}
