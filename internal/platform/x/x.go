// Package x receives X's Account Activity webhooks and polls an account's
// mentions through the API v2, for when webhooks are not available. It
// answers the CRC challenge, verifies x-twitter-webhooks-signature, turns
// tweet_create_events into mentions and replies of the subscribed account
// (its own posts are not mentions) and tweet_delete_events into removals,
// and polls GET /2/users/:id/mentions with a cursor that neither skips nor
// repeats a post.
package x

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"

	"vigie/internal/platform"
	"vigie/internal/vigie"
)

// CRCResponse is the JSON body answering X's challenge-response check
// (GET ?crc_token=…): {"response_token":"sha256=<base64 HMAC-SHA256 of
// the token, keyed with the consumer secret>"}.
//
// Errors: vigie Invalid when crcToken is empty.
func CRCResponse(consumerSecret []byte, crcToken string) ([]byte, error) {
	if crcToken == "" {
		return nil, vigie.Invalidf("crc_token", "crc_token is missing")
	}
	if len(consumerSecret) == 0 {
		return nil, vigie.Errorf(vigie.KindInternal, "no consumer secret to answer the CRC check with")
	}
	body, err := json.Marshal(struct {
		ResponseToken string `json:"response_token"`
	}{"sha256=" + sign(consumerSecret, []byte(crcToken))})
	if err != nil {
		return nil, err
	}
	return body, nil
}

// VerifySignature checks the x-twitter-webhooks-signature header of a
// delivery ("sha256=" and the base64 HMAC-SHA256 of the raw body, keyed
// with the consumer secret). body must be the bytes as received.
//
// Errors: vigie Unauthorized when the header is missing, malformed or
// wrong.
func VerifySignature(consumerSecret []byte, header string, body []byte) error {
	return platform.VerifySHA256Signature(consumerSecret, "x-twitter-webhooks-signature", header, body, platform.Base64)
}

func sign(key, msg []byte) string {
	mac := hmac.New(sha256.New, key)
	mac.Write(msg)
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}
