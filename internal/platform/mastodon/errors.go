package mastodon

import (
	"encoding/json"
	"net/http"
	"strings"

	"vigie/internal/platform"
)

// responseError turns a non-200 answer into the error the watch acts on:
// a *platform.RateLimitError for 429, a *platform.APIError otherwise. The
// HTTP status is Mastodon's signal; the body's error only explains it.
func (c *Client) responseError(res *platform.Response) error {
	now := c.now()
	if res.Status == http.StatusTooManyRequests {
		reset, ok := platform.ResetAt(res.Header.Get("X-RateLimit-Reset"))
		if !ok {
			reset, ok = platform.RetryAfter(res.Header, now)
		}
		if !ok {
			reset = now.Add(DefaultRateLimitWait)
		}
		return &platform.RateLimitError{Platform: platform.Mastodon, Reset: reset}
	}
	var body errorJSON
	_ = json.Unmarshal(res.Body, &body) // a proxy's HTML error page leaves it empty
	msg := body.Error
	if body.Description != "" && body.Description != msg {
		if msg != "" {
			msg += ": "
		}
		msg += body.Description
	}
	if c.Token != "" {
		// Mastodon does not echo tokens; a proxy in front of it might.
		msg = strings.ReplaceAll(msg, c.Token, "[token]")
	}
	e := &platform.APIError{Platform: platform.Mastodon, Status: res.Status, Message: msg}
	switch {
	case res.Status == http.StatusUnauthorized || res.Status == http.StatusForbidden:
		// 401: token invalid or revoked; 403: scope missing, account
		// disabled, suspended or unconfirmed. Either way a person must act.
		e.Auth = true
	case res.Status == http.StatusUnprocessableEntity && strings.Contains(body.Error, "requires an authenticated user"):
		// A hashtag timeline the instance shows to signed-in users only.
		e.Auth = true
	case res.Status >= 500:
		e.Retryable = true
	}
	return e
}

// errorJSON is Mastodon's Error entity.
type errorJSON struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
}
