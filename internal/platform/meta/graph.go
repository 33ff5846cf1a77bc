package meta

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"vigie/internal/platform"
	"vigie/internal/vigie"
)

// Graph API defaults.
const (
	DefaultBaseURL = "https://graph.facebook.com"
	DefaultVersion = "v21.0"
)

// Client calls the Graph API.
type Client struct {
	BaseURL string // DefaultBaseURL when empty
	Version string // DefaultVersion when empty
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
	b := DefaultBaseURL
	if c.BaseURL != "" {
		b = strings.TrimRight(c.BaseURL, "/")
	}
	v := DefaultVersion
	if c.Version != "" {
		v = c.Version
	}
	return b + "/" + v
}

// Fields asked for a mentioned comment and a mentioned media.
const (
	commentFields = "text,username,timestamp,like_count,media{permalink}"
	mediaFields   = "caption,username,timestamp,permalink,like_count,comments_count"
)

// graphIDPattern is what an id put into a fields expression may be, so
// that a hostile id cannot change the expression.
var graphIDPattern = regexp.MustCompile(`^[0-9A-Za-z_]{1,64}$`)

type mentionedJSON struct {
	Text          string `json:"text"`
	Caption       string `json:"caption"`
	Username      string `json:"username"`
	Timestamp     string `json:"timestamp"`
	Permalink     string `json:"permalink"`
	LikeCount     *int64 `json:"like_count"`
	CommentsCount *int64 `json:"comments_count"`
	Media         *struct {
		ID        string `json:"id"`
		Permalink string `json:"permalink"`
	} `json:"media"`
	ID string `json:"id"`
}

type mentionResponseJSON struct {
	MentionedComment *mentionedJSON `json:"mentioned_comment"`
	MentionedMedia   *mentionedJSON `json:"mentioned_media"`
	ID               string         `json:"id"`
}

// CompleteMention fetches the text of a thin Instagram mention (as
// ParseDelivery makes them: ExternalID the comment's id and ThreadID the
// media's for a mention in a comment, both the media's id for a mention in
// a caption) through the mentioned_comment or mentioned_media field of the
// IG user igUserID (the change's Account when empty), with the account's
// token. It returns the change with Text, Author.Handle, CreatedAt, URL
// and Metrics filled and Thin false. A change that is not thin is
// returned as is.
//
// Errors: vigie Invalid for a change that is not an Instagram mention;
// vigie NotFound when the Graph API does not return it;
// *platform.RateLimitError for codes 4, 17, 32, 613, 80001, 80002;
// *platform.APIError otherwise (Auth for code 190, 102, 10 and 200-299,
// Retryable for 1, 2, transient errors and 5xx).
func (c *Client) CompleteMention(ctx context.Context, token, igUserID string, ch platform.Change) (platform.Change, error) {
	if !ch.Thin {
		return ch, nil
	}
	m := ch.Mention
	if m == nil || m.Platform != platform.Instagram || m.Kind != vigie.KindMention || m.ExternalID == "" {
		return ch, vigie.Invalidf("change", "only thin Instagram mentions can be completed")
	}
	if igUserID == "" {
		igUserID = ch.Account
	}
	if !graphIDPattern.MatchString(igUserID) || !graphIDPattern.MatchString(m.ExternalID) || m.ThreadID != "" && !graphIDPattern.MatchString(m.ThreadID) {
		return ch, vigie.Invalidf("change", "the Instagram ids are malformed")
	}
	if token == "" {
		return ch, &platform.APIError{Platform: platform.Instagram, Auth: true, Message: "no access token for the Instagram account"}
	}
	inComment := m.ExternalID != m.ThreadID
	fields := "mentioned_media.media_id(" + m.ExternalID + "){" + mediaFields + "}"
	if inComment {
		fields = "mentioned_comment.comment_id(" + m.ExternalID + "){" + commentFields + "}"
	}
	q := url.Values{"fields": {fields}, "access_token": {token}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base()+"/"+igUserID+"?"+q.Encode(), nil)
	if err != nil {
		return ch, vigie.Invalidf("base_url", "Graph API base URL is malformed")
	}
	req.Header.Set("Accept", "application/json")
	res, err := platform.Do(c.HTTP, platform.Instagram, req)
	if err != nil {
		return ch, err
	}
	if res.Status != http.StatusOK {
		return ch, graphError(platform.Instagram, res, c.now())
	}
	var body mentionResponseJSON
	if err := json.Unmarshal(res.Body, &body); err != nil {
		return ch, &platform.APIError{Platform: platform.Instagram, Status: res.Status, Message: "the Graph API answer is not the expected JSON", Retryable: true}
	}
	got := body.MentionedMedia
	if inComment {
		got = body.MentionedComment
	}
	if got == nil {
		return ch, vigie.Errorf(vigie.KindNotFound, "the Graph API did not return the mentioned %s", strings.TrimPrefix(fields[:strings.IndexByte(fields, '.')], "mentioned_"))
	}
	full := *m
	full.Text, full.URL = got.Text, got.Permalink
	if !inComment {
		full.Text = got.Caption
	}
	if got.Media != nil {
		full.URL = got.Media.Permalink
		if full.ThreadID == "" {
			full.ThreadID = got.Media.ID
		}
	}
	if got.Username != "" {
		full.Author.Handle = got.Username
	}
	if t, ok := parseGraphTime(got.Timestamp); ok {
		full.CreatedAt = t
	}
	full.Metrics = nil
	if got.LikeCount != nil {
		full.Metrics = map[string]int64{"likes": *got.LikeCount}
	}
	if got.CommentsCount != nil {
		if full.Metrics == nil {
			full.Metrics = map[string]int64{}
		}
		full.Metrics["replies"] = *got.CommentsCount
	}
	ch.Mention, ch.Thin = &full, false
	return ch, nil
}

// graphErrorJSON is the Graph API's error body.
type graphErrorJSON struct {
	Error *struct {
		Message      string `json:"message"`
		Type         string `json:"type"`
		Code         int    `json:"code"`
		ErrorSubcode int    `json:"error_subcode"`
		IsTransient  bool   `json:"is_transient"`
		FBTraceID    string `json:"fbtrace_id"`
	} `json:"error"`
}

// graphError turns a Graph API refusal into the error the caller acts on:
// branch on error.code, not the HTTP status, which Meta does not keep
// consistent.
func graphError(plat string, res *platform.Response, now time.Time) error {
	var g graphErrorJSON
	_ = json.Unmarshal(res.Body, &g) // a proxy's HTML page leaves g empty
	e := &platform.APIError{Platform: plat, Status: res.Status}
	if g.Error == nil {
		switch {
		case res.Status == http.StatusUnauthorized:
			e.Auth = true
		case res.Status == http.StatusTooManyRequests:
			return &platform.RateLimitError{Platform: plat, Reset: now.Add(regainDelay(res.Header))}
		case res.Status >= 500:
			e.Retryable = true
		}
		return e
	}
	ge := g.Error
	e.Code, e.Message = strconv.Itoa(ge.Code), ge.Message
	if ge.ErrorSubcode != 0 {
		e.Code += "/" + strconv.Itoa(ge.ErrorSubcode)
	}
	switch {
	case ge.Code == 4 || ge.Code == 17 || ge.Code == 32 || ge.Code == 613 || ge.Code == 80001 || ge.Code == 80002:
		return &platform.RateLimitError{Platform: plat, Reset: now.Add(regainDelay(res.Header))}
	case ge.Code == 190 || ge.Code == 102 || ge.Code == 10 || ge.Code >= 200 && ge.Code <= 299:
		// The token is invalid or expired, or lacks a permission: only new
		// credentials help.
		e.Auth = true
	case ge.Code == 1 || ge.Code == 2 || ge.IsTransient || res.Status >= 500:
		e.Retryable = true
	}
	return e
}

// usageJSON is one object's entry in X-Business-Use-Case-Usage.
type usageJSON struct {
	Type                        string `json:"type"`
	CallCount                   int    `json:"call_count"`
	EstimatedTimeToRegainAccess int    `json:"estimated_time_to_regain_access"`
}

// regainDelay is how long to wait after a rate limit: the largest
// estimated_time_to_regain_access (minutes) of X-Business-Use-Case-Usage,
// or an hour when Meta gives none (the usage windows are rolling hours).
func regainDelay(h http.Header) time.Duration {
	var buc map[string][]usageJSON
	minutes := 0
	if v := h.Get("X-Business-Use-Case-Usage"); v != "" && json.Unmarshal([]byte(v), &buc) == nil {
		for _, us := range buc {
			for _, u := range us {
				minutes = max(minutes, u.EstimatedTimeToRegainAccess)
			}
		}
	}
	if minutes <= 0 {
		return time.Hour
	}
	return time.Duration(minutes) * time.Minute
}
