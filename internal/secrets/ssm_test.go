package secrets

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"vigie/internal/testsrv"
	"vigie/internal/vigie"
)

func TestMain(m *testing.M) { testsrv.Main(m) }

// TestSSM reads SecureString parameters from moto's SSM, over more than one
// page, and keeps what is under other paths out.
func TestSSM(t *testing.T) {
	moto := testsrv.Moto(t)
	creds := credentials.NewStaticCredentialsProvider(testsrv.AccessKey, testsrv.SecretKey, "")
	sdk := ssm.NewFromConfig(testsrv.AWSConfig(moto))
	put := func(name, value string) {
		t.Helper()
		if _, err := sdk.PutParameter(context.Background(), &ssm.PutParameterInput{Name: aws.String(name), Value: aws.String(value),
			Type: ssmtypes.ParameterTypeSecureString, Overwrite: aws.Bool(true)}); err != nil {
			t.Fatal(err)
		}
	}
	put("/vigie/t/master-secret", "m-value")
	put("/vigie/t/admin-key", "a-value")
	for i := range 12 { // GetParametersByPath pages by 10
		put(fmt.Sprintf("/vigie/t/extra-%02d", i), "x")
	}
	put("/vigie/other/admin-key", "not-mine")

	s := &SSM{Path: "/vigie/t", Region: testsrv.Region, Credentials: creds, Endpoint: moto}
	for name, want := range map[string]string{MasterSecret: "m-value", AdminKey: "a-value", "extra-11": "x"} {
		got, err := s.Get(context.Background(), name)
		if err != nil || got.Reveal() != want {
			t.Errorf("Get(%s) = %q, %v; want %q", name, got.Reveal(), err, want)
		}
	}
	if _, err := s.Get(context.Background(), "missing"); !vigie.IsKind(err, vigie.KindNotFound) {
		t.Errorf("Get(missing) = %v, want not found", err)
	}

	bad := &SSM{Path: "/vigie/t", Region: testsrv.Region, Credentials: creds, Endpoint: "http://127.0.0.1:1"}
	_, err := bad.Get(context.Background(), AdminKey)
	if !vigie.IsKind(err, vigie.KindUnavailable) || strings.Contains(err.Error(), "a-value") {
		t.Errorf("Get with SSM down = %v, want unavailable", err)
	}
}
