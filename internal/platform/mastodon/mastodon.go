// Package mastodon polls a Mastodon instance's REST API, which has no
// webhooks for an ordinary account: the mention notifications of a
// connected account, and the public timelines of hashtags a watch
// follows. It turns them into platform changes and keeps a cursor so
// that, across polls, nothing is returned twice and nothing is skipped.
//
// Both lists are read forward with min_id, as the Mastodon documentation
// advises for polling: min_id=<cursor> answers the page immediately newer
// than the cursor, and the next page starts from the newest id of the
// previous one, until a page comes back empty. That is the page the Link
// header's rel="prev" names; the client builds the request itself rather
// than follow the link, so that the token only ever goes to BaseURL and
// the cursor never moves past what was returned. The cursor is the newest
// id read, as a bare string.
//
// Ids are the instance's own: the same post has a different id on every
// instance. A mention's ExternalID, ParentID and ThreadID are therefore
// qualified with the instance's host ("mastodon.social/1131…", see
// ExternalID), which keeps them unique across instances and says where
// the id can be used (to reply, to fetch a thread). Author.ID is left as
// the instance's account id, the form a channel's account id takes.
//
// Limitations: a hashtag timeline is ordered by status id, and on some
// servers a status's id follows the time it was written, so a post that
// federates late can sort below the cursor and be missed; notification
// ids are given on arrival and do not have this problem.
package mastodon

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"vigie/internal/platform"
	"vigie/internal/vigie"
)

// Page size bounds (limit), from the API documentation.
const (
	MaxNotificationsPageSize = 80
	MaxTagPageSize           = 40
)

// DefaultRateLimitWait is how long a rate-limited source waits when the
// answer says nothing of its reset: Mastodon's limits count over 5
// minutes.
const DefaultRateLimitWait = 5 * time.Minute

// maxIDLen bounds an id or cursor: Mastodon's are 18-19 digits, other
// servers of the API (GoToSocial, Akkoma) use longer alphanumeric ids.
const maxIDLen = 64

// Client calls one instance's API. Token is the account's OAuth bearer
// token: required for notifications, optional for hashtag timelines
// (which some instances only show to signed-in users).
type Client struct {
	BaseURL string // the instance, e.g. https://mastodon.social; there is no default
	Token   string
	HTTP    *http.Client
	Now     func() time.Time
}

func (c *Client) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// instance validates BaseURL and returns it without a trailing slash, and
// its host, which qualifies the ids.
func (c *Client) instance() (base, host string, err error) {
	if strings.TrimSpace(c.BaseURL) == "" {
		return "", "", vigie.Invalidf("instance", "Mastodon needs the instance's URL (e.g. https://mastodon.social): there is no default instance")
	}
	u, err := url.Parse(strings.TrimRight(c.BaseURL, "/"))
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		return "", "", vigie.Invalidf("instance", "Mastodon instance URL must be like https://mastodon.social")
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && isLoopback(u.Hostname()):
		// Local fakes and development instances only: a token must not
		// cross the network in clear.
	default:
		return "", "", vigie.Invalidf("instance", "Mastodon instance URL must be https")
	}
	host = strings.ToLower(u.Host)
	if p := u.Port(); p == "443" && u.Scheme == "https" || p == "80" && u.Scheme == "http" {
		host = strings.ToLower(u.Hostname()) // one instance, one host in the ids
	}
	return u.String(), host, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// ValidID reports whether s has the form of an id of the API: Mastodon's
// are digits; letters, - and _ are allowed for other servers' ids.
func ValidID(s string) bool {
	if s == "" || len(s) > maxIDLen {
		return false
	}
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// Newer reports whether id a sorts after id b. Mastodon's ids are
// snowflakes sent as strings: a longer one is newer, equal lengths compare
// as strings (which also orders the fixed-length ids of other servers).
func Newer(a, b string) bool {
	if len(a) != len(b) {
		return len(a) > len(b)
	}
	return a > b
}

// NormalizeTag returns tag without its leading '#', or an Invalid error
// when it is not a hashtag: letters, digits, '_', and the '·' and
// zero-width non-joiner Mastodon allows inside tags.
func NormalizeTag(tag string) (string, error) {
	t := strings.TrimPrefix(strings.TrimSpace(tag), "#")
	if t == "" || len(t) > 100 || strings.ContainsFunc(t, func(r rune) bool {
		return !(r == '_' || r == '·' || r == '\u200c' || unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r))
	}) {
		return "", vigie.Invalidf("tag", "a Mastodon hashtag is letters, digits and underscores")
	}
	return t, nil
}

// Notifications polls the account's mention notifications (replies to it
// included: they mention it), from cursor (empty: the first poll).
//
// The first poll reads only the newest page, returns its mentions and
// starts from there: older history is not fetched. Later polls read
// forward from the cursor with min_id, page after page, until a page is
// empty; when limits.Pages() pages were read first, or the rate-limit
// headers say no request is left, More is set and the next poll goes on
// from the newest notification returned. Changes come oldest first.
// Notifications without a status are skipped (the cursor still moves
// past them). A mention's Kind is reply when its status answers another,
// mention otherwise; Change.Account is left empty, the caller knowing
// which account it polls.
//
// Errors: vigie Invalid for a missing or malformed instance URL or cursor;
// *platform.RateLimitError on 429 (Reset from X-RateLimit-Reset);
// *platform.APIError otherwise (Auth for refused or missing credentials,
// Retryable for 5xx, network failures and unreadable answers).
func (c *Client) Notifications(ctx context.Context, cursor string, limits platform.Limits) (platform.PollResult, error) {
	if c.Token == "" {
		if _, _, err := c.instance(); err != nil {
			return platform.PollResult{}, err
		}
		return platform.PollResult{}, &platform.APIError{Platform: platform.Mastodon, Auth: true, Message: "no access token for the account"}
	}
	q := url.Values{"types[]": {"mention"}}
	return c.poll(ctx, "/api/v1/notifications", q, cursor, limits, MaxNotificationsPageSize, ParseNotifications)
}

// TagTimeline polls the public timeline of tag (with or without its '#')
// on the instance: the statuses carrying the tag that the instance knows,
// local and federated. Cursor, pages, order and errors are as for
// Notifications; the token is sent when the client has one. A status
// that answers another is a reply, otherwise a post.
func (c *Client) TagTimeline(ctx context.Context, tag, cursor string, limits platform.Limits) (platform.PollResult, error) {
	t, err := NormalizeTag(tag)
	if err != nil {
		return platform.PollResult{}, err
	}
	return c.poll(ctx, "/api/v1/timelines/tag/"+url.PathEscape(t), url.Values{}, cursor, limits, MaxTagPageSize, ParseStatuses)
}

type parseFunc func(body []byte, instance string) ([]Item, error)

// poll reads the list at path forward from cursor.
func (c *Client) poll(ctx context.Context, path string, q url.Values, cursor string, limits platform.Limits, maxSize int, parse parseFunc) (platform.PollResult, error) {
	var res platform.PollResult
	base, host, err := c.instance()
	if err != nil {
		return res, err
	}
	if cursor != "" && !ValidID(cursor) {
		return res, vigie.Invalidf("cursor", "Mastodon cursor is malformed")
	}
	size := limits.Size(maxSize)
	q.Set("limit", strconv.Itoa(size))
	res.Cursor = cursor
	for pages := 0; pages < limits.Pages(); pages++ {
		if cursor != "" {
			q.Set("min_id", res.Cursor)
		}
		items, exhausted, err := c.page(ctx, base+path+"?"+q.Encode(), host, parse)
		res.Requests++
		if err != nil {
			return platform.PollResult{Requests: res.Requests}, err
		}
		if res.Cursor != "" {
			// min_id bounds the page; a server that ignored it must not
			// make the poll return old items, nor loop on them.
			items = slices.DeleteFunc(items, func(it Item) bool { return !Newer(it.ID, res.Cursor) })
		}
		if len(items) == 0 {
			return res, nil
		}
		// Oldest first: the order things happened, and the order of the
		// pages of a min_id walk.
		slices.SortStableFunc(items, func(a, b Item) int {
			if Newer(a.ID, b.ID) {
				return 1
			}
			if Newer(b.ID, a.ID) {
				return -1
			}
			return 0
		})
		items = slices.CompactFunc(items, func(a, b Item) bool { return a.ID == b.ID })
		for _, it := range items {
			if it.Mention != nil {
				res.Changes = append(res.Changes, platform.Change{Op: platform.OpNew, Mention: it.Mention})
			}
		}
		res.Cursor = items[len(items)-1].ID
		if cursor == "" {
			// The first poll takes the newest page only: the page before
			// it is history, not news.
			return res, nil
		}
		if exhausted {
			res.More = true
			return res, nil
		}
	}
	res.More = true
	return res, nil
}

// page GETs one page and parses it. exhausted reports that the answer's
// rate-limit headers say no request is left until the reset, so the poll
// stops rather than be refused.
func (c *Client) page(ctx context.Context, u, host string, parse parseFunc) (items []Item, exhausted bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, false, vigie.Invalidf("instance", "Mastodon instance URL is malformed")
	}
	req.Header.Set("Accept", "application/json")
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	resp, err := platform.Do(c.HTTP, platform.Mastodon, req)
	if err != nil {
		return nil, false, err
	}
	if resp.Status != http.StatusOK {
		return nil, false, c.responseError(resp)
	}
	items, err = parse(resp.Body, host)
	if err != nil {
		return nil, false, &platform.APIError{Platform: platform.Mastodon, Status: resp.Status, Message: err.Error(), Retryable: true}
	}
	return items, resp.Header.Get("X-RateLimit-Remaining") == "0", nil
}

// ExternalID is the ExternalID of the status id of instance (a host, as in
// a URL): "instance/id".
func ExternalID(instance, id string) string { return strings.ToLower(instance) + "/" + id }

// SplitExternalID returns the instance and the status id of an
// ExternalID; ok is false when ext is not one.
func SplitExternalID(ext string) (instance, id string, ok bool) {
	i := strings.LastIndexByte(ext, '/')
	if i <= 0 || !ValidID(ext[i+1:]) {
		return "", "", false
	}
	return ext[:i], ext[i+1:], true
}
