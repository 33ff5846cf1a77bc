// Package meta receives Meta's webhooks for Facebook Pages (field feed)
// and Instagram professional accounts (fields comments, live_comments and
// mentions) and completes thin Instagram mentions through the Graph API.
// It verifies the subscription handshake and the X-Hub-Signature-256 of
// deliveries, and turns a delivery into platform changes, each tagged with
// the Page or Instagram account it is for, so that one app-level endpoint
// serves every client.
package meta

import (
	"crypto/subtle"
	"net/url"

	"vigie/internal/platform"
	"vigie/internal/vigie"
)

// VerifyChallenge checks Meta's subscription handshake (GET
// ?hub.mode=subscribe&hub.challenge=…&hub.verify_token=…) and returns the
// challenge, to be echoed as the text/plain body of a 200.
//
// Errors: vigie Invalid when the mode is not subscribe or the challenge is
// missing; vigie Forbidden when the verify token does not match.
func VerifyChallenge(q url.Values, verifyToken string) (string, error) {
	if q.Get("hub.mode") != "subscribe" {
		return "", vigie.Invalidf("hub.mode", "hub.mode must be subscribe")
	}
	challenge := q.Get("hub.challenge")
	if challenge == "" {
		return "", vigie.Invalidf("hub.challenge", "hub.challenge is missing")
	}
	// An unset verify token must not let an empty hub.verify_token in.
	if verifyToken == "" || subtle.ConstantTimeCompare([]byte(q.Get("hub.verify_token")), []byte(verifyToken)) != 1 {
		return "", vigie.Errorf(vigie.KindForbidden, "the verify token does not match")
	}
	return challenge, nil
}

// VerifySignature checks the X-Hub-Signature-256 header of a delivery
// ("sha256=" and the lowercase hex HMAC-SHA256 of the raw body, keyed with
// the app secret). body must be the bytes as received.
//
// Errors: vigie Unauthorized when the header is missing, malformed or
// wrong.
func VerifySignature(appSecret []byte, header string, body []byte) error {
	return platform.VerifySHA256Signature(appSecret, "X-Hub-Signature-256", header, body, platform.Hex)
}
