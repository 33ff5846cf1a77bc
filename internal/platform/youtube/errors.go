package youtube

import (
	"encoding/json"
	"net/http"
	"time"

	"vigie/internal/platform"
)

// googleError is Google's JSON error body.
type googleError struct {
	Error struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
		Status  string `json:"status"`
		Errors  []struct {
			Message string `json:"message"`
			Domain  string `json:"domain"`
			Reason  string `json:"reason"`
		} `json:"errors"`
		Details []struct {
			Type   string `json:"@type"`
			Reason string `json:"reason"`
		} `json:"details"`
	} `json:"error"`
}

// reasons returns the error's reasons: errors[].reason first, then the
// newer details[].reason (e.g. API_KEY_INVALID).
func (g *googleError) reasons() []string {
	var rs []string
	for _, e := range g.Error.Errors {
		if e.Reason != "" {
			rs = append(rs, e.Reason)
		}
	}
	for _, d := range g.Error.Details {
		if d.Reason != "" {
			rs = append(rs, d.Reason)
		}
	}
	return rs
}

// responseError turns a non-2xx answer into the error the watch acts on:
// a *platform.RateLimitError (quota spent until the Pacific midnight, or a
// short-term rate limit), or a *platform.APIError.
func responseError(res *platform.Response, now time.Time) error {
	var g googleError
	_ = json.Unmarshal(res.Body, &g) // a proxy's HTML error page leaves g empty
	rs := g.reasons()
	has := func(names ...string) bool {
		for _, r := range rs {
			for _, n := range names {
				if r == n {
					return true
				}
			}
		}
		return false
	}
	switch {
	case has("quotaExceeded", "dailyLimitExceeded"):
		// Not transient: the project's daily quota is spent until it
		// resets at midnight Pacific time.
		return &platform.RateLimitError{Platform: platform.YouTube, Reset: nextPacificMidnight(now)}
	case has("rateLimitExceeded", "userRateLimitExceeded", "RATE_LIMIT_EXCEEDED") || res.Status == http.StatusTooManyRequests:
		reset, ok := platform.RetryAfter(res.Header, now)
		if !ok {
			reset = now.Add(time.Minute)
		}
		return &platform.RateLimitError{Platform: platform.YouTube, Reset: reset}
	}
	e := &platform.APIError{Platform: platform.YouTube, Status: res.Status, Message: plainText(g.Error.Message)}
	if len(rs) > 0 {
		e.Code = rs[0]
	} else if g.Error.Status != "" {
		e.Code = g.Error.Status
	}
	switch {
	case res.Status == http.StatusUnauthorized || has("authError", "keyInvalid", "API_KEY_INVALID", "insufficientPermissions", "ACCESS_TOKEN_SCOPE_INSUFFICIENT"):
		e.Auth = true
	case res.Status >= 500:
		e.Retryable = true
	}
	return e
}

// nextPacificMidnight is when the YouTube quota resets after now. Without
// the time zone database (a Lambda image may lack it) it falls back to
// UTC-8, Pacific standard time: in summer that is one hour after the real
// reset, late rather than early, so no request is wasted.
func nextPacificMidnight(now time.Time) time.Time {
	loc, err := time.LoadLocation("America/Los_Angeles")
	if err != nil {
		loc = time.FixedZone("PST", -8*60*60)
	}
	t := now.In(loc)
	return time.Date(t.Year(), t.Month(), t.Day()+1, 0, 0, 0, 0, loc).UTC()
}
