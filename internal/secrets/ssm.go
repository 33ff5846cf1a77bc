package secrets

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"vigie/internal/vigie"
)

// SSM is a Source over the SecureString parameters under one path of SSM
// Parameter Store (e.g. /vigie/prod/master-secret). It reads the whole path
// once, at the first Get, and caches it for the life of the process.
//
// It makes its one call, GetParametersByPath, itself (a SigV4-signed JSON
// request) rather than through the SDK's ssm package, whose package init
// alone costs a Lambda cold start more than a millisecond for one call.
type SSM struct {
	Path        string // e.g. "/vigie/prod"
	Region      string
	Credentials aws.CredentialsProvider
	Endpoint    string       // default https://ssm.<region>.amazonaws.com
	HTTP        *http.Client // default: 10 s timeout

	mu       sync.Mutex
	values   map[string]string
	loadedAt time.Time
	now      func() time.Time
}

// cacheFor is how long a function trusts its copy of the path: channel
// credentials changed by the API reach the other functions within it.
const cacheFor = 5 * time.Minute

// Get returns the parameter Path/name. Errors: NotFound, Unavailable.
// A name missing from the cached copy is read alone, so a channel connected
// after the copy was made is found at once.
func (s *SSM) Get(ctx context.Context, name string) (Value, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	if s.now != nil {
		now = s.now()
	}
	if s.values == nil || now.Sub(s.loadedAt) > cacheFor {
		values, err := s.load(ctx)
		if err != nil {
			return "", &vigie.Error{Kind: vigie.KindUnavailable, Message: "secrets unavailable", Err: err}
		}
		s.values, s.loadedAt = values, now
	}
	v, ok := s.values[name]
	if !ok {
		var out struct{ Parameter ssmParameter }
		err := s.call(ctx, "GetParameter", map[string]any{"Name": s.name(name), "WithDecryption": true}, &out)
		if errors.Is(err, errParameterNotFound) {
			return "", vigie.Errorf(vigie.KindNotFound, "secret %q is not under %s", name, s.Path)
		}
		if err != nil {
			return "", &vigie.Error{Kind: vigie.KindUnavailable, Message: "secrets unavailable", Err: err}
		}
		v = out.Parameter.Value
		s.values[name] = v
	}
	return Value(v), nil
}

func (s *SSM) name(name string) string { return strings.TrimSuffix(s.Path, "/") + "/" + name }

// Put implements Writer: a SecureString, replaced if it exists.
func (s *SSM) Put(ctx context.Context, name, value string) error {
	err := s.call(ctx, "PutParameter", map[string]any{"Name": s.name(name), "Value": value, "Type": "SecureString", "Overwrite": true}, &struct{}{})
	if err != nil {
		return &vigie.Error{Kind: vigie.KindUnavailable, Message: "secrets unavailable", Err: err}
	}
	s.mu.Lock()
	if s.values != nil {
		s.values[name] = value
	}
	s.mu.Unlock()
	return nil
}

// Delete implements Writer.
func (s *SSM) Delete(ctx context.Context, name string) error {
	err := s.call(ctx, "DeleteParameter", map[string]any{"Name": s.name(name)}, &struct{}{})
	if err != nil && !errors.Is(err, errParameterNotFound) {
		return &vigie.Error{Kind: vigie.KindUnavailable, Message: "secrets unavailable", Err: err}
	}
	s.mu.Lock()
	delete(s.values, name)
	s.mu.Unlock()
	return nil
}

var errParameterNotFound = errors.New("ParameterNotFound")

type ssmParameter struct {
	Name, Value string
}

func (s *SSM) load(ctx context.Context) (map[string]string, error) {
	prefix := strings.TrimSuffix(s.Path, "/") + "/"
	values := map[string]string{}
	var next string
	for {
		in := map[string]any{"Path": strings.TrimSuffix(prefix, "/"), "WithDecryption": true, "Recursive": false}
		if next != "" {
			in["NextToken"] = next
		}
		var out struct {
			Parameters []ssmParameter
			NextToken  string
		}
		if err := s.call(ctx, "GetParametersByPath", in, &out); err != nil {
			return nil, err
		}
		for _, p := range out.Parameters {
			values[strings.TrimPrefix(p.Name, prefix)] = p.Value
		}
		if out.NextToken == "" {
			return values, nil
		}
		next = out.NextToken
	}
}

// call makes one SSM JSON 1.1 request. Error messages carry SSM's error
// type, never parameter values.
func (s *SSM) call(ctx context.Context, action string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	endpoint := s.Endpoint
	if endpoint == "" {
		endpoint = "https://ssm." + s.Region + ".amazonaws.com"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(endpoint, "/")+"/", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "AmazonSSM."+action)
	creds, err := s.Credentials.Retrieve(ctx)
	if err != nil {
		return fmt.Errorf("ssm %s: credentials: %w", action, err)
	}
	sum := sha256.Sum256(body)
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "ssm", s.Region, time.Now()); err != nil {
		return fmt.Errorf("ssm %s: sign: %w", action, err)
	}
	client := s.HTTP
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("ssm %s: %w", action, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return fmt.Errorf("ssm %s: %w", action, err)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Type string `json:"__type"`
		}
		_ = json.Unmarshal(data, &e)
		if strings.HasSuffix(e.Type, "ParameterNotFound") {
			return fmt.Errorf("ssm %s: %w", action, errParameterNotFound)
		}
		return fmt.Errorf("ssm %s: %s %s", action, resp.Status, e.Type)
	}
	return json.Unmarshal(data, out)
}
