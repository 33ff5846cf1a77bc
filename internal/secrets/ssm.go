package secrets

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"vigie/internal/vigie"
)

// SSMAPI is the part of the SSM client that SSM uses.
type SSMAPI interface {
	GetParametersByPath(ctx context.Context, in *ssm.GetParametersByPathInput, opts ...func(*ssm.Options)) (*ssm.GetParametersByPathOutput, error)
}

// SSM is a Source over the SecureString parameters under one path
// (e.g. /vigie/prod/master-secret). It reads the whole path once, on first
// use rather than at cold start, and caches it for the life of the process.
type SSM struct {
	Client SSMAPI
	Path   string // e.g. "/vigie/prod"

	mu     sync.Mutex
	values map[string]string
}

// Get returns the parameter Path/name.
func (s *SSM) Get(ctx context.Context, name string) (Value, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.values == nil {
		values, err := s.load(ctx)
		if err != nil {
			return "", err
		}
		s.values = values
	}
	v, ok := s.values[name]
	if !ok {
		return "", vigie.Errorf(vigie.KindNotFound, "secret %q is not under %s", name, s.Path)
	}
	return Value(v), nil
}

func (s *SSM) load(ctx context.Context) (map[string]string, error) {
	prefix := strings.TrimSuffix(s.Path, "/") + "/"
	values := map[string]string{}
	in := &ssm.GetParametersByPathInput{Path: aws.String(strings.TrimSuffix(prefix, "/")), WithDecryption: aws.Bool(true), Recursive: aws.Bool(false)}
	for {
		out, err := s.Client.GetParametersByPath(ctx, in)
		if err != nil {
			var nf *types.ParameterNotFound
			if errors.As(err, &nf) {
				return values, nil
			}
			return nil, &vigie.Error{Kind: vigie.KindUnavailable, Message: "secrets unavailable", Err: fmt.Errorf("ssm get parameters by path: %w", err)}
		}
		for _, p := range out.Parameters {
			values[strings.TrimPrefix(aws.ToString(p.Name), prefix)] = aws.ToString(p.Value)
		}
		if out.NextToken == nil {
			return values, nil
		}
		in.NextToken = out.NextToken
	}
}
