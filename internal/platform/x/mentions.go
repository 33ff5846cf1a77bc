package x

import (
	"context"
	"encoding/json"
	"errors"
	"html"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"vigie/internal/platform"
	"vigie/internal/vigie"
)

// DefaultBaseURL is the API's.
const DefaultBaseURL = "https://api.x.com"

// Page sizes of GET /2/users/:id/mentions (max_results).
const (
	MinPageSize = 5
	MaxPageSize = 100
)

// Fields asked of the mentions endpoint.
const (
	tweetFields = "created_at,author_id,conversation_id,in_reply_to_user_id,referenced_tweets,public_metrics,note_tweet"
	userFields  = "username,name,public_metrics,verified"
)

// Client polls the API v2 with an app or user bearer token.
type Client struct {
	BaseURL string // DefaultBaseURL when empty
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

func (c *Client) base() string {
	if c.BaseURL == "" {
		return DefaultBaseURL
	}
	return strings.TrimRight(c.BaseURL, "/")
}

// cursorState is the cursor's content. A sweep reads the mentions newer
// than Since, newest first, page after page. When the page bound ends a
// poll before the sweep does, the next poll resumes it at Next (with the
// same since_id, to which X binds its tokens); Top and Last are the newest
// and oldest posts it has seen so far: everything between them was
// returned, and posts newer than Top are left to the next sweep, which
// starts from Since = Top. Pagination tokens point at a post, so resuming
// neither skips nor repeats; Top and Last guard the restart when a token
// is refused.
type cursorState struct {
	Since string `json:"since,omitempty"`
	Next  string `json:"next,omitempty"`
	Top   string `json:"top,omitempty"`
	Last  string `json:"last,omitempty"`
}

func decodeCursor(s string) (cursorState, error) {
	var c cursorState
	switch {
	case s == "":
	case isDigits(s):
		c.Since = s // a bare post id: what most X pollers store
	default:
		if err := json.Unmarshal([]byte(s), &c); err != nil || (c.Since != "" && !isDigits(c.Since)) ||
			(c.Top != "" && !isDigits(c.Top)) || (c.Last != "" && !isDigits(c.Last)) || (c.Next != "") != (c.Top != "") {
			return cursorState{}, vigie.Invalidf("cursor", "X cursor is malformed")
		}
	}
	return c, nil
}

func (c cursorState) encode() string {
	if c == (cursorState{}) {
		return ""
	}
	b, _ := json.Marshal(c)
	return string(b)
}

// newer reports whether post id a is newer than b: ids are snowflakes, so
// a longer id is newer, and equal lengths compare as strings.
func newer(a, b string) bool {
	if len(a) != len(b) {
		return len(a) > len(b)
	}
	return a > b
}

// Mentions polls the posts that mention userID (including replies to it),
// newest first, from cursor (empty: the first poll). The first poll reads
// at most limits.Pages() pages from the newest and starts from there:
// older history is not fetched. Later polls read what is newer than the
// newest post returned before; when the page bound stops them first, More
// is set and the next poll resumes where this one stopped. The account's
// own posts are not returned. A cursor that is a bare post id is read as
// since_id.
//
// Errors: vigie Invalid for a malformed user id or cursor;
// *platform.RateLimitError on 429 (Reset from x-rate-limit-reset);
// *platform.APIError otherwise (Auth for refused credentials, Retryable
// for 5xx and network failures).
func (c *Client) Mentions(ctx context.Context, userID, cursor string, limits platform.Limits) (platform.PollResult, error) {
	var res platform.PollResult
	if !isDigits(userID) || len(userID) > 20 {
		return res, vigie.Invalidf("user_id", "X user id must be digits")
	}
	if c.Token == "" {
		return res, &platform.APIError{Platform: platform.X, Auth: true, Message: "no bearer token for the account"}
	}
	cur, err := decodeCursor(cursor)
	if err != nil {
		return res, err
	}
	size := limits.Size(MaxPageSize)
	size = max(size, MinPageSize)
	first := cur.Since == "" && cur.Next == ""
	resuming := cur.Top != ""
	top, last, token := cur.Top, cur.Last, cur.Next
	restarted := false
	for pages := 0; pages < limits.Pages(); {
		page, err := c.page(ctx, userID, cur.Since, token, size)
		res.Requests++
		if err != nil {
			var te *tokenRefused
			if token != "" && !restarted && errors.As(err, &te) {
				// The stored token was refused: read again from the newest;
				// Top and Last skip what this sweep returned already.
				restarted, token = true, ""
				continue
			}
			return platform.PollResult{Requests: res.Requests}, err
		}
		pages++
		for _, tw := range page.Data {
			if !isDigits(tw.ID) || cur.Since != "" && !newer(tw.ID, cur.Since) {
				continue
			}
			if resuming && !newer(last, tw.ID) {
				continue // newer than Top: the next sweep's; or returned already
			}
			if top == "" || newer(tw.ID, top) {
				top = tw.ID
			}
			if last == "" || newer(last, tw.ID) {
				last = tw.ID
			}
			if m := page.mention(tw, userID); m != nil {
				res.Changes = append(res.Changes, platform.Change{Op: platform.OpNew, Account: userID, Mention: m})
			}
		}
		if page.Meta.NextToken == "" {
			break
		}
		token = page.Meta.NextToken
		if pages == limits.Pages() && !first {
			res.More = true
			res.Cursor = cursorState{Since: cur.Since, Next: token, Top: top, Last: last}.encode()
			if top == "" {
				// Nothing new on these pages (all filtered): resume
				// without bounds; a token needs a Top, so keep the since.
				res.Cursor = cursorState{Since: cur.Since, Next: token, Top: cur.Since, Last: cur.Since}.encode()
			}
			return res, nil
		}
	}
	since := cur.Since
	if top != "" && (since == "" || newer(top, since)) {
		since = top
	}
	res.Cursor = cursorState{Since: since}.encode()
	return res, nil
}

type userV2 struct {
	ID            string `json:"id"`
	Name          string `json:"name"`
	Username      string `json:"username"`
	Verified      *bool  `json:"verified"`
	PublicMetrics *struct {
		FollowersCount *int64 `json:"followers_count"`
	} `json:"public_metrics"`
}

type tweetV2 struct {
	ID               string `json:"id"`
	Text             string `json:"text"`
	AuthorID         string `json:"author_id"`
	CreatedAt        string `json:"created_at"`
	ConversationID   string `json:"conversation_id"`
	InReplyToUserID  string `json:"in_reply_to_user_id"`
	ReferencedTweets []struct {
		Type string `json:"type"`
		ID   string `json:"id"`
	} `json:"referenced_tweets"`
	PublicMetrics *struct {
		RetweetCount *int64 `json:"retweet_count"`
		ReplyCount   *int64 `json:"reply_count"`
		LikeCount    *int64 `json:"like_count"`
		QuoteCount   *int64 `json:"quote_count"`
	} `json:"public_metrics"`
	NoteTweet *struct {
		Text string `json:"text"`
	} `json:"note_tweet"`
}

// problemJSON is an API v2 error, alone (RFC 7807) or in errors[]; the
// legacy v1.1 shape has code and message.
type problemJSON struct {
	Type       string              `json:"type"`
	Title      string              `json:"title"`
	Detail     string              `json:"detail"`
	Status     int                 `json:"status"`
	Parameter  string              `json:"parameter"`
	Parameters map[string][]string `json:"parameters"`
	Message    string              `json:"message"`
	Code       int                 `json:"code"`
}

type pageV2 struct {
	Data     []tweetV2 `json:"data"`
	Includes struct {
		Users []userV2 `json:"users"`
	} `json:"includes"`
	Meta struct {
		NewestID    string `json:"newest_id"`
		OldestID    string `json:"oldest_id"`
		ResultCount int    `json:"result_count"`
		NextToken   string `json:"next_token"`
	} `json:"meta"`
	Errors []problemJSON `json:"errors"`

	users map[string]*userV2
}

// mention turns a post of the page into a mention of account; nil for the
// account's own posts.
func (p *pageV2) mention(tw tweetV2, account string) *vigie.Mention {
	if tw.AuthorID == account {
		return nil
	}
	if p.users == nil {
		p.users = make(map[string]*userV2, len(p.Includes.Users))
		for i := range p.Includes.Users {
			p.users[p.Includes.Users[i].ID] = &p.Includes.Users[i]
		}
	}
	text := tw.Text
	if tw.NoteTweet != nil && tw.NoteTweet.Text != "" {
		text = tw.NoteTweet.Text // a long post: text holds its first 280 characters
	}
	m := &vigie.Mention{Platform: platform.X, Kind: vigie.KindMention, ExternalID: tw.ID, ThreadID: tw.ConversationID,
		Author: vigie.Author{ID: tw.AuthorID}, Text: html.UnescapeString(text)}
	for _, r := range tw.ReferencedTweets {
		if r.Type == "replied_to" {
			m.ParentID = r.ID
		}
	}
	if tw.InReplyToUserID == account && m.ParentID != "" {
		m.Kind = vigie.KindReply
	}
	if u := p.users[tw.AuthorID]; u != nil {
		m.Author.Handle, m.Author.Name, m.Author.Verified = u.Username, u.Name, u.Verified
		if u.PublicMetrics != nil {
			m.Author.Followers = u.PublicMetrics.FollowersCount
		}
	}
	m.URL = postURL(m.Author.Handle, tw.ID)
	if t, err := time.Parse(time.RFC3339Nano, tw.CreatedAt); err == nil {
		m.CreatedAt = t.UTC()
	}
	if pm := tw.PublicMetrics; pm != nil {
		for name, n := range map[string]*int64{"likes": pm.LikeCount, "reposts": pm.RetweetCount, "replies": pm.ReplyCount, "quotes": pm.QuoteCount} {
			if n != nil {
				if m.Metrics == nil {
					m.Metrics = map[string]int64{}
				}
				m.Metrics[name] = *n
			}
		}
	}
	return m
}

// page calls GET /2/users/:id/mentions once.
func (c *Client) page(ctx context.Context, userID, sinceID, token string, size int) (*pageV2, error) {
	q := url.Values{
		"max_results":  {strconv.Itoa(size)},
		"tweet.fields": {tweetFields},
		"expansions":   {"author_id"},
		"user.fields":  {userFields},
	}
	if sinceID != "" {
		q.Set("since_id", sinceID)
	}
	if token != "" {
		q.Set("pagination_token", token)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base()+"/2/users/"+userID+"/mentions?"+q.Encode(), nil)
	if err != nil {
		return nil, vigie.Invalidf("base_url", "X base URL is malformed")
	}
	req.Header.Set("Authorization", "Bearer "+c.Token)
	req.Header.Set("Accept", "application/json")
	res, err := platform.Do(c.HTTP, platform.X, req)
	if err != nil {
		return nil, err
	}
	if res.Status != http.StatusOK {
		err := responseError(res, c.now())
		if res.Status == http.StatusBadRequest && refusedParameter(res.Body) == "pagination_token" {
			return nil, &tokenRefused{err}
		}
		return nil, err
	}
	var p pageV2
	if err := json.Unmarshal(res.Body, &p); err != nil {
		return nil, &platform.APIError{Platform: platform.X, Status: res.Status, Message: "the mentions answer is not the expected JSON", Retryable: true}
	}
	if len(p.Data) == 0 && len(p.Errors) > 0 {
		// A 200 with errors only: the user does not exist, is suspended
		// or protected.
		e := problemError(res.Status, p.Errors[0])
		return nil, e
	}
	return &p, nil
}

// responseError turns a non-200 answer into the error the watch acts on.
func responseError(res *platform.Response, now time.Time) error {
	if res.Status == http.StatusTooManyRequests {
		reset, ok := platform.ResetAt(res.Header.Get("x-rate-limit-reset"))
		if !ok {
			reset, ok = platform.RetryAfter(res.Header, now)
		}
		if !ok || !reset.After(now) {
			reset = now.Add(15 * time.Minute) // X's rate-limit window
		}
		return &platform.RateLimitError{Platform: platform.X, Reset: reset}
	}
	var body struct {
		problemJSON
		Errors []problemJSON `json:"errors"`
	}
	_ = json.Unmarshal(res.Body, &body) // a proxy's HTML page leaves it empty
	p := body.problemJSON
	if p.Type == "" && p.Title == "" && len(body.Errors) > 0 {
		p = body.Errors[0]
	}
	e := problemError(res.Status, p)
	switch {
	case res.Status == http.StatusUnauthorized:
		e.Auth = true
	case res.Status == http.StatusForbidden && (e.Code == "client-forbidden" || e.Code == "unsupported-authentication"):
		e.Auth = true
	case res.Status >= 500:
		e.Retryable = true
	}
	return e
}

func problemError(status int, p problemJSON) *platform.APIError {
	e := &platform.APIError{Platform: platform.X, Status: status, Message: p.Detail}
	switch {
	case p.Type != "" && p.Type != "about:blank":
		e.Code = p.Type[strings.LastIndexByte(p.Type, '/')+1:]
	case p.Code != 0:
		e.Code = strconv.Itoa(p.Code)
	default:
		e.Code = p.Title
	}
	if e.Message == "" {
		e.Message = p.Message
	}
	if e.Message == "" {
		e.Message = p.Title
	}
	return e
}

// tokenRefused is the API refusing a pagination token (expired, or from
// another query).
type tokenRefused struct{ err error }

func (e *tokenRefused) Error() string { return e.err.Error() }
func (e *tokenRefused) Unwrap() error { return e.err }

// refusedParameter returns the query parameter an invalid-request names.
func refusedParameter(body []byte) string {
	var b struct {
		problemJSON
		Errors []problemJSON `json:"errors"`
	}
	if json.Unmarshal(body, &b) != nil {
		return ""
	}
	if b.Parameter != "" {
		return b.Parameter
	}
	for _, e := range b.Errors {
		if e.Parameter != "" {
			return e.Parameter
		}
		for name := range e.Parameters {
			return name
		}
	}
	return ""
}
