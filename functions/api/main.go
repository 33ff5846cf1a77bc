// Command api is the management API Lambda function: workspaces, API keys
// and mentions, behind API Gateway.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"vigie/internal/app"
)

func main() {
	h, err := app.Lambda(context.Background(), "api", os.Getenv)
	if err != nil {
		slog.Error("api: start failed", "error", err)
		os.Exit(1)
	}
	lambda.Start(h)
}
