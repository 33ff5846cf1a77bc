// Package feeds polls RSS and Atom feeds — Google Alerts and Talkwalker
// Alerts among them — for articles: conditional GET (ETag and
// Last-Modified), RSS 2.0, RSS 1.0 and Atom 1.0 parsing, Google's redirect
// links unwrapped to the article's URL, and a cursor holding the entries
// already returned, since alert feeds only keep their last few entries and
// have no other position to resume from.
package feeds

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"vigie/internal/platform"
	"vigie/internal/vigie"
)

// Bounds.
const (
	// MaxEntries is how many new entries one fetch returns at most; a
	// feed with more gives the rest at the next fetches.
	MaxEntries = 500
	// MaxSeen is how many entry keys the cursor remembers (an entry has
	// one or two: its id and its link), so that a feed keeping its last
	// few hundred entries never yields one twice.
	MaxSeen = 1000
	// MaxRedirects is how many redirects a fetch follows.
	MaxRedirects = 5
)

// DefaultUserAgent is sent when Client.UserAgent is empty: some feed
// hosts refuse Go's default.
const DefaultUserAgent = "Vigie/1.0 (feed reader)"

// rateLimitWait is how long a feed that answered 429 without Retry-After
// is left alone.
const rateLimitWait = time.Minute

// Client fetches feeds.
type Client struct {
	HTTP      *http.Client // http.DefaultClient when nil
	Now       func() time.Time
	UserAgent string
}

func (c *Client) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// httpClient is c.HTTP bounded to MaxRedirects when it sets no redirect
// policy of its own.
func (c *Client) httpClient() *http.Client {
	hc := http.DefaultClient
	if c.HTTP != nil {
		hc = c.HTTP
	}
	if hc.CheckRedirect != nil {
		return hc
	}
	cp := *hc
	cp.CheckRedirect = func(_ *http.Request, via []*http.Request) error {
		if len(via) > MaxRedirects {
			return fmt.Errorf("stopped after %d redirects", MaxRedirects)
		}
		return nil
	}
	return &cp
}

// cursorState is the cursor's content.
type cursorState struct {
	ETag         string `json:"etag,omitempty"`
	LastModified string `json:"last_modified,omitempty"`
	// Seen holds digests of the keys (ids and links) of the entries
	// returned, oldest first.
	Seen []string `json:"seen,omitempty"`
}

func decodeCursor(s string) (cursorState, error) {
	var c cursorState
	if s == "" {
		return c, nil
	}
	if err := json.Unmarshal([]byte(s), &c); err != nil {
		return c, vigie.Invalidf("cursor", "feed cursor is malformed")
	}
	return c, nil
}

func (c cursorState) encode() string {
	b, _ := json.Marshal(c)
	return string(b)
}

// digest keeps the cursor small whatever the ids' and links' length.
func digest(key string) string {
	sum := sha256.Sum256([]byte(key))
	return base64.RawURLEncoding.EncodeToString(sum[:12])
}

// Fetch reads the feed at feedURL and returns the entries not returned
// before, in the feed's order, as OpNew changes of article mentions on
// platform "web". The feed's validators from cursor make the request
// conditional: a 304 returns no change and the same cursor. limits is
// unused but for its type: a feed is one document.
//
// Errors: vigie Invalid for a bad URL or cursor, or a document that is not
// a feed; *platform.RateLimitError for 429, or 503 with Retry-After;
// *platform.APIError otherwise (404 and 410 final, 5xx Retryable).
func (c *Client) Fetch(ctx context.Context, feedURL, cursor string, limits platform.Limits) (platform.PollResult, error) {
	_ = limits
	var res platform.PollResult
	u, err := url.Parse(feedURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return res, vigie.Invalidf("feed_url", "feed URL must be an absolute http or https URL")
	}
	cur, err := decodeCursor(cursor)
	if err != nil {
		return res, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return res, vigie.Invalidf("feed_url", "feed URL is malformed")
	}
	ua := c.UserAgent
	if ua == "" {
		ua = DefaultUserAgent
	}
	req.Header.Set("User-Agent", ua)
	req.Header.Set("Accept", "application/atom+xml, application/rss+xml, application/rdf+xml;q=0.9, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.1")
	if cur.ETag != "" {
		req.Header.Set("If-None-Match", cur.ETag)
	}
	if cur.LastModified != "" {
		req.Header.Set("If-Modified-Since", cur.LastModified)
	}
	resp, err := platform.Do(c.httpClient(), platform.Web, req)
	res.Requests = 1
	if err != nil {
		return res, err
	}
	now := c.now()
	switch {
	case resp.Status == http.StatusNotModified, resp.Status == http.StatusNoContent:
		res.Cursor = cursor
		if cursor == "" {
			res.Cursor = cur.encode()
		}
		return res, nil
	case resp.Status >= 200 && resp.Status < 300:
	default:
		return res, responseError(resp, now)
	}
	feed, err := Parse(resp.Body, u)
	if err != nil {
		return res, err
	}
	seen := make(map[string]bool, len(cur.Seen))
	for _, d := range cur.Seen {
		seen[d] = true
	}
	// present are the digests of the entries the document holds, newest
	// first as feeds list them.
	var present []string
	for _, ch := range feed.Changes(now) {
		m := ch.Mention
		keys := []string{digest(m.ExternalID)}
		if m.URL != "" && m.URL != m.ExternalID {
			// The same article under a new entry id (an alert matching
			// it again) is not new either.
			keys = append(keys, digest(m.URL))
		}
		old := false
		for _, k := range keys {
			old = old || seen[k]
		}
		if !old {
			if len(res.Changes) == MaxEntries {
				res.More = true
				continue
			}
			res.Changes = append(res.Changes, ch)
		}
		for _, k := range keys {
			seen[k] = true
			present = append(present, k)
		}
	}
	next := cursorState{ETag: resp.Header.Get("ETag"), LastModified: resp.Header.Get("Last-Modified")}
	if res.More {
		// The document must be read again whole: a conditional request
		// would answer 304 and hide the entries left.
		next.ETag, next.LastModified = "", ""
	}
	next.Seen = remember(cur.Seen, present)
	res.Cursor = next.encode()
	return res, nil
}

// remember returns old with present moved to the end (the feed's newest
// entry last), cut to the MaxSeen newest.
func remember(old, present []string) []string {
	in := make(map[string]bool, len(present))
	for _, k := range present {
		in[k] = true
	}
	out := make([]string, 0, len(old)+len(present))
	for _, k := range old {
		if !in[k] {
			out = append(out, k)
		}
	}
	for i := len(present) - 1; i >= 0; i-- {
		if in[present[i]] {
			out = append(out, present[i])
			delete(in, present[i])
		}
	}
	if len(out) > MaxSeen {
		out = out[len(out)-MaxSeen:]
	}
	return out
}

// responseError classifies a feed host's refusal.
func responseError(resp *platform.Response, now time.Time) error {
	reset, hasRetry := platform.RetryAfter(resp.Header, now)
	switch {
	case resp.Status == http.StatusTooManyRequests:
		if !hasRetry {
			reset = now.Add(rateLimitWait)
		}
		return &platform.RateLimitError{Platform: platform.Web, Reset: reset}
	case resp.Status == http.StatusServiceUnavailable && hasRetry:
		return &platform.RateLimitError{Platform: platform.Web, Reset: reset}
	}
	e := &platform.APIError{Platform: platform.Web, Status: resp.Status, Message: "the feed URL answered " + http.StatusText(resp.Status)}
	switch {
	case resp.Status == http.StatusNotFound, resp.Status == http.StatusGone:
		e.Message = "the feed does not exist (any more): check its URL"
	case resp.Status >= 500:
		e.Retryable = true
	case resp.Status >= 300 && resp.Status < 400:
		e.Message = "the feed URL redirects without a usable location"
	}
	return e
}
