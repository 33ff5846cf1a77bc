// Package api is Vigie's management API as a plain net/http handler:
// workspaces (agency admin key), workspace API keys, the webhook secret and
// the mentions listing (workspace keys). Every workspace route acts on the
// workspace of the key presented, and on nothing else.
//
// Lambda serves it through handler.HTTP; the local runner through the same
// function value. The routes are in routes.go.
package api

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"

	"vigie/internal/handler"
	"vigie/internal/secrets"
	"vigie/internal/vigie"
	"vigie/internal/web"
)

// Deps is what the API needs.
type Deps struct {
	Store   vigie.Store
	Secrets secrets.Writer // AdminKey, MasterSecret; channel credentials
	Clock   vigie.Clock    // default vigie.SystemClock
	Logger  *slog.Logger   // default: discard
	// MaxBodyBytes bounds request bodies; default DefaultMaxBodyBytes.
	MaxBodyBytes int64
}

// DefaultMaxBodyBytes is the body limit when Deps does not set one.
const DefaultMaxBodyBytes = 1 << 20

type server struct {
	Deps
}

// NewServer returns the API's handler.
func NewServer(d Deps) http.Handler {
	if d.Clock == nil {
		d.Clock = vigie.SystemClock{}
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.MaxBodyBytes <= 0 {
		d.MaxBodyBytes = DefaultMaxBodyBytes
	}
	return (&server{d}).routes()
}

// log returns the logger for r: with the API Gateway request id, which
// clients see (apigw-requestid), and the workspace once authenticated.
func (s *server) log(r *http.Request) *slog.Logger {
	l := s.Logger
	if id := handler.RequestID(r.Context()); id != "" {
		l = l.With("request_id", id)
	}
	if k, ok := r.Context().Value(keyCtx{}).(*vigie.APIKey); ok {
		l = l.With("workspace", k.Workspace, "key_id", k.ID)
	}
	return l
}

// fail answers err as JSON (web.Error: 5xx bodies say nothing of the cause).
func (s *server) fail(w http.ResponseWriter, r *http.Request, err error) {
	web.Error(w, r, s.log(r), err)
}

// decode reads r's body into v: at most MaxBodyBytes, strict JSON.
func (s *server) decode(w http.ResponseWriter, r *http.Request, v any) bool {
	body, err := web.ReadBody(r, s.MaxBodyBytes)
	if err == nil {
		err = web.DecodeJSON(body, v)
	}
	if err != nil {
		s.fail(w, r, err)
		return false
	}
	return true
}

// MaxNameLen is the longest workspace or key name, in characters.
const MaxNameLen = 200

// cleanName returns name without surrounding spaces, or an Invalid error
// naming field if it is empty, too long, or holds control characters.
func cleanName(field, name string) (string, error) {
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		return "", &vigie.Error{Kind: vigie.KindInvalid, Code: "field_missing", Field: field, Message: field + " is required"}
	case utf8.RuneCountInString(name) > MaxNameLen:
		return "", vigie.Invalidf(field, "%s must be at most %d characters", field, MaxNameLen)
	case strings.ContainsFunc(name, unicode.IsControl):
		return "", vigie.Invalidf(field, "%s must not hold control characters", field)
	}
	return name, nil
}

// retries bounds the read-modify-write loops against concurrent updates.
const retries = 5

// masterSecret returns the secret webhook secrets derive from. Missing or
// unreachable, it is a 503: the deployment is at fault, not the caller.
func (s *server) masterSecret(ctx context.Context) (secrets.Value, error) {
	v, err := s.Secrets.Get(ctx, secrets.MasterSecret)
	if err != nil {
		return "", &vigie.Error{Kind: vigie.KindUnavailable, Message: "master secret unavailable", Err: err}
	}
	return v, nil
}
