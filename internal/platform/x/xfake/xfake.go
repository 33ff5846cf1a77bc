// Package xfake is a fake X API v2 for tests and benchmarks: GET
// /2/users/:id/mentions over seeded posts, newest first, with the real
// response shape (data, includes.users, meta), since_id / until_id /
// pagination_token semantics, field selection, bearer token checks, the
// x-rate-limit-* headers on every answer and a 429 once the window's
// budget is spent. Any request it does not expect fails the test.
package xfake

import (
	"encoding/base32"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"vigie/internal/platform/fakeapi"
)

// Token is the bearer token the fake accepts unless told otherwise.
const Token = "fake-x-bearer-token"

// DefaultLimit is the mentions endpoint's requests per 15-minute window
// for an app token.
const DefaultLimit = 450

// Window is the rate-limit window.
const Window = 15 * time.Minute

// User is a seeded account.
type User struct {
	ID        string
	Username  string
	Name      string
	Followers int64
	Verified  bool
}

// Post is a seeded post mentioning an account.
type Post struct {
	ID              string // a snowflake: newer posts have greater ids
	AuthorID        string
	Text            string // plain; the fake escapes &, < and > as X does
	CreatedAt       time.Time
	ConversationID  string // the post's own id when empty
	InReplyToUserID string
	ReplyToID       string // the post it answers
	Likes, Reposts  int64
	Replies, Quotes int64
}

// Server is the fake API.
type Server struct {
	api *fakeapi.Server

	mu       sync.Mutex
	users    map[string]User
	mentions map[string][]Post // by mentioned user id
	token    string
	now      func() time.Time
	limit    int
	left     int
	reset    time.Time
	inject   []func(w http.ResponseWriter)
}

// New starts a fake with nothing seeded, accepting Token, with
// DefaultLimit requests per window.
func New(t fakeapi.T) *Server {
	t.Helper()
	s := &Server{api: fakeapi.New(t), users: map[string]User{}, mentions: map[string][]Post{}, token: Token,
		now: time.Now, limit: DefaultLimit, left: DefaultLimit}
	s.api.Handle("GET /2/users/{id}/mentions", s.mentionsTimeline)
	return s
}

// URL is the base URL to give the client.
func (s *Server) URL() string { return s.api.URL() }

// Requests returns the requests received.
func (s *Server) Requests() []fakeapi.Request { return s.api.Requests() }

// AddUsers seeds accounts (authors and mentioned accounts).
func (s *Server) AddUsers(us ...User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, u := range us {
		s.users[u.ID] = u
	}
}

// AddMentions seeds posts mentioning userID (which must be added with
// AddUsers for the endpoint to know it).
func (s *Server) AddMentions(userID string, ps ...Post) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mentions[userID] = append(s.mentions[userID], ps...)
	sort.SliceStable(s.mentions[userID], func(i, j int) bool { return newer(s.mentions[userID][i].ID, s.mentions[userID][j].ID) })
}

// SetToken sets the bearer token the fake accepts.
func (s *Server) SetToken(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.token = token
}

// SetNow sets the fake's clock, which times the rate-limit windows.
func (s *Server) SetNow(now func() time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now, s.reset = now, time.Time{}
}

// SetLimit sets the requests allowed per window, starting a new window.
func (s *Server) SetLimit(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limit, s.left, s.reset = n, n, time.Time{}
}

// RateLimit spends what is left of the current window: requests get 429
// until it resets.
func (s *Server) RateLimit() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.window()
	s.left = 0
}

// Reset returns when the current window ends.
func (s *Server) Reset() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.window()
	return s.reset
}

// Fail makes the next request fail with status and a problem body.
func (s *Server) Fail(status int, problemType, title, detail string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.inject = append(s.inject, func(w http.ResponseWriter) {
		writeJSON(w, status, problem{Type: problemType, Title: title, Detail: detail, Status: status})
	})
}

// window starts a new window when the last one ended; s.mu is held.
func (s *Server) window() {
	now := s.now()
	if s.reset.IsZero() || !now.Before(s.reset) {
		s.reset = now.Add(Window).Truncate(time.Second)
		s.left = s.limit
	}
}

type problem struct {
	Errors []problemItem `json:"errors,omitempty"`
	Title  string        `json:"title"`
	Detail string        `json:"detail"`
	Type   string        `json:"type"`
	Status int           `json:"status,omitempty"`
}

type problemItem struct {
	Parameters   map[string][]string `json:"parameters,omitempty"`
	Message      string              `json:"message,omitempty"`
	Value        string              `json:"value,omitempty"`
	Detail       string              `json:"detail,omitempty"`
	Title        string              `json:"title,omitempty"`
	ResourceType string              `json:"resource_type,omitempty"`
	Parameter    string              `json:"parameter,omitempty"`
	ResourceID   string              `json:"resource_id,omitempty"`
	Type         string              `json:"type,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	ct := "application/json; charset=utf-8"
	if _, ok := v.(problem); ok && status >= 400 {
		ct = "application/problem+json"
	}
	w.Header().Set("Content-Type", ct)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func invalidParam(w http.ResponseWriter, name, value, message string) {
	writeJSON(w, http.StatusBadRequest, problem{
		Errors: []problemItem{{Parameters: map[string][]string{name: {value}}, Message: message}},
		Title:  "Invalid Request", Detail: "One or more parameters to your request was invalid.",
		Type: "https://api.twitter.com/2/problems/invalid-request",
	})
}

var (
	digits = regexp.MustCompile(`^[0-9]{1,19}$`)
	known  = map[string]bool{"since_id": true, "until_id": true, "max_results": true, "pagination_token": true,
		"start_time": true, "end_time": true, "tweet.fields": true, "expansions": true, "user.fields": true,
		"media.fields": true, "place.fields": true, "poll.fields": true}
	tweetFields = map[string]bool{"attachments": true, "author_id": true, "context_annotations": true, "conversation_id": true,
		"created_at": true, "edit_controls": true, "edit_history_tweet_ids": true, "entities": true, "geo": true, "id": true,
		"in_reply_to_user_id": true, "lang": true, "note_tweet": true, "public_metrics": true, "possibly_sensitive": true,
		"referenced_tweets": true, "reply_settings": true, "source": true, "text": true, "withheld": true}
	userFields = map[string]bool{"created_at": true, "description": true, "entities": true, "id": true, "location": true,
		"name": true, "pinned_tweet_id": true, "profile_image_url": true, "protected": true, "public_metrics": true,
		"url": true, "username": true, "verified": true, "verified_type": true, "withheld": true}
)

var tokenEncoding = base32.NewEncoding("0123456789abcdefghijklmnopqrstuv").WithPadding(base32.NoPadding)

// A page token names the post below which the next page starts, as X's
// do, so that posts arriving meanwhile do not shift pages.
func encodeToken(id string) string { return tokenEncoding.EncodeToString([]byte("mentions:" + id)) }

func decodeToken(tok string) (string, bool) {
	b, err := tokenEncoding.DecodeString(tok)
	id, ok := strings.CutPrefix(string(b), "mentions:")
	return id, err == nil && ok && digits.MatchString(id)
}

func newer(a, b string) bool {
	if len(a) != len(b) {
		return len(a) > len(b)
	}
	return a > b
}

func fieldSet(v string, allowed map[string]bool) (map[string]bool, string) {
	set := map[string]bool{}
	if v == "" {
		return set, ""
	}
	for _, f := range strings.Split(v, ",") {
		if !allowed[f] {
			return nil, f
		}
		set[f] = true
	}
	return set, ""
}

func (s *Server) mentionsTimeline(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.window()
	limited := s.left <= 0
	if !limited {
		s.left--
	}
	w.Header().Set("x-rate-limit-limit", strconv.Itoa(s.limit))
	w.Header().Set("x-rate-limit-remaining", strconv.Itoa(max(s.left, 0)))
	w.Header().Set("x-rate-limit-reset", strconv.FormatInt(s.reset.Unix(), 10))
	var inject func(http.ResponseWriter)
	if len(s.inject) > 0 && !limited {
		inject, s.inject = s.inject[0], s.inject[1:]
	}
	token := s.token
	s.mu.Unlock()

	if r.Header.Get("Authorization") != "Bearer "+token {
		writeJSON(w, http.StatusUnauthorized, problem{Title: "Unauthorized", Type: "about:blank", Status: 401, Detail: "Unauthorized"})
		return
	}
	if limited {
		writeJSON(w, http.StatusTooManyRequests, problem{Title: "Too Many Requests", Detail: "Too Many Requests", Type: "about:blank", Status: 429})
		return
	}
	if inject != nil {
		inject(w)
		return
	}
	q := r.URL.Query()
	for k := range q {
		if !known[k] {
			s.api.Unexpected(w, r, "unknown query parameter "+k)
			return
		}
	}
	tf, bad := fieldSet(q.Get("tweet.fields"), tweetFields)
	if tf == nil {
		invalidParam(w, "tweet.fields", bad, fmt.Sprintf("The `tweet.fields` query parameter value [%s] is not one of [%s]", bad, keys(tweetFields)))
		return
	}
	uf, bad := fieldSet(q.Get("user.fields"), userFields)
	if uf == nil {
		invalidParam(w, "user.fields", bad, fmt.Sprintf("The `user.fields` query parameter value [%s] is not one of [%s]", bad, keys(userFields)))
		return
	}
	// What Vigie needs: without them a mention has no author or date.
	if !strings.Contains(","+q.Get("expansions")+",", ",author_id,") || !uf["username"] || !tf["created_at"] {
		s.api.Unexpected(w, r, "the client must ask expansions=author_id, user.fields with username and tweet.fields with created_at")
		return
	}
	id := r.PathValue("id")
	if !digits.MatchString(id) {
		invalidParam(w, "id", id, fmt.Sprintf("The `id` query parameter value [%s] does not match ^[0-9]{1,19}$", id))
		return
	}
	size := 10
	if v := q.Get("max_results"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 5 || n > 100 {
			invalidParam(w, "max_results", v, fmt.Sprintf("The `max_results` query parameter value [%s] is not between 5 and 100", v))
			return
		}
		size = n
	}
	since, until := q.Get("since_id"), q.Get("until_id")
	for name, v := range map[string]string{"since_id": since, "until_id": until} {
		if v != "" && !digits.MatchString(v) {
			invalidParam(w, name, v, fmt.Sprintf("The `%s` query parameter value [%s] is not valid", name, v))
			return
		}
	}
	below := ""
	if tok := q.Get("pagination_token"); tok != "" {
		var ok bool
		if below, ok = decodeToken(tok); !ok {
			invalidParam(w, "pagination_token", tok, fmt.Sprintf("The `pagination_token` query parameter value [%s] is not valid", tok))
			return
		}
	}

	s.mu.Lock()
	_, found := s.users[id]
	var page []Post
	more := false
	for _, p := range s.mentions[id] {
		if since != "" && !newer(p.ID, since) || until != "" && !newer(until, p.ID) || below != "" && !newer(below, p.ID) {
			continue
		}
		if len(page) == size {
			more = true
			break
		}
		page = append(page, p)
	}
	users := s.users
	s.mu.Unlock()
	if !found {
		writeJSON(w, http.StatusOK, problem{Errors: []problemItem{{Value: id, Detail: fmt.Sprintf("Could not find user with id: [%s].", id),
			Title: "Not Found Error", ResourceType: "user", Parameter: "id", ResourceID: id,
			Type: "https://api.twitter.com/2/problems/resource-not-found"}}})
		return
	}
	writeJSON(w, http.StatusOK, render(page, more, tf, uf, users))
}

func keys(m map[string]bool) string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return strings.Join(ks, ", ")
}

// render builds the answer's JSON, with only the fields asked for, as X
// does.
func render(page []Post, more bool, tf, uf map[string]bool, users map[string]User) map[string]any {
	meta := map[string]any{"result_count": len(page)}
	out := map[string]any{"meta": meta}
	if len(page) == 0 {
		return out
	}
	meta["newest_id"], meta["oldest_id"] = page[0].ID, page[len(page)-1].ID
	if more {
		meta["next_token"] = encodeToken(page[len(page)-1].ID)
	}
	data := make([]map[string]any, 0, len(page))
	var authors []map[string]any
	seen := map[string]bool{}
	for _, p := range page {
		text := escape(p.Text)
		t := map[string]any{"id": p.ID, "text": text, "edit_history_tweet_ids": []string{p.ID}}
		if utf8.RuneCountInString(p.Text) > 280 {
			t["text"] = escape(string([]rune(p.Text)[:279])) + "…"
			if tf["note_tweet"] {
				t["note_tweet"] = map[string]any{"text": text}
			}
		}
		conv := p.ConversationID
		if conv == "" {
			conv = p.ID
		}
		set := func(field string, v any) {
			if tf[field] {
				t[field] = v
			}
		}
		set("author_id", p.AuthorID)
		set("created_at", p.CreatedAt.UTC().Format("2006-01-02T15:04:05.000Z"))
		set("conversation_id", conv)
		if p.InReplyToUserID != "" {
			set("in_reply_to_user_id", p.InReplyToUserID)
		}
		if p.ReplyToID != "" {
			set("referenced_tweets", []map[string]string{{"type": "replied_to", "id": p.ReplyToID}})
		}
		set("public_metrics", map[string]int64{"retweet_count": p.Reposts, "reply_count": p.Replies, "like_count": p.Likes,
			"quote_count": p.Quotes, "bookmark_count": 0, "impression_count": 10 * (p.Likes + 1)})
		set("lang", "en")
		data = append(data, t)
		if u, ok := users[p.AuthorID]; ok && !seen[u.ID] {
			seen[u.ID] = true
			ju := map[string]any{"id": u.ID, "name": u.Name, "username": u.Username}
			if uf["verified"] {
				ju["verified"] = u.Verified
			}
			if uf["public_metrics"] {
				ju["public_metrics"] = map[string]int64{"followers_count": u.Followers, "following_count": 100, "tweet_count": 1000, "listed_count": 1, "like_count": 500}
			}
			authors = append(authors, ju)
		}
	}
	out["data"] = data
	if len(authors) > 0 {
		out["includes"] = map[string]any{"users": authors}
	}
	return out
}

// escape escapes text as the API does: &, < and > only.
func escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}
