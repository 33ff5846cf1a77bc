// Package youtubefake is a fake YouTube Data API v3 for tests and
// benchmarks: commentThreads.list over seeded threads, with the real
// response shape, pageToken paging, API key or OAuth bearer checks, quota
// counting with the real quotaExceeded answer, and injectable rate limits
// and errors. Any request it does not expect fails the test.
package youtubefake

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"vigie/internal/platform/fakeapi"
)

// Credentials the fake accepts unless told otherwise.
const (
	APIKey = "fake-youtube-api-key"
	Token  = "fake-youtube-oauth-token"
)

// DefaultQuota is the daily quota of a new project, in units.
const DefaultQuota = 10000

// MaxEmbeddedReplies is how many replies a thread embeds at most; the rest
// are only listed by comments.list.
const MaxEmbeddedReplies = 5

// Comment is a seeded comment.
type Comment struct {
	ID              string
	AuthorChannelID string
	AuthorName      string // the display name, "@handle" for most accounts
	Text            string
	Likes           int64
	PublishedAt     time.Time
}

// Thread is a seeded comment thread; its id is its comment's.
type Thread struct {
	VideoID string
	Comment Comment
	Replies []Comment
}

// Server is the fake API.
type Server struct {
	api *fakeapi.Server

	mu      sync.Mutex
	threads map[string][]Thread // by channel id
	quota   int                 // units per day; each list call costs 1, as the reference says
	used    int
	// offsetTokens makes page tokens plain offsets, which shift when
	// comments arrive between pages.
	offsetTokens bool
	inject       []func(w http.ResponseWriter) // next answers, in order
	key, token   string
}

// New starts a fake with no threads and DefaultQuota.
func New(t fakeapi.T) *Server {
	t.Helper()
	s := &Server{api: fakeapi.New(t), threads: map[string][]Thread{}, quota: DefaultQuota, key: APIKey, token: Token}
	s.api.Handle("GET /youtube/v3/commentThreads", s.commentThreads)
	return s
}

// URL is the base URL to give the client (…/youtube/v3).
func (s *Server) URL() string { return s.api.URL() + "/youtube/v3" }

// Requests returns the requests received.
func (s *Server) Requests() []fakeapi.Request { return s.api.Requests() }

// AddThreads seeds threads on channelID.
func (s *Server) AddThreads(channelID string, ts ...Thread) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.threads[channelID] = append(s.threads[channelID], ts...)
}

// SetQuota sets the units left for today.
func (s *Server) SetQuota(units int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.quota, s.used = units, 0
}

// QuotaUsed returns the units spent.
func (s *Server) QuotaUsed() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.used
}

// OffsetTokens makes page tokens offsets into the list, as the real ones
// may be, so that new comments arriving between two pages shift them.
func (s *Server) OffsetTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.offsetTokens = true
}

// RateLimit makes the next request fail with 403 rateLimitExceeded and,
// when retryAfter > 0, a Retry-After header.
func (s *Server) RateLimit(retryAfter time.Duration) {
	s.Fail(http.StatusForbidden, "rateLimitExceeded", "Rate Limit Exceeded", retryAfter)
}

// Fail makes the next request fail with status and a Google error of
// reason (and Retry-After when retryAfter > 0).
func (s *Server) Fail(status int, reason, message string, retryAfter time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.inject = append(s.inject, func(w http.ResponseWriter) {
		if retryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(int(retryAfter/time.Second)))
		}
		writeError(w, status, reason, message, "youtube.api")
	})
}

const quotaMessage = `The request cannot be completed because you have exceeded your <a href="/youtube/v3/getting-started#quota">quota</a>.`

type errorItem struct {
	Message string `json:"message"`
	Domain  string `json:"domain"`
	Reason  string `json:"reason"`
}

type errorDetail struct {
	Type   string `json:"@type"`
	Reason string `json:"reason"`
	Domain string `json:"domain"`
}

type errorBody struct {
	Error struct {
		Code    int           `json:"code"`
		Message string        `json:"message"`
		Errors  []errorItem   `json:"errors"`
		Status  string        `json:"status,omitempty"`
		Details []errorDetail `json:"details,omitempty"`
	} `json:"error"`
}

func newError(status int, reason, message, domain string) *errorBody {
	var b errorBody
	b.Error.Code = status
	b.Error.Message = message
	b.Error.Errors = []errorItem{{Message: message, Domain: domain, Reason: reason}}
	return &b
}

func writeError(w http.ResponseWriter, status int, reason, message, domain string) {
	writeJSON(w, status, newError(status, reason, message, domain))
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// authorized checks the key or the bearer token and answers the real
// errors when they are wrong.
func (s *Server) authorized(w http.ResponseWriter, r *http.Request) bool {
	if h := r.Header.Get("Authorization"); h != "" {
		if h != "Bearer "+s.token {
			w.Header().Set("WWW-Authenticate", `Bearer realm="https://accounts.google.com/", error="invalid_token"`)
			b := newError(http.StatusUnauthorized, "authError", "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.", "global")
			b.Error.Status = "UNAUTHENTICATED"
			writeJSON(w, http.StatusUnauthorized, b)
			return false
		}
		return true
	}
	switch key := r.URL.Query().Get("key"); key {
	case s.key:
		return true
	case "":
		writeError(w, http.StatusForbidden, "forbidden", "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.", "global")
	default:
		b := newError(http.StatusBadRequest, "badRequest", "API key not valid. Please pass a valid API key.", "global")
		b.Error.Status = "INVALID_ARGUMENT"
		b.Error.Details = []errorDetail{{Type: "type.googleapis.com/google.rpc.ErrorInfo", Reason: "API_KEY_INVALID", Domain: "googleapis.com"}}
		writeJSON(w, http.StatusBadRequest, b)
	}
	return false
}

func (s *Server) commentThreads(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	parts := map[string]bool{}
	for _, p := range strings.Split(q.Get("part"), ",") {
		parts[strings.TrimSpace(p)] = true
	}
	switch {
	case !parts["snippet"] || !parts["replies"]:
		s.api.Unexpected(w, r, "part must hold snippet and replies")
		return
	case q.Get("allThreadsRelatedToChannelId") == "":
		s.api.Unexpected(w, r, "allThreadsRelatedToChannelId is missing")
		return
	case q.Get("order") != "time":
		s.api.Unexpected(w, r, "order must be time")
		return
	case q.Get("textFormat") != "plainText":
		s.api.Unexpected(w, r, "textFormat must be plainText")
		return
	case q.Has("key") && r.Header.Get("Authorization") != "":
		s.api.Unexpected(w, r, "both key and bearer token")
		return
	}
	size := 20
	if v := q.Get("maxResults"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			s.api.Unexpected(w, r, "maxResults must be 1 to 100")
			return
		}
		size = n
	}
	if !s.authorized(w, r) {
		return
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.inject) > 0 {
		fail := s.inject[0]
		s.inject = s.inject[1:]
		fail(w)
		return
	}
	if s.used >= s.quota {
		writeError(w, http.StatusForbidden, "quotaExceeded", quotaMessage, "youtube.quota")
		return
	}
	s.used++

	channel := q.Get("allThreadsRelatedToChannelId")
	ts := append([]Thread(nil), s.threads[channel]...)
	sort.SliceStable(ts, func(i, j int) bool {
		a, b := ts[i].Comment, ts[j].Comment
		if !a.PublishedAt.Equal(b.PublishedAt) {
			return a.PublishedAt.After(b.PublishedAt)
		}
		return a.ID > b.ID
	})
	start := 0
	if tok := q.Get("pageToken"); tok != "" {
		var ok bool
		if start, ok = s.resolve(tok, ts); !ok {
			writeError(w, http.StatusBadRequest, "invalidPageToken", "The request specifies an invalid page token.", "youtube.parameter")
			return
		}
	}
	end := min(start+size, len(ts))
	page := ts[start:end]
	resp := listResponse{
		Kind:     "youtube#commentThreadListResponse",
		ETag:     etag(channel, start, len(ts)),
		PageInfo: pageInfo{TotalResults: len(ts), ResultsPerPage: size},
		Items:    make([]threadJSON, 0, len(page)),
	}
	if end < len(ts) {
		resp.NextPageToken = s.token4(end, ts[end-1])
	}
	for _, t := range page {
		resp.Items = append(resp.Items, toJSON(channel, t))
	}
	writeJSON(w, http.StatusOK, resp)
}

// Page tokens: keyset tokens name the last thread of the page (stable when
// comments arrive); offset tokens name a position.
func (s *Server) token4(offset int, last Thread) string {
	if s.offsetTokens {
		return base64.RawURLEncoding.EncodeToString([]byte("o:" + strconv.Itoa(offset)))
	}
	return base64.RawURLEncoding.EncodeToString([]byte("k:" + last.Comment.PublishedAt.Format(time.RFC3339Nano) + "|" + last.Comment.ID))
}

func (s *Server) resolve(tok string, ts []Thread) (int, bool) {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return 0, false
	}
	v := string(b)
	if o, ok := strings.CutPrefix(v, "o:"); ok {
		n, err := strconv.Atoi(o)
		return min(n, len(ts)), err == nil && n >= 0
	}
	k, ok := strings.CutPrefix(v, "k:")
	if !ok {
		return 0, false
	}
	at, id, ok := strings.Cut(k, "|")
	t, err := time.Parse(time.RFC3339Nano, at)
	if !ok || err != nil {
		return 0, false
	}
	// The first thread after (t, id) in the order.
	for i, th := range ts {
		c := th.Comment
		if c.PublishedAt.Before(t) || c.PublishedAt.Equal(t) && c.ID < id {
			return i, true
		}
	}
	return len(ts), true
}

// etag is a stable stand-in for the API's etags.
func etag(parts ...any) string {
	h := fnv.New128a()
	fmt.Fprint(h, parts...)
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil))
}

type listResponse struct {
	Kind          string       `json:"kind"`
	ETag          string       `json:"etag"`
	NextPageToken string       `json:"nextPageToken,omitempty"`
	PageInfo      pageInfo     `json:"pageInfo"`
	Items         []threadJSON `json:"items"`
}

type pageInfo struct {
	TotalResults   int `json:"totalResults"`
	ResultsPerPage int `json:"resultsPerPage"`
}

type threadJSON struct {
	Kind    string `json:"kind"`
	ETag    string `json:"etag"`
	ID      string `json:"id"`
	Snippet struct {
		ChannelID       string      `json:"channelId"`
		VideoID         string      `json:"videoId"`
		TopLevelComment commentJSON `json:"topLevelComment"`
		CanReply        bool        `json:"canReply"`
		TotalReplyCount int         `json:"totalReplyCount"`
		IsPublic        bool        `json:"isPublic"`
	} `json:"snippet"`
	Replies *repliesJSON `json:"replies,omitempty"`
}

type repliesJSON struct {
	Comments []commentJSON `json:"comments"`
}

type commentJSON struct {
	Kind    string         `json:"kind"`
	ETag    string         `json:"etag"`
	ID      string         `json:"id"`
	Snippet commentSnippet `json:"snippet"`
}

type commentSnippet struct {
	ChannelID             string `json:"channelId"`
	VideoID               string `json:"videoId"`
	ParentID              string `json:"parentId,omitempty"`
	TextDisplay           string `json:"textDisplay"`
	TextOriginal          string `json:"textOriginal"`
	AuthorDisplayName     string `json:"authorDisplayName"`
	AuthorProfileImageURL string `json:"authorProfileImageUrl"`
	AuthorChannelURL      string `json:"authorChannelUrl"`
	AuthorChannelID       struct {
		Value string `json:"value"`
	} `json:"authorChannelId"`
	CanRate      bool   `json:"canRate"`
	ViewerRating string `json:"viewerRating"`
	LikeCount    int64  `json:"likeCount"`
	PublishedAt  string `json:"publishedAt"`
	UpdatedAt    string `json:"updatedAt"`
}

func toJSON(channel string, t Thread) threadJSON {
	var j threadJSON
	j.Kind = "youtube#commentThread"
	j.ID = t.Comment.ID
	j.ETag = etag("t", t.Comment.ID, len(t.Replies))
	j.Snippet.ChannelID = channel
	j.Snippet.VideoID = t.VideoID
	j.Snippet.TopLevelComment = commentToJSON(channel, t.VideoID, "", t.Comment)
	j.Snippet.CanReply = true
	j.Snippet.TotalReplyCount = len(t.Replies)
	j.Snippet.IsPublic = true
	if len(t.Replies) > 0 {
		rs := t.Replies
		if len(rs) > MaxEmbeddedReplies {
			rs = rs[len(rs)-MaxEmbeddedReplies:]
		}
		j.Replies = &repliesJSON{}
		for _, r := range rs {
			j.Replies.Comments = append(j.Replies.Comments, commentToJSON(channel, t.VideoID, t.Comment.ID, r))
		}
	}
	return j
}

func commentToJSON(channel, video, parent string, c Comment) commentJSON {
	var j commentJSON
	j.Kind = "youtube#comment"
	j.ETag = etag("c", c.ID, c.Likes)
	j.ID = c.ID
	s := &j.Snippet
	s.ChannelID = channel
	s.VideoID = video
	s.ParentID = parent
	s.TextDisplay = c.Text
	s.TextOriginal = c.Text
	s.AuthorDisplayName = c.AuthorName
	s.AuthorProfileImageURL = "https://yt3.ggpht.com/ytc/" + c.AuthorChannelID + "=s48-c-k-c0x00ffffff-no-rj"
	if h, ok := strings.CutPrefix(c.AuthorName, "@"); ok {
		s.AuthorChannelURL = "http://www.youtube.com/@" + h
	} else {
		s.AuthorChannelURL = "http://www.youtube.com/channel/" + c.AuthorChannelID
	}
	s.AuthorChannelID.Value = c.AuthorChannelID
	s.CanRate = true
	s.ViewerRating = "none"
	s.LikeCount = c.Likes
	s.PublishedAt = c.PublishedAt.UTC().Format(time.RFC3339)
	s.UpdatedAt = s.PublishedAt
	return j
}
