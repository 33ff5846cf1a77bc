// Package cursor makes the opaque, tamper-proof pagination tokens that the
// store drivers hand out. A token carries a position (where the previous
// page stopped) and is signed with HMAC-SHA256 over that position and a
// scope (which workspace and which query it belongs to). The scope is not
// in the token: Decode recomputes the signature with the caller's scope, so
// a token replayed for another workspace or another query fails exactly as a
// forged one does.
package cursor

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
)

const (
	version = 1
	macSize = 16 // truncated HMAC-SHA256: 128 bits is plenty against forgery
	// MaxLen bounds the tokens Decode looks at, so that an attacker cannot
	// make the store hash megabytes.
	MaxLen = 1024
)

// domain separates these signatures from any other use of the same key.
const domain = "vigie/cursor/v1"

// ErrInvalid is returned by Decode for any token it did not issue for the
// given scope. It says nothing more on purpose.
var ErrInvalid = errors.New("cursor: invalid token")

// Codec signs and checks tokens with one key.
type Codec struct{ key []byte }

// New returns a Codec signing with key, which must not be empty. Use 32
// random bytes: anyone who knows the key can forge positions.
func New(key []byte) (*Codec, error) {
	if len(key) == 0 {
		return nil, errors.New("cursor: empty key")
	}
	return &Codec{key: append([]byte(nil), key...)}, nil
}

// encoding is strict so that no two strings decode to the same bytes: any
// changed character is a changed token.
var encoding = base64.RawURLEncoding.Strict()

// Encode returns the token for position within scope.
func (c *Codec) Encode(scope, position string) string {
	b := make([]byte, 0, 1+len(position)+macSize)
	b = append(b, version)
	b = append(b, position...)
	b = append(b, c.mac(scope, position)...)
	return encoding.EncodeToString(b)
}

// Decode returns the position in token if this codec issued it for scope,
// and ErrInvalid otherwise.
func (c *Codec) Decode(scope, token string) (string, error) {
	if len(token) > MaxLen {
		return "", ErrInvalid
	}
	b, err := encoding.DecodeString(token)
	if err != nil || len(b) < 1+macSize || b[0] != version {
		return "", ErrInvalid
	}
	position := string(b[1 : len(b)-macSize])
	if !hmac.Equal(b[len(b)-macSize:], c.mac(scope, position)) {
		return "", ErrInvalid
	}
	return position, nil
}

func (c *Codec) mac(scope, position string) []byte {
	h := hmac.New(sha256.New, c.key)
	// Length prefixes keep (scope, position) pairs unambiguous whatever
	// bytes they hold.
	var n [binary.MaxVarintLen64]byte
	h.Write([]byte(domain))
	h.Write(n[:binary.PutUvarint(n[:], uint64(len(scope)))])
	h.Write([]byte(scope))
	h.Write(n[:binary.PutUvarint(n[:], uint64(len(position)))])
	h.Write([]byte(position))
	return h.Sum(nil)[:macSize]
}
