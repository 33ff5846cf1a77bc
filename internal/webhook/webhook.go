// Package webhook signs and verifies Standard Webhooks deliveries
// (webhook-id, webhook-timestamp, webhook-signature: v1,<base64 HMAC-SHA256>).
// Vigie verifies them on its generic ingest route and signs them for its own
// outbound webhooks and for the sample sender.
package webhook

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"vigie/internal/vigie"
)

// Header names of the Standard Webhooks spec.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// DefaultTolerance is how far a delivery's timestamp may be from now, either
// way, as in the spec's reference libraries.
const DefaultTolerance = 5 * time.Minute

const secretPrefix = "whsec_"

// Secret is a signing key. Its String and LogValue never show it.
type Secret []byte

// ParseSecret decodes a "whsec_<base64>" secret (the prefix is optional).
func ParseSecret(s string) (Secret, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(s, secretPrefix))
	if err != nil || len(key) == 0 {
		return nil, vigie.Errorf(vigie.KindInvalid, "webhook secret is not whsec_ followed by base64")
	}
	return Secret(key), nil
}

// NewSecret returns a fresh random 32-byte secret.
func NewSecret() Secret {
	key := make([]byte, 32)
	_, _ = rand.Read(key) // never fails (crypto/rand documents it)
	return key
}

// Encode returns the secret in its "whsec_<base64>" shareable form.
func (s Secret) Encode() string { return secretPrefix + base64.StdEncoding.EncodeToString(s) }

// String hides the secret.
func (s Secret) String() string { return "[secret]" }

// LogValue hides the secret from slog.
func (s Secret) LogValue() slog.Value { return slog.StringValue("[secret]") }

// Sign returns the webhook-signature header value for a delivery.
func Sign(secret Secret, id string, ts time.Time, body []byte) string {
	return "v1," + base64.StdEncoding.EncodeToString(mac(secret, id, strconv.FormatInt(ts.Unix(), 10), body))
}

// Headers returns the three headers that sign body for delivery id at ts.
func Headers(secret Secret, id string, ts time.Time, body []byte) http.Header {
	h := http.Header{}
	h.Set(HeaderID, id)
	h.Set(HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10))
	h.Set(HeaderSignature, Sign(secret, id, ts, body))
	return h
}

func mac(secret Secret, id, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(id))
	m.Write([]byte{'.'})
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// Verify checks a delivery's headers against body, the exact bytes received.
// It accepts the delivery when its timestamp is within tolerance of now and
// any v1 signature in the header matches (several are sent during key
// rotation). It returns the webhook id. Every failure is Unauthorized, with a
// message that tells what is wrong but never the expected signature.
func Verify(secret Secret, h http.Header, body []byte, now time.Time, tolerance time.Duration) (string, error) {
	id, tsText, sigs := h.Get(HeaderID), h.Get(HeaderTimestamp), h.Get(HeaderSignature)
	switch {
	case id == "":
		return "", unauthorized("missing_signature", "missing webhook-id header")
	case tsText == "":
		return "", unauthorized("missing_signature", "missing webhook-timestamp header")
	case sigs == "":
		return "", unauthorized("missing_signature", "missing webhook-signature header")
	case strings.Contains(id, ".") || len(id) > 256:
		return "", unauthorized("bad_signature", "webhook-id must be at most 256 characters without '.'")
	}
	secs, err := strconv.ParseInt(tsText, 10, 64)
	if err != nil || tsText[0] == '+' || tsText[0] == '-' {
		return "", unauthorized("bad_timestamp", "webhook-timestamp is not unix seconds")
	}
	ts := time.Unix(secs, 0)
	if ts.Before(now.Add(-tolerance)) || ts.After(now.Add(tolerance)) {
		return "", unauthorized("stale_timestamp", "webhook-timestamp is too far from now")
	}
	want := mac(secret, id, tsText, body)
	for _, sig := range strings.Fields(sigs) {
		version, value, ok := strings.Cut(sig, ",")
		if !ok || version != "v1" {
			continue
		}
		got, err := base64.StdEncoding.DecodeString(value)
		if err == nil && hmac.Equal(got, want) {
			return id, nil
		}
	}
	return "", unauthorized("bad_signature", "no webhook-signature matches")
}

func unauthorized(code, msg string) error {
	return &vigie.Error{Kind: vigie.KindUnauthorized, Code: code, Message: msg}
}
