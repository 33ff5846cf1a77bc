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

// TestSSM_Writer puts, reads back and deletes a channel's credentials on
// moto, and finds a parameter created after the cached copy of the path.
func TestSSM_Writer(t *testing.T) {
	moto := testsrv.Moto(t)
	creds := credentials.NewStaticCredentialsProvider(testsrv.AccessKey, testsrv.SecretKey, "")
	ctx := context.Background()
	sdk := ssm.NewFromConfig(testsrv.AWSConfig(moto))
	if _, err := sdk.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/vigie/w/master-secret"), Value: aws.String("m"),
		Type: ssmtypes.ParameterTypeSecureString}); err != nil {
		t.Fatal(err)
	}
	api := &SSM{Path: "/vigie/w", Region: testsrv.Region, Credentials: creds, Endpoint: moto}
	other := &SSM{Path: "/vigie/w", Region: testsrv.Region, Credentials: creds, Endpoint: moto}
	if _, err := other.Get(ctx, MasterSecret); err != nil { // caches the path
		t.Fatal(err)
	}
	name := ChannelSecret("acme", "ch_1")
	if err := api.Put(ctx, name, `{"token":"t1"}`); err != nil {
		t.Fatal(err)
	}
	out, err := sdk.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/vigie/w/" + name)})
	if err != nil || out.Parameter.Type != ssmtypes.ParameterTypeSecureString {
		t.Fatalf("stored parameter = %+v, %v; want a SecureString", out, err)
	}
	if v, err := other.Get(ctx, name); err != nil || v.Reveal() != `{"token":"t1"}` {
		t.Errorf("another process's Get = %q, %v", v.Reveal(), err)
	}
	if err := api.Delete(ctx, name); err != nil {
		t.Fatal(err)
	}
	if err := api.Delete(ctx, name); err != nil {
		t.Errorf("second Delete = %v, want nil", err)
	}
	if _, err := api.Get(ctx, name); !vigie.IsKind(err, vigie.KindNotFound) {
		t.Errorf("Get after Delete = %v, want not found", err)
	}
}
