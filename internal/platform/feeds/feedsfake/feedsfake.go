// Package feedsfake serves fake alert feeds for tests and benchmarks:
// Google Alerts-style Atom (redirect links, <b> around matched terms) and
// Talkwalker-style RSS 2.0, built from seeded entries, with ETag and
// Last-Modified and real 304 answers to conditional requests, injectable
// 429s and failures, redirects, and HTML pages for the "not a feed" case.
// Any request it does not expect fails the test.
package feedsfake

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"vigie/internal/platform/fakeapi"
)

// Format is a feed's flavour.
type Format int

// Formats.
const (
	GoogleAlerts Format = iota // Atom 1.0
	Talkwalker                 // RSS 2.0
)

// DefaultKeep is how many recent entries a feed shows, as alert feeds
// keep only their last ones.
const DefaultKeep = 20

// Entry is a seeded article. Title and Content may hold <b> tags.
type Entry struct {
	ID        string // the entry id / guid; derived from URL when empty
	Title     string
	URL       string // the article's real URL
	Content   string
	Author    string
	Published time.Time
}

type feed struct {
	format        Format
	title         string
	entries       []Entry
	keep          int
	unconditional bool // no validators, as some hosts
	modified      time.Time
	version       int
}

// Server is the fake feed host.
type Server struct {
	api *fakeapi.Server
	mu  sync.Mutex
	// feeds and other pages by path; inject holds the next answers per
	// path.
	feeds  map[string]*feed
	pages  map[string]http.HandlerFunc
	inject map[string][]func(w http.ResponseWriter)
}

// New starts a fake with no feeds.
func New(t fakeapi.T) *Server {
	t.Helper()
	s := &Server{api: fakeapi.New(t), feeds: map[string]*feed{}, pages: map[string]http.HandlerFunc{}, inject: map[string][]func(http.ResponseWriter){}}
	s.api.Handle("GET /", s.serve)
	return s
}

func (s *Server) page(path string, h http.HandlerFunc) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pages[path] = h
	return s.api.URL() + path
}

// URL is the server's base URL.
func (s *Server) URL() string { return s.api.URL() }

// Requests returns the requests received.
func (s *Server) Requests() []fakeapi.Request { return s.api.Requests() }

// GoogleAlertsPath is the path of a Google Alerts feed.
func GoogleAlertsPath(alertID string) string {
	return "/alerts/feeds/17849810695950872924/" + alertID
}

// TalkwalkerPath is the path of a Talkwalker Alerts feed.
func TalkwalkerPath(token string) string { return "/alerts/rss/" + token }

// AddFeed serves a feed of format at path and returns its URL.
func (s *Server) AddFeed(path string, f Format, title string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.feeds[path] = &feed{format: f, title: title, keep: DefaultKeep, modified: time.Date(2025, 5, 1, 0, 0, 0, 0, time.UTC)}
	return s.api.URL() + path
}

// AddEntries adds entries to the feed at path; the feed changes (new ETag
// and Last-Modified).
func (s *Server) AddEntries(path string, es ...Entry) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.feeds[path]
	f.entries = append(f.entries, es...)
	f.version++
	for _, e := range es {
		if e.Published.After(f.modified) {
			f.modified = e.Published
		}
	}
	f.modified = f.modified.Add(time.Second).Truncate(time.Second)
}

// Keep sets how many recent entries the feed at path shows.
func (s *Server) Keep(path string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.feeds[path].keep = n
}

// Unconditional makes the feed at path send no validators and ignore
// conditional requests.
func (s *Server) Unconditional(path string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.feeds[path].unconditional = true
}

// AddHTML serves an HTML page at path (a Google Alerts management page
// pasted for a feed) and returns its URL.
func (s *Server) AddHTML(path, page string) string {
	return s.page(path, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=UTF-8")
		fmt.Fprint(w, page)
	})
}

// AddRaw serves body with contentType at path and returns its URL.
func (s *Server) AddRaw(path, contentType string, body []byte) string {
	return s.page(path, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", contentType)
		_, _ = w.Write(body)
	})
}

// Redirect answers from with a 301 to to (a path or a URL) and returns
// from's URL.
func (s *Server) Redirect(from, to string) string {
	return s.page(from, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, to, http.StatusMovedPermanently)
	})
}

// RateLimit makes the next request to path answer 429, with Retry-After
// when retryAfter > 0.
func (s *Server) RateLimit(path string, retryAfter time.Duration) {
	s.Fail(path, http.StatusTooManyRequests, retryAfter)
}

// Fail makes the next request to path answer status (404 or 410 for a
// deleted feed, 5xx...), with Retry-After when retryAfter > 0.
func (s *Server) Fail(path string, status int, retryAfter time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.inject[path] = append(s.inject[path], func(w http.ResponseWriter) {
		if retryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(int(retryAfter/time.Second)))
		}
		http.Error(w, http.StatusText(status), status)
	})
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if inj := s.inject[r.URL.Path]; len(inj) > 0 {
		s.inject[r.URL.Path] = inj[1:]
		inj[0](w)
		return
	}
	if h := s.pages[r.URL.Path]; h != nil {
		h(w, r)
		return
	}
	f := s.feeds[r.URL.Path]
	if f == nil {
		s.api.Unexpected(w, r, "no feed at this path")
		return
	}
	if r.URL.RawQuery != "" {
		s.api.Unexpected(w, r, "a feed takes no query")
		return
	}
	etag := fmt.Sprintf(`"%x-%d"`, sha256.Sum256([]byte(r.URL.Path)), f.version)
	lastMod := f.modified.UTC().Format(http.TimeFormat)
	if !f.unconditional {
		w.Header().Set("ETag", etag)
		w.Header().Set("Last-Modified", lastMod)
		if inm := r.Header.Get("If-None-Match"); inm != "" {
			if inm == etag {
				w.WriteHeader(http.StatusNotModified)
				return
			}
		} else if ims, err := http.ParseTime(r.Header.Get("If-Modified-Since")); err == nil && !f.modified.After(ims) {
			w.WriteHeader(http.StatusNotModified)
			return
		}
	}
	es := append([]Entry(nil), f.entries...)
	sort.SliceStable(es, func(i, j int) bool { return es[i].Published.After(es[j].Published) })
	if f.keep > 0 && len(es) > f.keep {
		es = es[:f.keep]
	}
	switch f.format {
	case GoogleAlerts:
		w.Header().Set("Content-Type", "text/xml; charset=UTF-8")
		fmt.Fprint(w, atomFeed(s.api.URL()+r.URL.Path, r.URL.Path, f, es))
	case Talkwalker:
		w.Header().Set("Content-Type", "application/rss+xml; charset=UTF-8")
		fmt.Fprint(w, rssFeed(s.api.URL()+r.URL.Path, f, es))
	}
}

func esc(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

func entryID(e Entry) string {
	if e.ID != "" {
		return e.ID
	}
	sum := sha256.Sum256([]byte(e.URL))
	return hex.EncodeToString(sum[:8])
}

// googleLink wraps an article URL in Google's redirect, unencoded as
// Google sends it.
func googleLink(u string) string {
	return "https://www.google.com/url?rct=j&sa=t&url=" + u + "&ct=ga&cd=CAIyGjUwMjhiYWRmMWQ5M2MzMGE6Y29tOmVuOlVT&usg=AFQjCNGc3F9NBj810v400CL5oepfu5PTwQ"
}

func atomFeed(self, path string, f *feed, es []Entry) string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="utf-8"?>` + "\n")
	b.WriteString(`<feed xmlns="http://www.w3.org/2005/Atom" xmlns:idx="urn:atom-extension:indexing">` + "\n")
	fmt.Fprintf(&b, "  <id>tag:google.com,2005:reader/user/17849810695950872924/state/com.google/alerts%s</id>\n", esc(strings.TrimPrefix(path, "/alerts/feeds/17849810695950872924")))
	fmt.Fprintf(&b, "  <title>%s</title>\n", esc(f.title))
	fmt.Fprintf(&b, "  <link href=\"%s\" rel=\"self\"></link>\n", esc(self))
	fmt.Fprintf(&b, "  <updated>%s</updated>\n", f.modified.UTC().Format(time.RFC3339))
	for _, e := range es {
		id := entryID(e)
		if e.ID == "" {
			id = "tag:google.com,2013:googlealerts/feed:" + id
		}
		at := e.Published.UTC().Format(time.RFC3339)
		b.WriteString("  <entry>\n")
		fmt.Fprintf(&b, "    <id>%s</id>\n", esc(id))
		// Alerts send HTML escaped into the element: &lt;b&gt;.
		fmt.Fprintf(&b, "    <title type=\"html\">%s</title>\n", esc(e.Title))
		fmt.Fprintf(&b, "    <link href=\"%s\"></link>\n", esc(googleLink(e.URL)))
		fmt.Fprintf(&b, "    <published>%s</published>\n    <updated>%s</updated>\n", at, at)
		fmt.Fprintf(&b, "    <content type=\"html\">%s</content>\n", esc(e.Content))
		fmt.Fprintf(&b, "    <author><name>%s</name></author>\n", esc(e.Author))
		b.WriteString("  </entry>\n")
	}
	b.WriteString("</feed>\n")
	return b.String()
}

func rssFeed(self string, f *feed, es []Entry) string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	b.WriteString(`<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom" xmlns:dc="http://purl.org/dc/elements/1.1/">` + "\n  <channel>\n")
	fmt.Fprintf(&b, "    <title>%s</title>\n    <link>%s</link>\n", esc(f.title), esc(self))
	fmt.Fprintf(&b, "    <atom:link href=\"%s\" rel=\"self\" type=\"application/rss+xml\"/>\n", esc(self))
	fmt.Fprintf(&b, "    <description>%s</description>\n", esc(f.title))
	fmt.Fprintf(&b, "    <lastBuildDate>%s</lastBuildDate>\n", f.modified.UTC().Format(time.RFC1123Z))
	for _, e := range es {
		b.WriteString("    <item>\n")
		fmt.Fprintf(&b, "      <title>%s</title>\n      <link>%s</link>\n", esc(e.Title), esc(e.URL))
		// Talkwalker-style HTML description in CDATA.
		fmt.Fprintf(&b, "      <description><![CDATA[%s]]></description>\n", strings.ReplaceAll(e.Content, "]]>", "]]]]><![CDATA[>"))
		fmt.Fprintf(&b, "      <pubDate>%s</pubDate>\n", e.Published.UTC().Format(time.RFC1123Z))
		fmt.Fprintf(&b, "      <guid isPermaLink=\"false\">%s</guid>\n", esc(entryID(e)))
		if e.Author != "" {
			fmt.Fprintf(&b, "      <dc:creator>%s</dc:creator>\n", esc(e.Author))
		}
		b.WriteString("    </item>\n")
	}
	b.WriteString("  </channel>\n</rss>\n")
	return b.String()
}
