// Package mastodonfake is a fake Mastodon instance for tests and
// benchmarks: the mention notifications of one account and hashtag
// timelines, with the real entities, min_id/max_id/since_id paging, Link
// headers, bearer token checks, X-RateLimit-* headers on every answer, a
// request budget per 5-minute period, Mastodon's error bodies, and
// injectable rate limits and failures. Any request it does not expect (a
// wrong path, a parameter the client should not send, a limit above the
// maximum, notifications without types[]=mention) fails the test.
package mastodonfake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"vigie/internal/platform/fakeapi"
)

// Token is the access token the fake accepts unless told otherwise.
const Token = "fake-mastodon-token"

// Page sizes, as Mastodon has them.
const (
	DefaultNotificationsLimit = 40
	MaxNotificationsLimit     = 80
	DefaultTagLimit           = 20
	MaxTagLimit               = 40
)

// Rate limit defaults: 300 requests per 5 minutes.
const (
	DefaultRateLimit = 300
	RateLimitPeriod  = 5 * time.Minute
)

// ResetFormat is how Mastodon writes X-RateLimit-Reset (Ruby's
// Time#iso8601(6)).
const ResetFormat = "2006-01-02T15:04:05.000000Z"

// Account is a seeded account.
type Account struct {
	ID          string // assigned when empty (one id per username and domain)
	Username    string
	Domain      string // empty for the instance's own accounts
	DisplayName string
	Followers   int64
	Bot         bool
}

// Status is a seeded status.
type Status struct {
	ID                 string // digits; assigned when empty, above every id given so far
	Account            Account
	Content            string // HTML, as Mastodon renders it: "<p>Hello</p>"
	SpoilerText        string
	InReplyToID        string
	InReplyToAccountID string
	Visibility         string    // public when empty; hashtag timelines show public statuses only
	CreatedAt          time.Time // the fake's clock when zero
	Favourites         int64
	Reblogs            int64
	Replies            int64
}

type notification struct {
	id      string
	typ     string
	from    Account
	status  *Status
	created time.Time
}

// Server is the fake instance.
type Server struct {
	api *fakeapi.Server

	mu            sync.Mutex
	token         string
	now           func() time.Time
	me            Account
	notifications []notification      // ascending ids
	tags          map[string][]Status // by lower-cased tag, ascending ids
	accounts      map[string]string   // acct → id
	nextNote      int64
	nextStatus    int64
	nextAccount   int64
	tagsNeedAuth  bool
	limit         int
	period        int64 // the rate limit's current period, in periods since the epoch
	used          int   // requests in it
	count         int   // requests so far
	inject        map[int]func(w http.ResponseWriter)
}

// New starts a fake with no notifications and no statuses.
func New(t fakeapi.T) *Server {
	t.Helper()
	s := &Server{
		api: fakeapi.New(t), token: Token, now: time.Now,
		me:   Account{ID: "14715", Username: "acme", DisplayName: "Acme"},
		tags: map[string][]Status{}, accounts: map[string]string{},
		nextNote: 34975000, nextStatus: 113401617386080000, nextAccount: 109000000000000000,
		limit: DefaultRateLimit, inject: map[int]func(http.ResponseWriter){},
	}
	s.accounts["acme"] = s.me.ID
	s.api.Handle("GET /api/v1/notifications", s.notificationsHandler)
	s.api.Handle("GET /api/v1/timelines/tag/{tag}", s.tagHandler)
	return s
}

// URL is the instance's base URL, to give the client.
func (s *Server) URL() string { return s.api.URL() }

// Requests returns the requests received.
func (s *Server) Requests() []fakeapi.Request { return s.api.Requests() }

// SetToken sets the access token the fake accepts.
func (s *Server) SetToken(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.token = token
}

// SetClock sets the fake's clock (time.Now by default): it dates seeded
// statuses and counts rate-limit periods.
func (s *Server) SetClock(now func() time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now = now
}

// StartIDs sets the next notification and status ids, so that tests can
// make ids cross a power of ten.
func (s *Server) StartIDs(notification, status int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextNote, s.nextStatus = notification, status
}

// RequireAuthForTags makes hashtag timelines refuse anonymous requests,
// as instances that disable public timeline previews do.
func (s *Server) RequireAuthForTags() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tagsNeedAuth = true
}

// SetRateLimit sets how many requests a 5-minute period allows; the next
// ones are answered 429 until the period ends.
func (s *Server) SetRateLimit(limit int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limit = limit
}

// AddMentions seeds mention notifications of the account, one per status,
// and returns the statuses with their ids.
func (s *Server) AddMentions(sts ...Status) []Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Status, 0, len(sts))
	for _, st := range sts {
		st := s.fill(st)
		s.notifications = append(s.notifications, notification{id: s.noteID(), typ: "mention", from: st.Account, status: &st, created: st.CreatedAt})
		out = append(out, st)
	}
	return out
}

// AddNotification seeds a notification of another type (follow,
// favourite, reblog…): it takes a notification id, and a client that
// asks for mentions only never sees it.
func (s *Server) AddNotification(typ string, from Account) {
	s.mu.Lock()
	defer s.mu.Unlock()
	from = s.account(from)
	s.notifications = append(s.notifications, notification{id: s.noteID(), typ: typ, from: from, created: s.now()})
}

// AddTagStatuses seeds statuses on the timeline of tag (with or without
// '#', any case) and returns them with their ids.
func (s *Server) AddTagStatuses(tag string, sts ...Status) []Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := strings.ToLower(strings.TrimPrefix(tag, "#"))
	out := make([]Status, 0, len(sts))
	for _, st := range sts {
		st := s.fill(st)
		s.tags[key] = append(s.tags[key], st)
		out = append(out, st)
	}
	slices.SortStableFunc(s.tags[key], func(a, b Status) int { return compare(a.ID, b.ID) })
	return out
}

// RateLimit makes the next request fail with 429, X-RateLimit-Remaining
// 0 and X-RateLimit-Reset reset, as Mastodon's limiter answers.
func (s *Server) RateLimit(reset time.Time) {
	s.FailAfter(0, func(w http.ResponseWriter) {
		w.Header().Set("X-RateLimit-Remaining", "0")
		w.Header().Set("X-RateLimit-Reset", reset.UTC().Format(ResetFormat))
		writeError(w, http.StatusTooManyRequests, "Too many requests")
	})
}

// Fail makes the next request fail with status and the error body
// {"error": msg}.
func (s *Server) Fail(status int, msg string) {
	s.FailAfter(0, func(w http.ResponseWriter) { writeError(w, status, msg) })
}

// FailBody makes the next request answer status with body as is (an HTML
// page from a proxy, malformed JSON).
func (s *Server) FailBody(status int, contentType, body string) {
	s.FailAfter(0, func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", contentType)
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	})
}

// FailAfter makes the request after the next n answer with fn instead
// (n = 0: the next request), or the first one after it that no other
// failure is set for: Fail twice fails the next two requests. The
// rate-limit headers are set before fn runs.
func (s *Server) FailAfter(n int, fn func(w http.ResponseWriter)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	at := s.count + max(n, 0) + 1
	for s.inject[at] != nil {
		at++
	}
	s.inject[at] = fn
}

func (s *Server) noteID() string {
	id := strconv.FormatInt(s.nextNote, 10)
	s.nextNote++
	return id
}

// fill assigns a status's missing ids and time.
func (s *Server) fill(st Status) Status {
	st.Account = s.account(st.Account)
	if st.ID == "" {
		st.ID = strconv.FormatInt(s.nextStatus, 10)
		s.nextStatus++
	} else if n, err := strconv.ParseInt(st.ID, 10, 64); err == nil && n >= s.nextStatus {
		s.nextStatus = n + 1
	}
	if st.CreatedAt.IsZero() {
		st.CreatedAt = s.now()
	}
	if st.Visibility == "" {
		st.Visibility = "public"
	}
	return st
}

func (s *Server) account(a Account) Account {
	if a.Username == "" {
		a.Username = "someone"
	}
	acct := a.Username
	if a.Domain != "" {
		acct += "@" + a.Domain
	}
	if a.ID == "" {
		a.ID = s.accounts[acct]
		if a.ID == "" {
			a.ID = strconv.FormatInt(s.nextAccount, 10)
			s.nextAccount++
		}
	}
	s.accounts[acct] = a.ID
	return a
}

// compare orders ids as Mastodon does: snowflakes as numbers.
func compare(a, b string) int {
	if len(a) != len(b) {
		return len(a) - len(b)
	}
	return strings.Compare(a, b)
}

func isDigits(s string) bool {
	if s == "" || len(s) > 20 {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// query checks the parameters against the allowed ones and returns the
// limit; ok is false when the request was refused as unexpected.
func (s *Server) query(w http.ResponseWriter, r *http.Request, allowed []string, def, maxLimit int) (q url.Values, limit int, ok bool) {
	q = r.URL.Query()
	for k, vs := range q {
		if !slices.Contains(allowed, k) {
			s.api.Unexpected(w, r, "parameter "+k+" is not one the client should send")
			return nil, 0, false
		}
		if k != "types[]" && len(vs) != 1 {
			s.api.Unexpected(w, r, "parameter "+k+" repeated")
			return nil, 0, false
		}
	}
	for _, k := range []string{"min_id", "max_id", "since_id"} {
		if q.Has(k) && !isDigits(q.Get(k)) {
			s.api.Unexpected(w, r, k+" is not an id")
			return nil, 0, false
		}
	}
	limit = def
	if q.Has("limit") {
		n, err := strconv.Atoi(q.Get("limit"))
		if err != nil || n < 1 || n > maxLimit {
			// Mastodon clamps silently; a client asking more than the
			// maximum has a paging bug that the clamp would hide.
			s.api.Unexpected(w, r, fmt.Sprintf("limit must be 1 to %d", maxLimit))
			return nil, 0, false
		}
		limit = n
	}
	return q, limit, true
}

// gate counts the request against the rate limit, sets the rate-limit
// headers, and answers an injected failure or 429 when due; it returns
// false when it answered. s.mu is held.
func (s *Server) gate(w http.ResponseWriter) bool {
	s.count++
	now := s.now()
	period := int64(RateLimitPeriod / time.Second)
	if p := now.Unix() / period; p != s.period {
		s.period, s.used = p, 0
	}
	s.used++
	h := w.Header()
	h.Set("X-RateLimit-Limit", strconv.Itoa(s.limit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(max(s.limit-s.used, 0)))
	h.Set("X-RateLimit-Reset", time.Unix((s.period+1)*period, 0).UTC().Format(ResetFormat))
	if fn := s.inject[s.count]; fn != nil {
		delete(s.inject, s.count)
		fn(w)
		return false
	}
	if s.used > s.limit {
		writeError(w, http.StatusTooManyRequests, "Too many requests")
		return false
	}
	return true
}

// authorized checks the bearer token. A request without one passes when
// the endpoint is public (required false). s.mu is held.
func (s *Server) authorized(w http.ResponseWriter, r *http.Request, required bool) bool {
	h := r.Header.Get("Authorization")
	if h == "" && !required {
		if s.tagsNeedAuth {
			writeError(w, http.StatusUnprocessableEntity, "This method requires an authenticated user")
			return false
		}
		return true
	}
	if h != "Bearer "+s.token {
		w.Header().Set("WWW-Authenticate", `Bearer realm="Doorkeeper", error="invalid_token", error_description="The access token is invalid"`)
		writeError(w, http.StatusUnauthorized, "The access token is invalid")
		return false
	}
	return true
}

func (s *Server) notificationsHandler(w http.ResponseWriter, r *http.Request) {
	q, limit, ok := s.query(w, r, []string{"types[]", "limit", "min_id", "max_id", "since_id"}, DefaultNotificationsLimit, MaxNotificationsLimit)
	if !ok {
		return
	}
	if !slices.Equal(q["types[]"], []string{"mention"}) {
		s.api.Unexpected(w, r, "types[] must be mention, alone")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.gate(w) || !s.authorized(w, r, true) {
		return
	}
	var mentions []notification
	for _, n := range s.notifications {
		if n.typ == "mention" {
			mentions = append(mentions, n)
		}
	}
	page := paginate(mentions, func(n notification) string { return n.id }, q, limit)
	out := make([]notificationJSON, 0, len(page))
	ids := make([]string, 0, len(page))
	for _, n := range page {
		out = append(out, s.notificationJSON(n))
		ids = append(ids, n.id)
	}
	s.link(w, r, q, ids, limit)
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) tagHandler(w http.ResponseWriter, r *http.Request) {
	q, limit, ok := s.query(w, r, []string{"limit", "min_id", "max_id", "since_id"}, DefaultTagLimit, MaxTagLimit)
	if !ok {
		return
	}
	tag := r.PathValue("tag")
	if tag == "" || strings.HasPrefix(tag, "#") {
		s.api.Unexpected(w, r, "the tag goes without its #")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.gate(w) || !s.authorized(w, r, false) {
		return
	}
	var public []Status
	for _, st := range s.tags[strings.ToLower(tag)] {
		if st.Visibility == "public" {
			public = append(public, st)
		}
	}
	page := paginate(public, func(st Status) string { return st.ID }, q, limit)
	out := make([]statusJSON, 0, len(page))
	ids := make([]string, 0, len(page))
	for _, st := range page {
		out = append(out, s.statusJSON(st, tag))
		ids = append(ids, st.ID)
	}
	s.link(w, r, q, ids, limit)
	writeJSON(w, http.StatusOK, out)
}

// paginate selects a page of all (ascending ids) as Mastodon does:
// max_id and since_id bound it and the newest come first; min_id gives
// the page immediately above it (since_id is then ignored). The page is
// newest first.
func paginate[T any](all []T, id func(T) string, q url.Values, limit int) []T {
	maxID, minID, sinceID := q.Get("max_id"), q.Get("min_id"), q.Get("since_id")
	var sel []T
	for _, x := range all {
		i := id(x)
		switch {
		case maxID != "" && compare(i, maxID) >= 0:
		case minID != "" && compare(i, minID) <= 0:
		case minID == "" && sinceID != "" && compare(i, sinceID) <= 0:
		default:
			sel = append(sel, x)
		}
	}
	if minID != "" {
		sel = sel[:min(limit, len(sel))]
	} else {
		sel = sel[max(len(sel)-limit, 0):]
	}
	slices.Reverse(sel)
	return sel
}

// link sets the Link header as Mastodon does: next (older) when the page
// is full, prev (newer) when it is not empty; both keep limit and types[].
func (s *Server) link(w http.ResponseWriter, r *http.Request, q url.Values, ids []string, limit int) {
	if len(ids) == 0 {
		return
	}
	at := func(k, v string) string {
		p := url.Values{}
		for _, name := range []string{"limit", "types[]"} {
			if q.Has(name) {
				p[name] = q[name]
			}
		}
		p.Set(k, v)
		return s.URL() + r.URL.EscapedPath() + "?" + p.Encode()
	}
	var links []string
	if len(ids) == limit {
		links = append(links, fmt.Sprintf(`<%s>; rel="next"`, at("max_id", ids[len(ids)-1])))
	}
	links = append(links, fmt.Sprintf(`<%s>; rel="prev"`, at("min_id", ids[0])))
	w.Header().Set("Link", strings.Join(links, ", "))
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// The entities, with the fields Mastodon 4 sends.

type accountJSON struct {
	ID             string   `json:"id"`
	Username       string   `json:"username"`
	Acct           string   `json:"acct"`
	DisplayName    string   `json:"display_name"`
	Locked         bool     `json:"locked"`
	Bot            bool     `json:"bot"`
	Discoverable   bool     `json:"discoverable"`
	Group          bool     `json:"group"`
	CreatedAt      string   `json:"created_at"`
	Note           string   `json:"note"`
	URL            string   `json:"url"`
	URI            string   `json:"uri"`
	Avatar         string   `json:"avatar"`
	AvatarStatic   string   `json:"avatar_static"`
	Header         string   `json:"header"`
	HeaderStatic   string   `json:"header_static"`
	FollowersCount int64    `json:"followers_count"`
	FollowingCount int64    `json:"following_count"`
	StatusesCount  int64    `json:"statuses_count"`
	LastStatusAt   *string  `json:"last_status_at"`
	Emojis         []string `json:"emojis"`
	Fields         []string `json:"fields"`
}

type mentionJSON struct {
	ID       string `json:"id"`
	Username string `json:"username"`
	URL      string `json:"url"`
	Acct     string `json:"acct"`
}

type tagJSON struct {
	Name string `json:"name"`
	URL  string `json:"url"`
}

type statusJSON struct {
	ID                 string        `json:"id"`
	CreatedAt          string        `json:"created_at"`
	InReplyToID        *string       `json:"in_reply_to_id"`
	InReplyToAccountID *string       `json:"in_reply_to_account_id"`
	Sensitive          bool          `json:"sensitive"`
	SpoilerText        string        `json:"spoiler_text"`
	Visibility         string        `json:"visibility"`
	Language           string        `json:"language"`
	URI                string        `json:"uri"`
	URL                string        `json:"url"`
	RepliesCount       int64         `json:"replies_count"`
	ReblogsCount       int64         `json:"reblogs_count"`
	FavouritesCount    int64         `json:"favourites_count"`
	EditedAt           *string       `json:"edited_at"`
	Favourited         bool          `json:"favourited"`
	Reblogged          bool          `json:"reblogged"`
	Muted              bool          `json:"muted"`
	Bookmarked         bool          `json:"bookmarked"`
	Content            string        `json:"content"`
	Filtered           []string      `json:"filtered"`
	Reblog             *statusJSON   `json:"reblog"`
	Account            accountJSON   `json:"account"`
	MediaAttachments   []string      `json:"media_attachments"`
	Mentions           []mentionJSON `json:"mentions"`
	Tags               []tagJSON     `json:"tags"`
	Emojis             []string      `json:"emojis"`
	Card               *string       `json:"card"`
	Poll               *string       `json:"poll"`
}

type notificationJSON struct {
	ID        string      `json:"id"`
	Type      string      `json:"type"`
	CreatedAt string      `json:"created_at"`
	GroupKey  string      `json:"group_key"`
	Account   accountJSON `json:"account"`
	Status    *statusJSON `json:"status,omitempty"`
}

func stamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

func (s *Server) accountJSON(a Account) accountJSON {
	acct, home := a.Username, s.URL()
	if a.Domain != "" {
		acct, home = a.Username+"@"+a.Domain, "https://"+a.Domain
	}
	name := a.DisplayName
	return accountJSON{
		ID: a.ID, Username: a.Username, Acct: acct, DisplayName: name, Bot: a.Bot, Discoverable: true,
		CreatedAt: "2022-11-05T00:00:00.000Z", URL: home + "/@" + a.Username, URI: home + "/users/" + a.Username,
		Avatar:         s.URL() + "/avatars/original/missing.png",
		AvatarStatic:   s.URL() + "/avatars/original/missing.png",
		Header:         s.URL() + "/headers/original/missing.png",
		HeaderStatic:   s.URL() + "/headers/original/missing.png",
		FollowersCount: a.Followers, FollowingCount: 12, StatusesCount: 42,
		Emojis: []string{}, Fields: []string{},
	}
}

func (s *Server) statusJSON(st Status, tag string) statusJSON {
	a := s.accountJSON(st.Account)
	j := statusJSON{
		ID: st.ID, CreatedAt: stamp(st.CreatedAt), SpoilerText: st.SpoilerText, Sensitive: st.SpoilerText != "",
		Visibility: st.Visibility, Language: "en",
		URI: a.URI + "/statuses/" + st.ID, URL: a.URL + "/" + st.ID,
		RepliesCount: st.Replies, ReblogsCount: st.Reblogs, FavouritesCount: st.Favourites,
		Content: st.Content, Filtered: []string{}, Account: a,
		MediaAttachments: []string{}, Mentions: []mentionJSON{}, Tags: []tagJSON{}, Emojis: []string{},
	}
	if st.InReplyToID != "" {
		j.InReplyToID = &st.InReplyToID
		if st.InReplyToAccountID != "" {
			j.InReplyToAccountID = &st.InReplyToAccountID
		}
	}
	if tag == "" {
		me := s.accountJSON(s.me)
		j.Mentions = append(j.Mentions, mentionJSON{ID: me.ID, Username: me.Username, URL: me.URL, Acct: me.Acct})
	} else {
		j.Tags = append(j.Tags, tagJSON{Name: strings.ToLower(tag), URL: s.URL() + "/tags/" + url.PathEscape(strings.ToLower(tag))})
	}
	return j
}

func (s *Server) notificationJSON(n notification) notificationJSON {
	j := notificationJSON{ID: n.id, Type: n.typ, CreatedAt: stamp(n.created), GroupKey: "ungrouped-" + n.id, Account: s.accountJSON(n.from)}
	if n.status != nil {
		st := s.statusJSON(*n.status, "")
		j.Status = &st
	}
	return j
}
