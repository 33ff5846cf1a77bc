package bluesky

import (
	"encoding/json"
	"net/http"
	"time"

	"vigie/internal/platform"
)

// xrpcError is the XRPC error body: {"error":"<Name>","message":"<text>"}.
type xrpcError struct {
	Error   string `json:"error"`
	Message string `json:"message"`
}

// parseError reads an XRPC error body; a body that is not one (a proxy's
// HTML page) gives an empty error.
func parseError(body []byte) xrpcError {
	var e xrpcError
	if json.Unmarshal(body, &e) != nil {
		return xrpcError{}
	}
	return e
}

// authCodes are the error names that say the credentials or the session
// are refused.
var authCodes = map[string]bool{
	"AuthenticationRequired":  true,
	"ExpiredToken":            true,
	"InvalidToken":            true,
	"AccountTakedown":         true,
	"AuthFactorTokenRequired": true,
}

// sessionRefused reports whether an answer says the session's token is
// expired or no longer accepted, which a new session may cure.
func sessionRefused(res *platform.Response) bool {
	if res.Status == http.StatusUnauthorized {
		return true
	}
	switch parseError(res.Body).Error {
	case "ExpiredToken", "InvalidToken":
		return true
	}
	return false
}

// defaultRateLimitWait is how long a 429 without a usable reset header
// holds the source.
const defaultRateLimitWait = time.Minute

// responseError turns a non-2xx answer into the error the watch acts on: a
// *platform.RateLimitError, or a *platform.APIError with the XRPC error
// name and message (Auth for refused credentials or tokens, Retryable for
// 5xx).
func responseError(res *platform.Response, now time.Time) error {
	xe := parseError(res.Body)
	if res.Status == http.StatusTooManyRequests || xe.Error == "RateLimitExceeded" {
		reset, ok := platform.ResetAt(res.Header.Get("RateLimit-Reset"))
		if !ok || !reset.After(now) {
			// A reset already past (clocks differ) would have the source
			// polled again at once, into the same refusal.
			reset, ok = platform.RetryAfter(res.Header, now)
		}
		if !ok || !reset.After(now) {
			reset = now.Add(defaultRateLimitWait)
		}
		return &platform.RateLimitError{Platform: platform.Bluesky, Reset: reset}
	}
	e := &platform.APIError{Platform: platform.Bluesky, Status: res.Status, Code: xe.Error, Message: xe.Message}
	switch {
	case res.Status == http.StatusUnauthorized || authCodes[xe.Error]:
		e.Auth = true
	case res.Status >= 500:
		e.Retryable = true
	}
	return e
}

// loginError is responseError for createSession, where any refusal but a
// rate limit or a server failure says the identifier or app password must
// be fixed (400 InvalidRequest for a malformed identifier, 401 for a wrong
// password, AccountTakedown).
func loginError(res *platform.Response, now time.Time) error {
	err := responseError(res, now)
	if e, ok := err.(*platform.APIError); ok && res.Status >= 400 && res.Status < 500 {
		e.Auth = true
	}
	return err
}
