// Package bluesky polls Bluesky (the AT Protocol's app view, through the
// account's PDS) for what a watch needs, since Bluesky has no webhooks:
// the notifications of a connected account (mentions, replies, quotes) and
// post searches for watched terms. It signs in with an app password,
// shares one session between all the polls of a Client, turns
// notifications and posts into platform changes, and keeps opaque cursors
// so that, across polls, no item is returned twice and none is skipped.
//
// Both lists come newest first, with an API cursor that pages to older
// items only. A poll therefore reads from the newest item down to a mark
// left by the previous poll: the sort time of the newest item returned,
// less an overlap, and the URIs returned since then. Items that show up
// late in the list (search indexing lags behind post creation) are thus
// still returned if they land within the overlap; later than that they
// are missed. When the page bound stops a poll before the mark, the
// cursor keeps the sweep under way and the next poll goes on with it.
package bluesky

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"vigie/internal/platform"
	"vigie/internal/vigie"
)

// DefaultBaseURL is the entryway of Bluesky-hosted accounts; an account
// on another PDS needs that PDS's URL.
const DefaultBaseURL = "https://bsky.social"

// MaxPageSize is the limit bound of listNotifications and searchPosts.
const MaxPageSize = 100

// Client calls Bluesky for one account. Its session is created on first
// use and shared by all its calls, which may run concurrently; a Client
// must not be copied after first use. A refusal of the identifier or app
// password is final for the Client: make a new one when they change.
type Client struct {
	BaseURL    string // DefaultBaseURL when empty
	Identifier string // handle or DID
	Password   string // an app password
	HTTP       *http.Client
	Now        func() time.Time

	mu         sync.Mutex
	sess       *session
	flight     *flight                  // a session being made
	refused    error                    // the credentials were refused
	loginLimit *platform.RateLimitError // createSession is rate limited until its Reset
}

func (c *Client) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *Client) base() string {
	b := c.BaseURL
	if b == "" {
		return DefaultBaseURL
	}
	if !strings.Contains(b, "://") {
		b = "https://" + b // a bare host, as instances are often written
	}
	return strings.TrimRight(b, "/")
}

// notificationReasons are asked of listNotifications; the parser keeps
// only those anyway, for servers that ignore the filter.
var notificationReasons = []string{"mention", "reply", "quote"}

// Notifications polls the account's notifications from cursor (empty: the
// first poll) and returns the mentions, replies and quotes as new
// mentions, with the account's DID as Change.Account. The first poll reads
// only the newest page: older history is not fetched. Later polls read
// down to what was returned before; when limits.Pages() stops them first,
// More is set and the next poll goes on where this one stopped.
//
// Errors: vigie Invalid for a malformed cursor; *platform.RateLimitError;
// *platform.APIError otherwise (Auth when the credentials or the session
// are refused, Retryable for 5xx, network failures and malformed
// answers).
func (c *Client) Notifications(ctx context.Context, cursor string, limits platform.Limits) (platform.PollResult, error) {
	return c.poll(ctx, cursor, limits, notificationOverlap, func(ctx context.Context, page string, size int, n *int) (*Page, string, error) {
		q := url.Values{"limit": {strconv.Itoa(size)}, "reasons": notificationReasons}
		if page != "" {
			q.Set("cursor", page)
		}
		res, s, err := c.get(ctx, "app.bsky.notification.listNotifications", q, n)
		if err != nil {
			return nil, "", err
		}
		p, err := ParseNotifications(res.Body)
		if err != nil {
			return nil, "", malformed(res, err)
		}
		return p, s.DID, nil
	})
}

// SearchPosts polls the posts matching term (in searchPosts' query
// syntax), latest first, from cursor (empty: the first poll), and returns
// them as new mentions of kind post or reply. Polls go as in
// Notifications. The same errors, and vigie Invalid for an empty term.
func (c *Client) SearchPosts(ctx context.Context, term, cursor string, limits platform.Limits) (platform.PollResult, error) {
	if strings.TrimSpace(term) == "" {
		return platform.PollResult{}, vigie.Invalidf("term", "Bluesky search term is empty")
	}
	return c.poll(ctx, cursor, limits, searchOverlap, func(ctx context.Context, page string, size int, n *int) (*Page, string, error) {
		q := url.Values{"q": {term}, "sort": {"latest"}, "limit": {strconv.Itoa(size)}}
		if page != "" {
			q.Set("cursor", page)
		}
		res, _, err := c.get(ctx, "app.bsky.feed.searchPosts", q, n)
		if err != nil {
			return nil, "", err
		}
		p, err := ParseSearchPosts(res.Body)
		if err != nil {
			return nil, "", malformed(res, err)
		}
		return p, "", nil
	})
}

// malformed is the error for a 200 answer that could not be parsed: a
// proxy's page or a passing server fault, so worth another try.
func malformed(res *platform.Response, err error) error {
	return &platform.APIError{Platform: platform.Bluesky, Status: res.Status, Message: err.Error(), Retryable: true}
}

// fetchFunc reads one page from the API cursor page (empty: the newest)
// and returns it with the account the changes are for.
type fetchFunc func(ctx context.Context, page string, size int, n *int) (*Page, string, error)

// poll runs a sweep (see the package doc) over the pages fetch reads.
func (c *Client) poll(ctx context.Context, cursor string, limits platform.Limits, overlap time.Duration, fetch fetchFunc) (platform.PollResult, error) {
	var res platform.PollResult
	cur, err := decodeCursor(cursor)
	if err != nil {
		return res, err
	}
	size := limits.Size(MaxPageSize)
	s := newSweep(cur, overlap, seenBound(limits, size))
	first := cur.Mark == nil
	pages := limits.Pages()
	if first {
		pages = 1
	}
	page := cur.Page
	restarted := false
	for read := 0; ; {
		p, account, err := fetch(ctx, page, size, &res.Requests)
		if err != nil {
			var e *platform.APIError
			if page != "" && cur.Page != "" && !restarted && errors.As(err, &e) && e.Status == http.StatusBadRequest && e.Code == "InvalidRequest" {
				// The stored API cursor is refused (the search service
				// bounds how deep it pages): read again from the newest;
				// the sweep's marks skip what it returned already.
				restarted, page = true, ""
				continue
			}
			return platform.PollResult{Requests: res.Requests}, err
		}
		read++
		for _, it := range p.Items {
			if s.take(it) && it.Mention != nil {
				res.Changes = append(res.Changes, platform.Change{Op: platform.OpNew, Account: account, Mention: it.Mention})
			}
		}
		if s.reached || p.Cursor == "" || len(p.Items) == 0 || first {
			break
		}
		page = p.Cursor
		if read == pages {
			res.More = true
			res.Cursor = s.pending(page).encode()
			return res, nil
		}
	}
	res.Cursor = s.finished(c.now()).encode()
	return res, nil
}
