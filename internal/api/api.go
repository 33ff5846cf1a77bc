// Package api is Vigie's management API as a plain net/http handler:
// workspaces (agency admin key), workspace API keys, the webhook secret and
// the mentions listing (workspace keys). Every workspace route acts on the
// workspace of the key presented, and on nothing else.
package api

import (
	"context"
	"crypto/subtle"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"vigie/internal/secrets"
	"vigie/internal/vigie"
	"vigie/internal/web"
	"vigie/internal/webhook"
)

// Deps is what the API needs.
type Deps struct {
	Store        vigie.Store
	Secrets      secrets.Source
	Clock        vigie.Clock
	Logger       *slog.Logger
	MaxBodyBytes int64
}

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
		d.MaxBodyBytes = 1 << 20
	}
	return (&server{d}).routes()
}

type ctxKey struct{}

func unauthorized(code, msg string) error {
	return &vigie.Error{Kind: vigie.KindUnauthorized, Code: code, Message: msg}
}

func bearer(r *http.Request) (string, error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return "", unauthorized("missing_key", "missing Authorization: Bearer <key>")
	}
	key, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || key == "" {
		return "", unauthorized("malformed_key", "Authorization must be Bearer <key>")
	}
	return key, nil
}

// admin lets through requests with the agency admin key only.
func (s *server) admin(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		key, err := bearer(r)
		if err != nil {
			web.Error(w, r, s.Logger, err)
			return
		}
		want, err := s.Secrets.Get(r.Context(), secrets.AdminKey)
		if err != nil {
			web.Error(w, r, s.Logger, &vigie.Error{Kind: vigie.KindUnavailable, Err: err})
			return
		}
		if !equalSecret(key, want.Reveal()) {
			if _, _, _, ok := parseKey(key); ok {
				web.Error(w, r, s.Logger, &vigie.Error{Kind: vigie.KindForbidden, Code: "admin_only", Message: "this route needs the agency admin key"})
				return
			}
			web.Error(w, r, s.Logger, unauthorized("bad_key", "unknown key"))
			return
		}
		next(w, r)
	}
}

// workspace lets through requests with a live key of a workspace, and puts
// that key in the context.
func (s *server) workspace(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		key, err := s.authenticate(r)
		if err != nil {
			web.Error(w, r, s.Logger, err)
			return
		}
		next(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, key)))
	}
}

func (s *server) authenticate(r *http.Request) (*vigie.APIKey, error) {
	presented, err := bearer(r)
	if err != nil {
		return nil, err
	}
	ws, id, hash, ok := parseKey(presented)
	if !ok {
		if admin, err := s.Secrets.Get(r.Context(), secrets.AdminKey); err == nil && equalSecret(presented, admin.Reveal()) {
			return nil, &vigie.Error{Kind: vigie.KindForbidden, Code: "workspace_only", Message: "this route needs a workspace API key"}
		}
		return nil, unauthorized("malformed_key", "not a Vigie API key")
	}
	k, err := s.Store.GetAPIKey(r.Context(), ws, id)
	if vigie.IsKind(err, vigie.KindNotFound) {
		return nil, unauthorized("bad_key", "unknown key")
	}
	if err != nil {
		return nil, err
	}
	if subtle.ConstantTimeCompare(k.Hash, hash) != 1 {
		return nil, unauthorized("bad_key", "unknown key")
	}
	if k.RevokedAt != nil {
		return nil, unauthorized("revoked_key", "this key was revoked")
	}
	return k, nil
}

func keyOf(r *http.Request) *vigie.APIKey { return r.Context().Value(ctxKey{}).(*vigie.APIKey) }

func (s *server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/health", func(w http.ResponseWriter, _ *http.Request) {
		web.JSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("POST /v1/workspaces", s.admin(s.createWorkspace))
	mux.HandleFunc("GET /v1/workspace", s.workspace(s.getWorkspace))
	mux.HandleFunc("POST /v1/workspace/webhook-secret", s.workspace(s.rotateSecret))
	mux.HandleFunc("GET /v1/keys", s.workspace(s.listKeys))
	mux.HandleFunc("POST /v1/keys", s.workspace(s.createKey))
	mux.HandleFunc("DELETE /v1/keys/{id}", s.workspace(s.revokeKey))
	mux.HandleFunc("GET /v1/mentions", s.workspace(s.listMentions))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		web.Error(w, r, nil, vigie.Errorf(vigie.KindNotFound, "no such route"))
	})
	return mux
}

func (s *server) webhookSecret(ctx context.Context, ws *vigie.Workspace) (string, error) {
	master, err := s.Secrets.Get(ctx, secrets.MasterSecret)
	if err != nil {
		return "", &vigie.Error{Kind: vigie.KindUnavailable, Err: err}
	}
	return webhook.Secret(secrets.WebhookSecret(master, ws.ID, ws.SecretGeneration)).Encode(), nil
}

type keyView struct {
	ID        string     `json:"id"`
	Name      string     `json:"name"`
	CreatedAt time.Time  `json:"created_at"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
	Key       string     `json:"key,omitempty"` // only when just created
}

func viewKey(k *vigie.APIKey) keyView {
	return keyView{ID: k.ID, Name: k.Name, CreatedAt: k.CreatedAt, RevokedAt: k.RevokedAt}
}

func (s *server) decode(w http.ResponseWriter, r *http.Request, v any) bool {
	body, err := web.ReadBody(r, s.MaxBodyBytes)
	if err == nil {
		err = web.DecodeJSON(body, v)
	}
	if err != nil {
		web.Error(w, r, s.Logger, err)
		return false
	}
	return true
}

func checkName(field, name string) error {
	if strings.TrimSpace(name) == "" {
		return &vigie.Error{Kind: vigie.KindInvalid, Code: "field_missing", Field: field, Message: field + " is required"}
	}
	if len(name) > 200 {
		return vigie.Invalidf(field, "%s is over 200 bytes", field)
	}
	return nil
}

// createKey stores a new key for ws and returns its view with the key.
func (s *server) newKey(ctx context.Context, ws, name string) (keyView, error) {
	id, full, hash := newKey(ws)
	k := &vigie.APIKey{Workspace: ws, ID: id, Name: name, Hash: hash, CreatedAt: s.Clock.Now()}
	if err := s.Store.CreateAPIKey(ctx, k); err != nil {
		return keyView{}, err
	}
	v := viewKey(k)
	v.Key = full
	return v, nil
}
