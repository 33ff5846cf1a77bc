// Package platform holds what every platform package (meta, x, youtube,
// mastodon, bluesky, feeds) shares: the changes a webhook delivery or a poll
// yields, the errors a platform API answers with (rate limits first), and
// the bounds of one poll. The platform packages turn their API's shapes
// into these and know nothing of workspaces, stores or buses.
package platform

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"vigie/internal/vigie"
)

// Platform names, as stored in vigie.Mention.Platform and Channel.Platform.
const (
	Facebook  = "facebook"
	Instagram = "instagram"
	X         = "x"
	YouTube   = "youtube"
	Mastodon  = "mastodon"
	Bluesky   = "bluesky"
	Web       = "web" // articles from RSS/Atom feeds and alerts
)

// Op is what a change does to a mention.
type Op string

// Ops.
const (
	OpNew    Op = "new"    // a mention, possibly seen before (redeliveries are normal)
	OpEdit   Op = "edit"   // the author changed the text
	OpRemove Op = "remove" // the mention was deleted on the platform
)

// Change is one thing a webhook delivery or a poll tells. Mention carries
// the platform's fields: Platform, ExternalID and, as known, Kind,
// ParentID, ThreadID, Author, Text, URL, CreatedAt, Metrics. Workspace,
// ID, Channel, analysis and watches are the caller's to fill.
type Change struct {
	Op Op
	// Account is the platform account the change was delivered for (a Page
	// id, an Instagram account id, an X user id): it routes an app-level
	// webhook to the channel, hence the workspace.
	Account string
	Mention *vigie.Mention
	// Thin is set when the platform sent ids only (Instagram mentions):
	// the text must be fetched through the API before the mention is
	// stored.
	Thin bool
}

// Limits bound one poll of one source.
type Limits struct {
	MaxPages int // default DefaultMaxPages
	PageSize int // the platform's maximum when 0
}

// DefaultMaxPages is how many pages one poll reads at most: a source that
// has more new items than that catches up over the next runs, since its
// cursor only moves past what was read.
const DefaultMaxPages = 5

// Pages returns l.MaxPages or its default.
func (l Limits) Pages() int {
	if l.MaxPages <= 0 {
		return DefaultMaxPages
	}
	return l.MaxPages
}

// Size returns l.PageSize bounded to a platform's largest page, or that
// largest page when 0.
func (l Limits) Size(largest int) int {
	if l.PageSize <= 0 || l.PageSize > largest {
		return largest
	}
	return l.PageSize
}

// PollResult is what one poll of one source brought.
type PollResult struct {
	Changes []Change
	// Cursor is the source's new position, to be stored and given to the
	// next poll. It is opaque to the caller. The caller must store it only
	// after the changes are safely ingested.
	Cursor string
	// Requests is how many HTTP requests the poll made.
	Requests int
	// More reports that the page bound stopped the poll before the end.
	More bool
}

// RateLimitError says that the platform refused for now: the source must
// not be polled again before Reset.
type RateLimitError struct {
	Platform string
	Reset    time.Time
}

func (e *RateLimitError) Error() string {
	return fmt.Sprintf("%s: rate limited until %s", e.Platform, e.Reset.UTC().Format(time.RFC3339))
}

// APIError is a platform's refusal, with what can be shown of it: the
// status, the platform's own error code, and its message (platform
// messages never hold our tokens; they are still cut to a few hundred
// bytes).
type APIError struct {
	Platform string
	Status   int
	Code     string // the platform's error name or number, e.g. "190", "ExpiredToken"
	Message  string
	// Auth is set when the credentials are invalid or expired: polling the
	// source again will not help until they are replaced.
	Auth bool
	// Retryable is set for transient failures (5xx, network).
	Retryable bool
}

func (e *APIError) Error() string {
	msg := fmt.Sprintf("%s: HTTP %d", e.Platform, e.Status)
	if e.Code != "" {
		msg += " " + e.Code
	}
	if e.Message != "" {
		m := e.Message
		if len(m) > 300 {
			m = m[:300] + "…"
		}
		msg += ": " + m
	}
	return msg
}

// IsAuth reports whether err says the credentials must be replaced.
func IsAuth(err error) bool {
	var e *APIError
	return errors.As(err, &e) && e.Auth
}

// ResetAt parses a rate-limit reset header: unix seconds (X, Bluesky) or an
// ISO 8601 time (Mastodon). ok is false when v is neither.
func ResetAt(v string) (t time.Time, ok bool) {
	if v == "" {
		return time.Time{}, false
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil && n > 0 {
		return time.Unix(n, 0).UTC(), true
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.000000Z"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// RetryAfter parses a Retry-After header (seconds or an HTTP date) into
// the time to wait until, from now.
func RetryAfter(h http.Header, now time.Time) (time.Time, bool) {
	v := h.Get("Retry-After")
	if v == "" {
		return time.Time{}, false
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return now.Add(time.Duration(n) * time.Second), true
	}
	if t, err := http.ParseTime(v); err == nil {
		return t, true
	}
	return time.Time{}, false
}

// MaxResponseBytes bounds what is read of one API response.
const MaxResponseBytes = 8 << 20

// Response is an API answer read whole.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Do sends req with hc and reads the answer, at most MaxResponseBytes. A
// transport failure becomes a retryable APIError of platform; any HTTP
// status is returned as is, for the platform package to interpret. The
// error never includes the request's URL, which may carry a token.
func Do(hc *http.Client, platform string, req *http.Request) (*Response, error) {
	if hc == nil {
		hc = http.DefaultClient
	}
	res, err := hc.Do(req)
	if err != nil {
		if req.Context().Err() != nil {
			return nil, req.Context().Err()
		}
		var ue interface{ Unwrap() error }
		if errors.As(err, &ue) && ue.Unwrap() != nil {
			err = ue.Unwrap() // *url.Error: drop the URL
		}
		return nil, &APIError{Platform: platform, Message: err.Error(), Retryable: true}
	}
	defer res.Body.Close()
	body, err := readAll(res.Body, MaxResponseBytes)
	if err != nil {
		return nil, &APIError{Platform: platform, Status: res.StatusCode, Message: "reading the response: " + err.Error(), Retryable: true}
	}
	return &Response{Status: res.StatusCode, Header: res.Header, Body: body}, nil
}
