package platform

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"

	"vigie/internal/vigie"
)

// SignatureEncoding is how a webhook's signature header writes its HMAC.
type SignatureEncoding int

// Encodings: Meta writes lowercase hex, X base64.
const (
	Hex SignatureEncoding = iota
	Base64
)

// VerifySHA256Signature checks a webhook signature header of the form
// "sha256=" and the HMAC-SHA256 of the raw body keyed with secret, in enc.
// body must be the bytes as received; name is the header's, for errors.
//
// Errors: vigie Unauthorized when the header is missing, malformed or
// wrong, or there is no secret to check it with.
func VerifySHA256Signature(secret []byte, name, header string, body []byte, enc SignatureEncoding) error {
	sig, ok := strings.CutPrefix(strings.TrimSpace(header), "sha256=")
	if !ok {
		if header == "" {
			return vigie.Errorf(vigie.KindUnauthorized, "the %s header is missing", name)
		}
		return vigie.Errorf(vigie.KindUnauthorized, "the %s header must start with sha256=", name)
	}
	decode, encName := hex.DecodeString, "hex"
	if enc == Base64 {
		decode, encName = base64.StdEncoding.DecodeString, "base64"
	}
	got, err := decode(sig)
	if err != nil || len(got) != sha256.Size {
		return vigie.Errorf(vigie.KindUnauthorized, "the %s header is not a %s SHA-256", name, encName)
	}
	if len(secret) == 0 {
		return vigie.Errorf(vigie.KindUnauthorized, "no secret to check the %s signature with", name)
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	if !hmac.Equal(got, mac.Sum(nil)) {
		return vigie.Errorf(vigie.KindUnauthorized, "the %s signature does not match", name)
	}
	return nil
}
