// Package fakeapi is the base of the platforms' fake servers: an HTTP
// server on 127.0.0.1 that answers only the routes a fake registers, logs
// every request, and fails the test on any request it does not expect, so
// that a client calling a wrong path or forgetting a parameter is caught.
package fakeapi

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
)

// T is the part of testing.TB a server needs, so that benchmark programs
// can run the fakes too.
type T interface {
	Helper()
	Errorf(format string, args ...any)
	Cleanup(func())
}

// Request is one request the server received.
type Request struct {
	Method string
	Path   string
	Query  map[string][]string
	Header http.Header
	Body   []byte
}

// Server is a loopback HTTP server for one fake platform.
type Server struct {
	t   T
	mux *http.ServeMux
	srv *httptest.Server

	mu   sync.Mutex
	log  []Request
	hook func(w http.ResponseWriter, r *http.Request) bool
}

// New starts a server on 127.0.0.1; it stops at the end of the test.
func New(t T) *Server {
	t.Helper()
	s := &Server{t: t, mux: http.NewServeMux()}
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.Unexpected(w, r, "no such route")
	})
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	return s
}

// URL is the server's base URL (http://127.0.0.1:port).
func (s *Server) URL() string { return s.srv.URL }

// Handle registers a route with http.ServeMux's pattern syntax.
func (s *Server) Handle(pattern string, h http.HandlerFunc) { s.mux.HandleFunc(pattern, h) }

// Intercept runs fn before routing; when it returns true the request is
// answered (tests use it to inject rate limits and failures).
func (s *Server) Intercept(fn func(w http.ResponseWriter, r *http.Request) bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hook = fn
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	s.mu.Lock()
	s.log = append(s.log, Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Header: r.Header.Clone(), Body: body})
	hook := s.hook
	s.mu.Unlock()
	if hook != nil && hook(w, r) {
		return
	}
	s.mux.ServeHTTP(w, r)
}

// Unexpected fails the test for r and answers 501 with reason.
func (s *Server) Unexpected(w http.ResponseWriter, r *http.Request, reason string) {
	s.t.Errorf("fake API: unexpected request %s %s: %s", r.Method, r.URL.String(), reason)
	http.Error(w, fmt.Sprintf("fake API: unexpected request: %s", reason), http.StatusNotImplemented)
}

// Requests returns the requests received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.log...)
}

// Count returns how many requests were received.
func (s *Server) Count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.log)
}
