// Package blueskyfake is a fake Bluesky PDS for tests and benchmarks: the
// XRPC procedures and queries the bluesky package calls, with the real
// shapes. It signs in one account with an app password (createSession),
// rotates refresh tokens (refreshSession), checks the access token on
// every read and answers ExpiredToken or InvalidToken as the PDS does,
// lists seeded notifications and searches seeded posts newest first with
// opaque cursors, bounds limit as the lexicons do, sets the RateLimit-*
// headers on every answer, limits createSession to 30 a 5 minutes, and
// can be told to fail. Any request a client should not make fails the
// test.
package blueskyfake

import (
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"vigie/internal/platform/fakeapi"
)

// The account the fake signs in, unless told otherwise.
const (
	Identifier = "acme.bsky.social" // the account's handle
	DID        = "did:plc:acme7ruh4vg3xqb2fkm6dz5o"
	Password   = "abcd-efgh-ijkl-mnop" // an app password
)

// Rate limits, as the reference PDS sets them.
const (
	RateLimit5Min    = 3000 // requests per 5 minutes
	LoginLimit5Min   = 30   // createSession calls per 5 minutes
	rateLimitWindow  = 5 * time.Minute
	maxLimit         = 100
	notificationsDef = 50 // listNotifications' default limit
	searchDef        = 25 // searchPosts' default limit
)

// Author is who wrote a seeded record.
type Author struct {
	DID         string
	Handle      string
	DisplayName string
}

// Notification is a seeded notification of the account.
type Notification struct {
	// URI is the AT-URI of the record that caused it: a post (PostURI)
	// for mention, reply and quote; a like or follow record otherwise.
	URI    string
	Author Author
	Reason string // mention, reply, quote, like, repost, follow…
	// Subject is the reasonSubject: the account's post replied to,
	// quoted, liked or reposted.
	Subject string
	// Text, ReplyRoot and ReplyParent make the post record of mention,
	// reply and quote notifications. A reply without a root is taken as
	// answering the root.
	Text                   string
	ReplyRoot, ReplyParent string
	CreatedAt              time.Time
	IndexedAt              time.Time // CreatedAt when zero
}

// Post is a seeded post, which searches find.
type Post struct {
	URI                             string // PostURI(Author.DID, rkey)
	Author                          Author
	Text                            string
	ReplyRoot, ReplyParent          string
	Likes, Reposts, Replies, Quotes int64
	CreatedAt                       time.Time
	IndexedAt                       time.Time // CreatedAt when zero
}

// PostURI is the AT-URI of the post rkey in did's repo.
func PostURI(did, rkey string) string { return "at://" + did + "/app.bsky.feed.post/" + rkey }

// token is the state of an issued JWT.
type token struct {
	refresh bool
	expired bool // an access token past its lifetime
	revoked bool // a rotated refresh token, or a revoked session
}

// Server is the fake PDS.
type Server struct {
	api *fakeapi.Server

	mu            sync.Mutex
	now           func() time.Time
	password      string
	tokens        map[string]*token
	issued        int
	notifications []Notification
	posts         []Post
	inject        []func(w http.ResponseWriter) // next read answers, in order
	window        time.Time                     // start of the rate-limit window
	used          int                           // requests in the window
	logins        []time.Time                   // createSession calls, for its limit
}

// New starts a fake with the account (Identifier, Password) and no data.
func New(t fakeapi.T) *Server {
	t.Helper()
	s := &Server{api: fakeapi.New(t), now: time.Now, password: Password, tokens: map[string]*token{}}
	s.api.Handle("POST /xrpc/com.atproto.server.createSession", s.createSession)
	s.api.Handle("POST /xrpc/com.atproto.server.refreshSession", s.refreshSession)
	s.api.Handle("GET /xrpc/app.bsky.notification.listNotifications", s.listNotifications)
	s.api.Handle("GET /xrpc/app.bsky.feed.searchPosts", s.searchPosts)
	return s
}

// URL is the base URL to give the client.
func (s *Server) URL() string { return s.api.URL() }

// Requests returns the requests received.
func (s *Server) Requests() []fakeapi.Request { return s.api.Requests() }

// Calls returns how many requests nsid (e.g.
// com.atproto.server.createSession) received.
func (s *Server) Calls(nsid string) int {
	n := 0
	for _, r := range s.api.Requests() {
		if r.Path == "/xrpc/"+nsid {
			n++
		}
	}
	return n
}

// SetClock sets the clock of the rate-limit windows and headers (time.Now
// by default).
func (s *Server) SetClock(now func() time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now = now
}

// AddNotifications seeds notifications of the account.
func (s *Server) AddNotifications(ns ...Notification) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.notifications = append(s.notifications, ns...)
}

// AddPosts seeds posts for searches.
func (s *Server) AddPosts(ps ...Post) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.posts = append(s.posts, ps...)
}

// ExpireAccess makes the access tokens issued so far expired: a read with
// one answers 400 ExpiredToken. Refresh tokens stay good.
func (s *Server) ExpireAccess() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.tokens {
		if !t.refresh {
			t.expired = true
		}
	}
}

// RevokeSessions revokes every token issued so far, as a password change
// or a logout everywhere does: reads and refreshes answer 400
// ExpiredToken "Token has been revoked".
func (s *Server) RevokeSessions() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.tokens {
		t.revoked = true
	}
}

// SetPassword changes the app password createSession accepts.
func (s *Server) SetPassword(p string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.password = p
}

// RateLimit makes the next read answer 429 RateLimitExceeded with
// RateLimit-Reset at reset.
func (s *Server) RateLimit(reset time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.inject = append(s.inject, func(w http.ResponseWriter) {
		h := w.Header()
		h.Set("RateLimit-Limit", strconv.Itoa(RateLimit5Min))
		h.Set("RateLimit-Remaining", "0")
		h.Set("RateLimit-Reset", strconv.FormatInt(reset.Unix(), 10))
		h.Set("RateLimit-Policy", fmt.Sprintf("%d;w=%d", RateLimit5Min, int(rateLimitWindow/time.Second)))
		writeJSON(w, http.StatusTooManyRequests, xrpcError{Error: "RateLimitExceeded", Message: "Rate Limit Exceeded"})
	})
}

// Fail makes the next read answer status with the XRPC error name and
// message (an ExpiredToken or InvalidToken there makes the client renew
// its session).
func (s *Server) Fail(status int, name, message string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.inject = append(s.inject, func(w http.ResponseWriter) {
		s.limitHeaders(w)
		writeJSON(w, status, xrpcError{Error: name, Message: message})
	})
}

// Reply makes the next read answer status, header and body verbatim, as a
// proxy in front of the PDS might (an HTML error page, a cut body, a 429
// with Retry-After only).
func (s *Server) Reply(status int, header http.Header, body string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.inject = append(s.inject, func(w http.ResponseWriter) {
		for k, v := range header {
			w.Header()[k] = v
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	})
}

type xrpcError struct {
	Error   string `json:"error"`
	Message string `json:"message"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// limitHeaders counts the request in the global window and sets the
// RateLimit-* headers. Call with s.mu held.
func (s *Server) limitHeaders(w http.ResponseWriter) {
	now := s.now()
	if s.window.IsZero() || !now.Before(s.window.Add(rateLimitWindow)) {
		s.window, s.used = now.Truncate(rateLimitWindow), 0
	}
	s.used++
	h := w.Header()
	h.Set("RateLimit-Limit", strconv.Itoa(RateLimit5Min))
	h.Set("RateLimit-Remaining", strconv.Itoa(max(RateLimit5Min-s.used, 0)))
	h.Set("RateLimit-Reset", strconv.FormatInt(s.window.Add(rateLimitWindow).Unix(), 10))
	h.Set("RateLimit-Policy", fmt.Sprintf("%d;w=%d", RateLimit5Min, int(rateLimitWindow/time.Second)))
}

// newToken issues a JWT-shaped token. Call with s.mu held.
func (s *Server) newToken(refresh bool) string {
	s.issued++
	scope := "com.atproto.access"
	if refresh {
		scope = "com.atproto.refresh"
	}
	enc := base64.RawURLEncoding
	now := s.now().Unix()
	head := enc.EncodeToString([]byte(`{"typ":"at+jwt","alg":"HS256"}`))
	body := enc.EncodeToString(fmt.Appendf(nil, `{"scope":%q,"sub":%q,"iat":%d,"exp":%d,"jti":"fake-%d"}`, scope, DID, now, now+7200, s.issued))
	sum := sha256.Sum256(fmt.Appendf(nil, "%s.%s", head, body))
	tok := head + "." + body + "." + enc.EncodeToString(sum[:])
	s.tokens[tok] = &token{refresh: refresh}
	return tok
}

// sessionJSON is createSession's and refreshSession's answer.
func (s *Server) sessionJSON() map[string]any {
	return map[string]any{
		"accessJwt":  s.newToken(false),
		"refreshJwt": s.newToken(true),
		"handle":     Identifier,
		"did":        DID,
		"didDoc": map[string]any{
			"@context":    []string{"https://www.w3.org/ns/did/v1"},
			"id":          DID,
			"alsoKnownAs": []string{"at://" + Identifier},
			"service": []map[string]string{{
				"id": "#atproto_pds", "type": "AtprotoPersonalDataServer", "serviceEndpoint": "https://morel.us-east.host.bsky.network",
			}},
		},
		"email":          "social@acme.example",
		"emailConfirmed": true,
		"active":         true,
	}
}

func (s *Server) createSession(w http.ResponseWriter, r *http.Request) {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		s.api.Unexpected(w, r, "createSession needs a JSON body")
		return
	}
	if r.Header.Get("Authorization") != "" {
		s.api.Unexpected(w, r, "createSession takes no Authorization")
		return
	}
	var in struct {
		Identifier string `json:"identifier"`
		Password   string `json:"password"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		s.api.Unexpected(w, r, "createSession body is not JSON")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	recent := s.logins[:0]
	for _, t := range s.logins {
		if now.Sub(t) < rateLimitWindow {
			recent = append(recent, t)
		}
	}
	s.logins = recent
	h := w.Header()
	h.Set("RateLimit-Limit", strconv.Itoa(LoginLimit5Min))
	h.Set("RateLimit-Policy", fmt.Sprintf("%d;w=%d", LoginLimit5Min, int(rateLimitWindow/time.Second)))
	if len(s.logins) >= LoginLimit5Min {
		h.Set("RateLimit-Remaining", "0")
		h.Set("RateLimit-Reset", strconv.FormatInt(s.logins[0].Add(rateLimitWindow).Unix(), 10))
		writeJSON(w, http.StatusTooManyRequests, xrpcError{Error: "RateLimitExceeded", Message: "Rate Limit Exceeded"})
		return
	}
	s.logins = append(s.logins, now)
	h.Set("RateLimit-Remaining", strconv.Itoa(LoginLimit5Min-len(s.logins)))
	h.Set("RateLimit-Reset", strconv.FormatInt(s.logins[0].Add(rateLimitWindow).Unix(), 10))
	switch {
	case in.Identifier == "" || in.Password == "":
		writeJSON(w, http.StatusBadRequest, xrpcError{Error: "InvalidRequest", Message: `Input must have the properties "identifier" and "password"`})
	case !strings.EqualFold(in.Identifier, Identifier) && in.Identifier != DID || in.Password != s.password:
		writeJSON(w, http.StatusUnauthorized, xrpcError{Error: "AuthenticationRequired", Message: "Invalid identifier or password"})
	default:
		writeJSON(w, http.StatusOK, s.sessionJSON())
	}
}

func (s *Server) refreshSession(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if len(body) > 0 {
		s.api.Unexpected(w, r, "refreshSession takes no body")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limitHeaders(w)
	tok, ok := s.bearer(w, r)
	if !ok {
		return
	}
	switch {
	case !tok.refresh:
		writeJSON(w, http.StatusBadRequest, xrpcError{Error: "InvalidToken", Message: "Invalid token type"})
	case tok.revoked:
		writeJSON(w, http.StatusBadRequest, xrpcError{Error: "ExpiredToken", Message: "Token has been revoked"})
	default:
		tok.revoked = true // refresh tokens are good for one refresh
		writeJSON(w, http.StatusOK, s.sessionJSON())
	}
}

// bearer finds the request's token, answering the PDS's errors when there
// is none or it is unknown. Call with s.mu held.
func (s *Server) bearer(w http.ResponseWriter, r *http.Request) (*token, bool) {
	h := r.Header.Get("Authorization")
	if h == "" {
		writeJSON(w, http.StatusUnauthorized, xrpcError{Error: "AuthenticationRequired", Message: "Authentication Required"})
		return nil, false
	}
	jwt, ok := strings.CutPrefix(h, "Bearer ")
	tok := s.tokens[jwt]
	if !ok || tok == nil {
		writeJSON(w, http.StatusUnauthorized, xrpcError{Error: "InvalidToken", Message: "Token could not be verified"})
		return nil, false
	}
	return tok, true
}

// reader checks what every read needs: an injected answer first, then a
// valid access token. Call with s.mu held.
func (s *Server) reader(w http.ResponseWriter, r *http.Request) bool {
	if len(s.inject) > 0 {
		answer := s.inject[0]
		s.inject = s.inject[1:]
		answer(w)
		return false
	}
	s.limitHeaders(w)
	tok, ok := s.bearer(w, r)
	if !ok {
		return false
	}
	switch {
	case tok.refresh:
		writeJSON(w, http.StatusBadRequest, xrpcError{Error: "InvalidToken", Message: "Invalid token type"})
	case tok.revoked:
		writeJSON(w, http.StatusBadRequest, xrpcError{Error: "ExpiredToken", Message: "Token has been revoked"})
	case tok.expired:
		writeJSON(w, http.StatusBadRequest, xrpcError{Error: "ExpiredToken", Message: "Token has expired"})
	default:
		return true
	}
	return false
}

// limit reads the limit parameter: def when absent, 1 to 100.
func limit(v string, def int) (int, bool) {
	if v == "" {
		return def, true
	}
	n, err := strconv.Atoi(v)
	return n, err == nil && n >= 1 && n <= maxLimit
}

func badLimit(w http.ResponseWriter, s *Server) {
	s.limitHeaders(w)
	writeJSON(w, http.StatusBadRequest, xrpcError{Error: "InvalidRequest", Message: "Error: limit must be between 1 and 100"})
}

func badCursor(w http.ResponseWriter, s *Server) {
	s.limitHeaders(w)
	writeJSON(w, http.StatusBadRequest, xrpcError{Error: "InvalidRequest", Message: "Malformed cursor"})
}

func (s *Server) listNotifications(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	for _, reason := range q["reasons"] {
		if reason == "" || strings.Contains(reason, ",") {
			s.api.Unexpected(w, r, "reasons is an array: one reasons= per value")
			return
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	size, ok := limit(q.Get("limit"), notificationsDef)
	if !ok {
		badLimit(w, s)
		return
	}
	if !s.reader(w, r) {
		return
	}
	var ns []Notification
	for _, n := range s.notifications {
		if n.IndexedAt.IsZero() {
			n.IndexedAt = n.CreatedAt
		}
		if len(q["reasons"]) == 0 || contains(q["reasons"], n.Reason) {
			ns = append(ns, n)
		}
	}
	sort.SliceStable(ns, func(i, j int) bool { return newer(ns[i].IndexedAt, ns[i].URI, ns[j].IndexedAt, ns[j].URI) })
	start := 0
	if c := q.Get("cursor"); c != "" {
		// Keyset cursors: the page goes on after the item named, however
		// many arrived meanwhile.
		at, uri, ok := decodeKey(c)
		if !ok {
			badCursor(w, s)
			return
		}
		for start < len(ns) && !newer(at, uri, ns[start].IndexedAt, ns[start].URI) {
			start++
		}
	}
	page := ns[start:min(start+size, len(ns))]
	out := struct {
		Cursor        string `json:"cursor,omitempty"`
		Notifications []any  `json:"notifications"`
		Priority      bool   `json:"priority"`
	}{Notifications: []any{}}
	for _, n := range page {
		out.Notifications = append(out.Notifications, notificationJSON(n))
	}
	if len(page) > 0 {
		// Like the app view, a cursor whenever the page has items: the
		// end is an empty page.
		last := page[len(page)-1]
		out.Cursor = encodeKey(last.IndexedAt, last.URI)
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) searchPosts(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	switch {
	case strings.TrimSpace(q.Get("q")) == "":
		s.api.Unexpected(w, r, "q is required")
		return
	case q.Get("sort") != "latest":
		s.api.Unexpected(w, r, "sort must be latest for polling")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	size, ok := limit(q.Get("limit"), searchDef)
	if !ok {
		badLimit(w, s)
		return
	}
	offset := 0
	if c := q.Get("cursor"); c != "" {
		n, err := strconv.Atoi(c)
		if err != nil || n < 0 {
			badCursor(w, s)
			return
		}
		offset = n
	}
	if !s.reader(w, r) {
		return
	}
	terms := strings.Fields(strings.ToLower(strings.ReplaceAll(q.Get("q"), `"`, " ")))
	var ps []Post
	for _, p := range s.posts {
		if p.IndexedAt.IsZero() {
			p.IndexedAt = p.CreatedAt
		}
		text := strings.ToLower(p.Text)
		match := true
		for _, t := range terms {
			match = match && strings.Contains(text, t)
		}
		if match {
			ps = append(ps, p)
		}
	}
	sortAt := func(p Post) time.Time {
		if p.CreatedAt.Before(p.IndexedAt) {
			return p.CreatedAt
		}
		return p.IndexedAt
	}
	sort.SliceStable(ps, func(i, j int) bool { return newer(sortAt(ps[i]), ps[i].URI, sortAt(ps[j]), ps[j].URI) })
	start := min(offset, len(ps))
	page := ps[start:min(start+size, len(ps))]
	out := struct {
		Cursor    string `json:"cursor,omitempty"`
		HitsTotal int    `json:"hitsTotal"`
		Posts     []any  `json:"posts"`
	}{HitsTotal: len(ps), Posts: []any{}}
	for _, p := range page {
		out.Posts = append(out.Posts, postViewJSON(p))
	}
	if len(page) == size {
		// Like the search service: offset cursors, which shift when posts
		// arrive between two pages, given whenever the page is full.
		out.Cursor = strconv.Itoa(offset + size)
	}
	writeJSON(w, http.StatusOK, out)
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// newer orders items newest first, by time and then URI.
func newer(at time.Time, uri string, bt time.Time, buri string) bool {
	if !at.Equal(bt) {
		return at.After(bt)
	}
	return uri > buri
}

func encodeKey(at time.Time, uri string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(at.UTC().Format(time.RFC3339Nano) + "|" + uri))
}

func decodeKey(c string) (time.Time, string, bool) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return time.Time{}, "", false
	}
	at, uri, ok := strings.Cut(string(b), "|")
	t, err := time.Parse(time.RFC3339Nano, at)
	return t, uri, ok && err == nil
}

// cid is a stable stand-in for a record's CID.
func cid(uri string) string {
	sum := sha256.Sum256([]byte(uri))
	return "bafyrei" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(sum[:]))
}

// datetime formats t as the API does: UTC, milliseconds.
func datetime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

func profileJSON(a Author) map[string]any {
	return map[string]any{
		"did":         a.DID,
		"handle":      a.Handle,
		"displayName": a.DisplayName,
		"avatar":      "https://cdn.bsky.app/img/avatar/plain/" + a.DID + "/bafkreiavatar@jpeg",
		"labels":      []any{},
		"createdAt":   "2023-04-01T00:00:00.000Z",
	}
}

func ref(uri string) map[string]string { return map[string]string{"uri": uri, "cid": cid(uri)} }

func postRecord(text, root, parent string, created time.Time) map[string]any {
	rec := map[string]any{"$type": "app.bsky.feed.post", "text": text, "createdAt": datetime(created), "langs": []string{"en"}}
	if parent != "" {
		if root == "" {
			root = parent
		}
		rec["reply"] = map[string]any{"root": ref(root), "parent": ref(parent)}
	}
	return rec
}

func notificationJSON(n Notification) map[string]any {
	var rec map[string]any
	switch n.Reason {
	case "mention", "reply", "quote":
		rec = postRecord(n.Text, n.ReplyRoot, n.ReplyParent, n.CreatedAt)
		if n.Reason == "quote" && n.Subject != "" {
			rec["embed"] = map[string]any{"$type": "app.bsky.embed.record", "record": ref(n.Subject)}
		}
	case "follow":
		rec = map[string]any{"$type": "app.bsky.graph.follow", "subject": DID, "createdAt": datetime(n.CreatedAt)}
	case "repost":
		rec = map[string]any{"$type": "app.bsky.feed.repost", "subject": ref(n.Subject), "createdAt": datetime(n.CreatedAt)}
	default:
		rec = map[string]any{"$type": "app.bsky.feed.like", "subject": ref(n.Subject), "createdAt": datetime(n.CreatedAt)}
	}
	out := map[string]any{
		"uri":       n.URI,
		"cid":       cid(n.URI),
		"author":    profileJSON(n.Author),
		"reason":    n.Reason,
		"record":    rec,
		"isRead":    false,
		"indexedAt": datetime(n.IndexedAt),
		"labels":    []any{},
	}
	if n.Subject != "" {
		out["reasonSubject"] = n.Subject
	}
	return out
}

func postViewJSON(p Post) map[string]any {
	return map[string]any{
		"uri":           p.URI,
		"cid":           cid(p.URI),
		"author":        profileJSON(p.Author),
		"record":        postRecord(p.Text, p.ReplyRoot, p.ReplyParent, p.CreatedAt),
		"replyCount":    p.Replies,
		"repostCount":   p.Reposts,
		"likeCount":     p.Likes,
		"quoteCount":    p.Quotes,
		"bookmarkCount": 0,
		"indexedAt":     datetime(p.IndexedAt),
		"labels":        []any{},
	}
}
