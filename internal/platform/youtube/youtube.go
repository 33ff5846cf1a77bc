// Package youtube polls the comments of a connected YouTube channel through
// the Data API v3 (commentThreads.list): YouTube has no webhooks for
// comments. It turns comment threads into platform changes and keeps an
// opaque cursor so that, across polls, no comment is returned twice and
// none is skipped.
//
// Limitations, from the API: order=time sorts threads by their top-level
// comment, so a new reply on an old thread moves nothing and is not seen;
// only the replies the API embeds in a thread (a few) are returned, with
// the thread, when the thread is new.
package youtube

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"vigie/internal/platform"
	"vigie/internal/vigie"
)

// DefaultBaseURL is the Data API's.
const DefaultBaseURL = "https://www.googleapis.com/youtube/v3"

// MaxPageSize is commentThreads.list's maxResults bound.
const MaxPageSize = 100

// Client calls the YouTube Data API for one channel's credentials.
type Client struct {
	BaseURL string // DefaultBaseURL when empty
	APIKey  string // key=, for public reads
	Token   string // OAuth bearer token; preferred over APIKey when set
	HTTP    *http.Client
	Now     func() time.Time
}

func (c *Client) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *Client) base() string {
	if c.BaseURL == "" {
		return DefaultBaseURL
	}
	return strings.TrimRight(c.BaseURL, "/")
}

// ValidChannelID reports whether id has the form of a channel id: UC and
// 22 characters of base64url.
func ValidChannelID(id string) bool {
	if len(id) != 24 || !strings.HasPrefix(id, "UC") {
		return false
	}
	for _, r := range id[2:] {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// mark is a point in the time order of threads: a publishedAt and the ids
// of the threads at that instant already returned (several threads can
// share a second).
type mark struct {
	T   time.Time `json:"t"`
	IDs []string  `json:"ids,omitempty"`
}

func (m *mark) has(t Thread) bool { return t.PublishedAt.Equal(m.T) && slices.Contains(m.IDs, t.ID) }

func (m *mark) clone() *mark {
	if m == nil {
		return nil
	}
	return &mark{T: m.T, IDs: slices.Clone(m.IDs)}
}

// cursorState is the cursor's content. A sweep reads threads from the
// newest down to Stop, the newest thread of the previous sweep. When the
// page bound ends a poll before Stop is reached, the sweep goes on at the
// next poll from Page; Top and Last then bound what it has returned so
// far, so that a page token that shifted (new comments arrived meanwhile)
// returns nothing twice, and threads newer than Top wait for the next
// sweep, whose Stop will be Top.
type cursorState struct {
	Top  *mark  `json:"top,omitempty"`  // newest thread returned: the next sweep's Stop
	Page string `json:"page,omitempty"` // set while a sweep is under way
	Stop *mark  `json:"stop,omitempty"` // the boundary of the sweep under way
	Last *mark  `json:"last,omitempty"` // oldest thread the sweep under way returned
}

func decodeCursor(s string) (cursorState, error) {
	var c cursorState
	if s == "" {
		return c, nil
	}
	if err := json.Unmarshal([]byte(s), &c); err != nil {
		return c, vigie.Invalidf("cursor", "YouTube cursor is malformed")
	}
	return c, nil
}

func (c cursorState) encode() string {
	b, _ := json.Marshal(c)
	return string(b)
}

// sweep is the state of one sweep while it runs.
type sweep struct {
	stop, top, last *mark
	// above is set when resuming: threads newer than top were not
	// returned by this sweep and are left to the next one.
	above bool
}

// verdict says what to do with a thread.
type verdict int

const (
	take verdict = iota
	skip
	done
)

func (s *sweep) judge(t Thread) verdict {
	if s.top != nil && s.above && (t.PublishedAt.After(s.top.T) || t.PublishedAt.Equal(s.top.T) && !s.top.has(t)) {
		return skip
	}
	if s.last != nil && (t.PublishedAt.After(s.last.T) || s.last.has(t)) {
		return skip // returned already by this sweep
	}
	if s.stop != nil {
		if t.PublishedAt.Before(s.stop.T) {
			return done
		}
		if s.stop.has(t) {
			return skip
		}
	}
	return take
}

func (s *sweep) took(t Thread) {
	if s.top == nil {
		s.top = &mark{T: t.PublishedAt, IDs: []string{t.ID}}
		s.above = true
	} else if t.PublishedAt.Equal(s.top.T) {
		s.top.IDs = append(s.top.IDs, t.ID)
	}
	if s.last == nil || t.PublishedAt.Before(s.last.T) {
		s.last = &mark{T: t.PublishedAt, IDs: []string{t.ID}}
	} else if t.PublishedAt.Equal(s.last.T) && !s.last.has(t) {
		s.last.IDs = append(s.last.IDs, t.ID)
	}
}

// finished is the cursor after a sweep reached its end.
func (s *sweep) finished() cursorState {
	top := s.top
	if top == nil {
		top = s.stop
	} else if s.stop != nil && top.T.Equal(s.stop.T) {
		// The sweep only added threads at the old boundary's instant:
		// keep the ones it knew.
		for _, id := range s.stop.IDs {
			if !slices.Contains(top.IDs, id) {
				top.IDs = append(top.IDs, id)
			}
		}
	}
	return cursorState{Top: top}
}

// CommentThreads polls the comment threads of channelID (all its videos),
// newest first, from cursor (empty: the first poll). The first poll reads
// at most limits.Pages() pages from the newest and starts from there:
// older history is not fetched. Later polls read down to the newest thread
// returned before; when the page bound stops them first, More is set and
// the next poll resumes where this one stopped.
//
// Errors: vigie Invalid for a malformed channel id or cursor;
// *platform.RateLimitError when the daily quota is spent (Reset: midnight
// Pacific) or the API limits the rate; *platform.APIError otherwise (Auth
// for refused credentials, Retryable for 5xx and network failures).
func (c *Client) CommentThreads(ctx context.Context, channelID, cursor string, limits platform.Limits) (platform.PollResult, error) {
	var res platform.PollResult
	if !ValidChannelID(channelID) {
		return res, vigie.Invalidf("channel_id", "YouTube channel id must be UC followed by 22 letters, digits, - or _")
	}
	if c.APIKey == "" && c.Token == "" {
		return res, &platform.APIError{Platform: platform.YouTube, Auth: true, Message: "no API key or OAuth token for the channel"}
	}
	cur, err := decodeCursor(cursor)
	if err != nil {
		return res, err
	}
	s := &sweep{stop: cur.Top}
	token := ""
	if cur.Page != "" {
		// Resume the sweep under way.
		s = &sweep{stop: cur.Stop.clone(), top: cur.Top.clone(), last: cur.Last.clone(), above: cur.Top != nil}
		token = cur.Page
	}
	first := s.stop == nil && s.top == nil
	size := limits.Size(MaxPageSize)
	restarted := false
	for pages := 0; pages < limits.Pages(); {
		page, err := c.list(ctx, channelID, token, size)
		res.Requests++
		if err != nil {
			var ae *platform.APIError
			if token != "" && !restarted && errors.As(err, &ae) && ae.Code == "invalidPageToken" {
				// The stored token expired: read again from the newest;
				// the sweep's marks skip what it returned already.
				restarted, token = true, ""
				continue
			}
			return platform.PollResult{Requests: res.Requests}, err
		}
		pages++
		for _, t := range page.Threads {
			switch s.judge(t) {
			case skip:
				continue
			case done:
				res.Cursor = s.finished().encode()
				return res, nil
			}
			s.took(t)
			res.Changes = append(res.Changes, threadChanges(t, channelID, s.stop)...)
		}
		if page.NextPageToken == "" {
			break
		}
		token = page.NextPageToken
		if pages == limits.Pages() && !first {
			res.More = true
			top := s.top
			if top == nil {
				top = s.stop.clone()
			}
			res.Cursor = cursorState{Top: top, Page: token, Stop: s.stop, Last: s.last}.encode()
			return res, nil
		}
	}
	res.Cursor = s.finished().encode()
	return res, nil
}

// threadChanges returns the thread's comment and its replies newer than
// the sweep's boundary.
func threadChanges(t Thread, account string, stop *mark) []platform.Change {
	if stop != nil {
		var rs []*vigie.Mention
		for _, r := range t.Replies {
			if r.CreatedAt.After(stop.T) {
				rs = append(rs, r)
			}
		}
		t.Replies = rs
	}
	return t.Changes(account)
}

// list calls commentThreads.list once.
func (c *Client) list(ctx context.Context, channelID, pageToken string, size int) (*Page, error) {
	q := url.Values{
		"part":                         {"snippet,replies"},
		"allThreadsRelatedToChannelId": {channelID},
		"order":                        {"time"},
		"maxResults":                   {strconv.Itoa(size)},
		"textFormat":                   {"plainText"},
	}
	if pageToken != "" {
		q.Set("pageToken", pageToken)
	}
	if c.Token == "" {
		q.Set("key", c.APIKey)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base()+"/commentThreads?"+q.Encode(), nil)
	if err != nil {
		return nil, vigie.Invalidf("base_url", "YouTube base URL is malformed")
	}
	req.Header.Set("Accept", "application/json")
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	resp, err := platform.Do(c.HTTP, platform.YouTube, req)
	if err != nil {
		return nil, err
	}
	if resp.Status != http.StatusOK {
		return nil, responseError(resp, c.now())
	}
	page, err := ParseCommentThreads(resp.Body)
	if err != nil {
		return nil, &platform.APIError{Platform: platform.YouTube, Status: resp.Status, Message: err.Error(), Retryable: true}
	}
	return page, nil
}
