package app

import (
	"errors"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// awsEnv is the AWS SDK configuration of a Lambda function, read from the
// environment Lambda gives every function (AWS_REGION and the execution
// role's AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, valid
// for the life of the execution environment).
//
// It stands in for config.LoadDefaultConfig on purpose: that package links
// the SSO, SSO-OIDC, STS and IMDS clients and parses shared config files,
// which costs milliseconds of package init at every cold start and serves
// nothing in Lambda.
type awsEnv struct {
	cfg       aws.Config
	endpoints func(service string) *string
}

func loadAWSEnv(getenv func(string) string) (awsEnv, error) {
	region := getenv("AWS_REGION")
	if region == "" {
		region = getenv("AWS_DEFAULT_REGION")
	}
	key, secret := getenv("AWS_ACCESS_KEY_ID"), getenv("AWS_SECRET_ACCESS_KEY")
	if region == "" || key == "" || secret == "" {
		return awsEnv{}, errors.New("app: AWS_REGION, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set (Lambda sets them)")
	}
	cfg := aws.Config{
		Region:      region,
		Credentials: credentials.NewStaticCredentialsProvider(key, secret, getenv("AWS_SESSION_TOKEN")),
	}
	// AWS_ENDPOINT_URL_<SERVICE> and AWS_ENDPOINT_URL, as the SDK's own
	// loader reads them: tests and local stacks point services elsewhere.
	endpoints := func(service string) *string {
		if v := getenv("AWS_ENDPOINT_URL_" + strings.ToUpper(service)); v != "" {
			return aws.String(v)
		}
		if v := getenv("AWS_ENDPOINT_URL"); v != "" {
			return aws.String(v)
		}
		return nil
	}
	return awsEnv{cfg: cfg, endpoints: endpoints}, nil
}
