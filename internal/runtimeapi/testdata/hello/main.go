// Command hello is the hello-world aws-lambda-go function that benchmarks
// compare Vigie's bootstraps against, and that tests run under the harness.
package main

import (
	"context"
	"errors"

	"github.com/aws/aws-lambda-go/lambda"
)

type in struct {
	Name string `json:"name"`
}

func main() {
	lambda.Start(func(_ context.Context, e in) (string, error) {
		if e.Name == "" {
			return "", errors.New("no name")
		}
		return "hello " + e.Name, nil
	})
}
