package api

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/base64"
	"strings"

	"vigie/internal/vigie"
)

// API keys read "vk_<workspace>_<key id>_<secret>". Workspace ids and key
// ids never hold '_', so the secret (base64url, which may) is what remains
// after the third one. Only SHA-256 of the secret is stored: the secret has
// 256 random bits, so a slow hash would add nothing.
const keyPrefix = "vk"

var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// newKey returns a new key for workspace: the stored record and the full
// key to show once.
func newKey(workspace string) (id, full string, hash []byte) {
	idBytes := make([]byte, 10)
	secret := make([]byte, 32)
	_, _ = rand.Read(idBytes)
	_, _ = rand.Read(secret)
	id = idEncoding.EncodeToString(idBytes)
	s := base64.RawURLEncoding.EncodeToString(secret)
	sum := sha256.Sum256([]byte(s))
	return id, keyPrefix + "_" + workspace + "_" + id + "_" + s, sum[:]
}

// parseKey splits a presented key. ok is false for anything malformed.
func parseKey(key string) (workspace, id string, hash []byte, ok bool) {
	parts := strings.SplitN(key, "_", 4)
	if len(parts) != 4 || parts[0] != keyPrefix || !vigie.ValidID(parts[1]) || len(parts[2]) != 16 || len(parts[3]) != 43 {
		return "", "", nil, false
	}
	if _, err := idEncoding.DecodeString(parts[2]); err != nil {
		return "", "", nil, false
	}
	sum := sha256.Sum256([]byte(parts[3]))
	return parts[1], parts[2], sum[:], true
}

// equalSecret compares two secrets in constant time, whatever their lengths.
func equalSecret(a, b string) bool {
	ha, hb := sha256.Sum256([]byte(a)), sha256.Sum256([]byte(b))
	return subtle.ConstantTimeCompare(ha[:], hb[:]) == 1
}
