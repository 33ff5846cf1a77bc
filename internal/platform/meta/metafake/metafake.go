// Package metafake is a fake Graph API for tests and benchmarks: the IG
// user fields mentioned_comment and mentioned_media over seeded mentions,
// as thin Instagram mention webhooks are completed. It checks the version
// path, the access token and the fields expression, answers with the real
// shapes and error bodies, sends X-App-Usage and X-Business-Use-Case-Usage
// on every answer, and can be told to rate-limit or expire the token. Any
// request it does not expect fails the test.
package metafake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"

	"vigie/internal/platform/fakeapi"
)

// Token is the access token the fake accepts unless told otherwise.
const Token = "fake-meta-access-token"

// DefaultBudget is how many calls the fake answers before it throttles
// with code 4, as Meta does once X-App-Usage reaches 100.
const DefaultBudget = 1000

// MentionedComment is a seeded comment that mentions an IG user.
type MentionedComment struct {
	IGUserID  string // the account mentioned
	ID        string
	Text      string
	Username  string
	Timestamp time.Time
	LikeCount int64
	MediaID   string
	Permalink string // the media's
}

// MentionedMedia is a seeded media whose caption mentions an IG user.
type MentionedMedia struct {
	IGUserID      string
	ID            string
	Caption       string
	Username      string
	Timestamp     time.Time
	Permalink     string
	LikeCount     int64
	CommentsCount int64
}

// Server is the fake API.
type Server struct {
	t   fakeapi.T
	api *fakeapi.Server

	mu       sync.Mutex
	comments map[string]MentionedComment // by IG user id + "/" + comment id
	media    map[string]MentionedMedia
	token    string
	expired  map[string]bool
	budget   int
	used     int
	inject   []func(w http.ResponseWriter, igUser string)
}

// New starts a fake with nothing seeded, accepting Token.
func New(t fakeapi.T) *Server {
	t.Helper()
	s := &Server{t: t, api: fakeapi.New(t), comments: map[string]MentionedComment{}, media: map[string]MentionedMedia{},
		token: Token, expired: map[string]bool{}, budget: DefaultBudget}
	s.api.Handle("GET /{version}/{id}", s.node)
	return s
}

// URL is the base URL to give the client; the client adds the version.
func (s *Server) URL() string { return s.api.URL() }

// Requests returns the requests received.
func (s *Server) Requests() []fakeapi.Request { return s.api.Requests() }

// AddMentionedComments seeds comments that mention accounts.
func (s *Server) AddMentionedComments(cs ...MentionedComment) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range cs {
		s.comments[c.IGUserID+"/"+c.ID] = c
	}
}

// AddMentionedMedia seeds media whose captions mention accounts.
func (s *Server) AddMentionedMedia(ms ...MentionedMedia) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range ms {
		s.media[m.IGUserID+"/"+m.ID] = m
	}
}

// SetToken sets the access token the fake accepts.
func (s *Server) SetToken(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.token = token
}

// ExpireToken makes every later request with token fail with code 190,
// subcode 463 (session expired).
func (s *Server) ExpireToken(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expired[token] = true
}

// SetBudget sets how many calls are answered before the fake throttles
// every call with code 4; the usage headers report the share spent.
func (s *Server) SetBudget(calls int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.budget, s.used = calls, 0
}

// RateLimit makes the next request fail with HTTP 400 and the rate-limit
// code (4 app, 17 user, 32 Page, 613, 80001 Pages BUC, 80002 Instagram
// BUC), with estimated_time_to_regain_access set to regain (minutes; 0
// leaves it 0, as Meta often does).
func (s *Server) RateLimit(code int, regain time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.inject = append(s.inject, func(w http.ResponseWriter, igUser string) {
		writeUsage(w, igUser, 100, int(regain/time.Minute))
		writeError(w, http.StatusBadRequest, rateLimitMessage(code), "OAuthException", code, 0, true)
	})
}

// Fail makes the next request fail with status and a Graph error of code
// and subcode (0: none).
func (s *Server) Fail(status, code, subcode int, message string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.inject = append(s.inject, func(w http.ResponseWriter, igUser string) {
		writeError(w, status, message, "OAuthException", code, subcode, false)
	})
}

func rateLimitMessage(code int) string {
	switch code {
	case 4:
		return "(#4) Application request limit reached"
	case 17:
		return "(#17) User request limit reached"
	case 32:
		return "(#32) Page request limit reached"
	case 613:
		return "(#613) Calls to this api have exceeded the rate limit."
	case 80002:
		return "(#80002) There have been too many calls to this Instagram account. Wait a bit and try again."
	}
	return fmt.Sprintf("(#%d) There have been too many calls from this ad-account. Wait a bit and try again.", code)
}

type graphError struct {
	Message      string `json:"message"`
	Type         string `json:"type"`
	Code         int    `json:"code"`
	ErrorSubcode int    `json:"error_subcode,omitempty"`
	IsTransient  bool   `json:"is_transient,omitempty"`
	FBTraceID    string `json:"fbtrace_id"`
}

func writeError(w http.ResponseWriter, status int, message, typ string, code, subcode int, transient bool) {
	writeJSON(w, status, map[string]graphError{"error": {Message: message, Type: typ, Code: code, ErrorSubcode: subcode,
		IsTransient: transient, FBTraceID: "AQx1fakeTraceId9kP"}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeUsage sets the usage headers: pct is the share of the budget used.
func writeUsage(w http.ResponseWriter, igUser string, pct, regainMinutes int) {
	app, _ := json.Marshal(map[string]int{"call_count": pct, "total_time": pct / 2, "total_cputime": pct / 2})
	buc, _ := json.Marshal(map[string][]map[string]any{igUser: {{"type": "instagram", "call_count": pct,
		"total_cputime": pct / 2, "total_time": pct / 2, "estimated_time_to_regain_access": regainMinutes}}})
	w.Header().Set("X-App-Usage", string(app))
	w.Header().Set("X-Business-Use-Case-Usage", string(buc))
}

var (
	versionPattern = regexp.MustCompile(`^v[0-9]+\.0$`)
	idPattern      = regexp.MustCompile(`^[0-9]+$`)
	// edgePattern is the field expansion the client sends:
	// mentioned_comment.comment_id(<id>){…} or mentioned_media.media_id(<id>){…}.
	edgePattern = regexp.MustCompile(`^(mentioned_comment)\.comment_id\(([0-9]+)\)\{(.+)\}$|^(mentioned_media)\.media_id\(([0-9]+)\)\{(.+)\}$`)
)

// Subfields each node type has (a subset of the real ones).
var (
	commentFields = map[string]bool{"id": true, "text": true, "username": true, "timestamp": true, "like_count": true, "media": true, "hidden": true}
	mediaFields   = map[string]bool{"id": true, "caption": true, "username": true, "timestamp": true, "permalink": true,
		"like_count": true, "comments_count": true, "media_type": true, "media_url": true}
	nestedMedia = map[string]bool{"id": true, "permalink": true, "media_product_type": true}
)

func (s *Server) node(w http.ResponseWriter, r *http.Request) {
	version, igUser := r.PathValue("version"), r.PathValue("id")
	if !versionPattern.MatchString(version) {
		s.api.Unexpected(w, r, "the path must start with a Graph version such as /v21.0")
		return
	}
	q := r.URL.Query()
	token := q.Get("access_token")

	s.mu.Lock()
	var inject func(http.ResponseWriter, string)
	if len(s.inject) > 0 {
		inject, s.inject = s.inject[0], s.inject[1:]
	}
	wantToken, expired := s.token, s.expired[token]
	s.mu.Unlock()
	if inject != nil {
		inject(w, igUser)
		return
	}
	switch {
	case token == "":
		writeError(w, http.StatusBadRequest, "An access token is required to request this resource.", "OAuthException", 104, 0, false)
		return
	case expired:
		writeError(w, http.StatusBadRequest, "Error validating access token: Session has expired on Friday, 07-Jun-24 10:00:00 PDT. The current time is Saturday, 08-Jun-24 09:12:41 PDT.", "OAuthException", 190, 463, false)
		return
	case token != wantToken:
		writeError(w, http.StatusBadRequest, "Invalid OAuth access token - Cannot parse access token", "OAuthException", 190, 0, false)
		return
	}

	s.mu.Lock()
	s.used++
	pct := 100
	if s.budget > 0 {
		pct = min(100, s.used*100/s.budget)
	}
	throttled := s.used > s.budget
	s.mu.Unlock()
	if throttled {
		writeUsage(w, igUser, 100, 60)
		writeError(w, http.StatusBadRequest, rateLimitMessage(4), "OAuthException", 4, 0, true)
		return
	}
	writeUsage(w, igUser, pct, 0)

	if !idPattern.MatchString(igUser) {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("Unsupported get request. Object with ID '%s' does not exist, cannot be loaded due to missing permissions, or does not support this operation.", igUser), "GraphMethodException", 100, 33, false)
		return
	}
	fields := q.Get("fields")
	m := edgePattern.FindStringSubmatch(fields)
	if m == nil {
		s.api.Unexpected(w, r, "fields must be mentioned_comment.comment_id(<id>){…} or mentioned_media.media_id(<id>){…}")
		return
	}
	edge, id, sub := m[1], m[2], m[3]
	if edge == "" {
		edge, id, sub = m[4], m[5], m[6]
	}
	wanted, nested, ok := parseFields(sub)
	if !ok {
		s.api.Unexpected(w, r, "malformed field list "+sub)
		return
	}
	allowed := commentFields
	if edge == "mentioned_media" {
		allowed = mediaFields
	}
	for _, f := range wanted {
		if !allowed[f] {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("(#100) Tried accessing nonexisting field (%s) on node type (%s)", f, map[string]string{"mentioned_comment": "IGComment", "mentioned_media": "IGMedia"}[edge]), "OAuthException", 100, 0, false)
			return
		}
	}
	for _, f := range nested {
		if !nestedMedia[f] {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("(#100) Tried accessing nonexisting field (%s) on node type (IGMedia)", f), "OAuthException", 100, 0, false)
			return
		}
	}

	s.mu.Lock()
	c, okc := s.comments[igUser+"/"+id]
	md, okm := s.media[igUser+"/"+id]
	s.mu.Unlock()
	out := map[string]any{"id": igUser}
	switch {
	case edge == "mentioned_comment" && okc:
		all := map[string]any{"id": c.ID, "text": c.Text, "username": c.Username, "timestamp": graphTime(c.Timestamp),
			"like_count": c.LikeCount, "hidden": false}
		obj := pick(all, wanted)
		if contains(wanted, "media") {
			obj["media"] = pick(map[string]any{"id": c.MediaID, "permalink": c.Permalink, "media_product_type": "FEED"}, append(nested, "id"))
		}
		out["mentioned_comment"] = obj
	case edge == "mentioned_media" && okm:
		all := map[string]any{"id": md.ID, "caption": md.Caption, "username": md.Username, "timestamp": graphTime(md.Timestamp),
			"permalink": md.Permalink, "like_count": md.LikeCount, "comments_count": md.CommentsCount, "media_type": "IMAGE",
			"media_url": "https://scontent.cdninstagram.com/v/t51.29350-15/" + md.ID + ".jpg"}
		out["mentioned_media"] = pick(all, wanted)
	default:
		writeError(w, http.StatusBadRequest, "(#100) Invalid parameter", "OAuthException", 100, 0, false)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// parseFields splits "a,b,media{c,d}" into top-level fields and the
// fields asked of media; ok is false on a syntax error.
func parseFields(s string) (top, nested []string, ok bool) {
	for s != "" {
		i := strings.IndexAny(s, ",{}")
		if i < 0 {
			top, s = append(top, s), ""
			break
		}
		name := s[:i]
		if name == "" || s[i] == '}' {
			return nil, nil, false
		}
		top = append(top, name)
		if s[i] == '{' {
			end := strings.IndexByte(s[i:], '}')
			if name != "media" || end < 0 {
				return nil, nil, false
			}
			for _, f := range strings.Split(s[i+1:i+end], ",") {
				if f == "" {
					return nil, nil, false
				}
				nested = append(nested, f)
			}
			s = s[i+end+1:]
			if s == "" {
				break
			}
			if s[0] != ',' {
				return nil, nil, false
			}
			s = s[1:]
			continue
		}
		s = s[i+1:]
		if s == "" {
			return nil, nil, false // a trailing comma
		}
	}
	return top, nested, len(top) > 0
}

func pick(all map[string]any, fields []string) map[string]any {
	out := map[string]any{"id": all["id"]} // Graph always returns the id
	for _, f := range fields {
		if v, ok := all[f]; ok {
			out[f] = v
		}
	}
	return out
}

func contains(fs []string, f string) bool {
	for _, x := range fs {
		if x == f {
			return true
		}
	}
	return false
}

func graphTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05-0700") }
