package api

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/base64"
	"net/http"
	"strings"

	"vigie/internal/secrets"
	"vigie/internal/vigie"
)

// role is who may call a route.
type role int

const (
	public role = iota // anyone
	admin              // the agency admin key only
	member             // a live key of a workspace; the route acts on that workspace only
)

type keyCtx struct{}

// keyOf returns the workspace key that authenticated r (member routes).
func keyOf(r *http.Request) *vigie.APIKey { return r.Context().Value(keyCtx{}).(*vigie.APIKey) }

// guard lets through the requests whose credential has the role need.
// 401 means the credential is missing or wrong; 403 that it is right but
// not for this route.
func (s *server) guard(need role, next http.HandlerFunc) http.HandlerFunc {
	if need == public {
		return next
	}
	return func(w http.ResponseWriter, r *http.Request) {
		key, isAdmin, err := s.authenticate(r, need == admin)
		switch {
		case err != nil:
			s.fail(w, r, err)
		case need == admin && !isAdmin:
			s.fail(w, r, &vigie.Error{Kind: vigie.KindForbidden, Code: "admin_only", Message: "this route needs the agency admin key"})
		case need == member && key == nil:
			s.fail(w, r, &vigie.Error{Kind: vigie.KindForbidden, Code: "workspace_only", Message: "this route needs a workspace API key"})
		case need == member:
			next(w, r.WithContext(context.WithValue(r.Context(), keyCtx{}, key)))
		default:
			next(w, r)
		}
	}
}

func unauthorized(code, msg string) error {
	return &vigie.Error{Kind: vigie.KindUnauthorized, Code: code, Message: msg}
}

// authenticate identifies the bearer of r: a live workspace key (key set)
// or the agency admin key (isAdmin). adminRoute says whether the route needs
// the admin key: only then is failing to read it the request's failure.
func (s *server) authenticate(r *http.Request, adminRoute bool) (key *vigie.APIKey, isAdmin bool, err error) {
	token, err := bearer(r)
	if err != nil {
		return nil, false, err
	}
	if ws, id, hash, ok := parseKey(token); ok {
		key, err := s.workspaceKey(r.Context(), ws, id, hash)
		return key, false, err
	}
	want, err := s.Secrets.Get(r.Context(), secrets.AdminKey)
	if err != nil && adminRoute {
		return nil, false, &vigie.Error{Kind: vigie.KindUnavailable, Message: "admin key unavailable", Err: err}
	}
	if err == nil && equalSecret(token, want.Reveal()) {
		return nil, true, nil
	}
	if adminRoute {
		return nil, false, unauthorized("bad_key", "unknown or wrong key")
	}
	return nil, false, unauthorized("malformed_key", "not a Vigie API key (vk_<workspace>_<id>_<secret>)")
}

// bearer returns the token of an "Authorization: Bearer <token>" header.
func bearer(r *http.Request) (string, error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return "", unauthorized("missing_key", "missing Authorization: Bearer <key>")
	}
	scheme, token, _ := strings.Cut(h, " ")
	token = strings.TrimSpace(token)
	if !strings.EqualFold(scheme, "Bearer") || token == "" { // schemes are case-insensitive (RFC 9110)
		return "", unauthorized("malformed_key", "Authorization must be Bearer <key>")
	}
	return token, nil
}

// workspaceKey returns the live key ws/id whose secret hashes to hash.
// Every key read starts with the workspace the key names.
func (s *server) workspaceKey(ctx context.Context, ws, id string, hash []byte) (*vigie.APIKey, error) {
	k, err := s.Store.GetAPIKey(ctx, ws, id)
	if vigie.IsKind(err, vigie.KindNotFound) || vigie.IsKind(err, vigie.KindInvalid) {
		return nil, unauthorized("bad_key", "unknown or wrong key")
	}
	if err != nil {
		return nil, err
	}
	if subtle.ConstantTimeCompare(k.Hash, hash) != 1 || k.Workspace != ws || k.ID != id {
		return nil, unauthorized("bad_key", "unknown or wrong key")
	}
	// Said only to whoever holds the secret.
	if k.RevokedAt != nil {
		return nil, unauthorized("revoked_key", "this key was revoked")
	}
	return k, nil
}

// Workspace API keys read "vk_<workspace>_<key id>_<secret>". Workspace ids
// and key ids never hold '_', so the secret (base64url, which may) is what
// remains after the third one. Only SHA-256 of the secret is stored: it has
// 256 random bits, so a slow hash would add nothing.
const (
	keyPrefix    = "vk"
	keyIDLen     = 16 // 10 random bytes in base32
	keySecretLen = 43 // 32 random bytes in unpadded base64url
)

var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// newKey returns a new key for workspace: its id, the full key to show
// once, and the hash to store.
func newKey(workspace string) (id, full string, hash []byte) {
	idBytes, secret := make([]byte, 10), make([]byte, 32)
	_, _ = rand.Read(idBytes) // never fails (crypto/rand, Go 1.24+)
	_, _ = rand.Read(secret)
	id = idEncoding.EncodeToString(idBytes)
	s := base64.RawURLEncoding.EncodeToString(secret)
	sum := sha256.Sum256([]byte(s))
	return id, keyPrefix + "_" + workspace + "_" + id + "_" + s, sum[:]
}

// validKeyID reports whether id has the shape newKey gives key ids.
func validKeyID(id string) bool {
	if len(id) != keyIDLen {
		return false
	}
	_, err := idEncoding.DecodeString(id)
	return err == nil
}

// parseKey splits a presented key. ok is false for anything malformed.
func parseKey(key string) (workspace, id string, hash []byte, ok bool) {
	parts := strings.SplitN(key, "_", 4)
	if len(parts) != 4 || parts[0] != keyPrefix || !vigie.ValidID(parts[1]) || !validKeyID(parts[2]) || len(parts[3]) != keySecretLen {
		return "", "", nil, false
	}
	sum := sha256.Sum256([]byte(parts[3]))
	return parts[1], parts[2], sum[:], true
}

// equalSecret compares two secrets in constant time, whatever their
// lengths: it compares their hashes, which have one length.
func equalSecret(a, b string) bool {
	ha, hb := sha256.Sum256([]byte(a)), sha256.Sum256([]byte(b))
	return subtle.ConstantTimeCompare(ha[:], hb[:]) == 1
}
