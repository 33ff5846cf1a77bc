package fakeapi

import (
	"net/http"
	"net/http/httptest"
	"sync"
)

// Canned is a loopback server that answers every request with the one
// answer last set, whatever the request: for fuzzing a client with any
// answer of an API.
type Canned struct {
	srv *httptest.Server

	mu     sync.Mutex
	status int
	body   []byte
}

// NewCanned starts a Canned server answering 200 with an empty body; it
// stops at the end of the test.
func NewCanned(t T) *Canned {
	t.Helper()
	c := &Canned{status: http.StatusOK}
	c.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.mu.Lock()
		defer c.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(c.status)
		_, _ = w.Write(c.body)
	}))
	t.Cleanup(c.srv.Close)
	return c
}

// URL is the server's base URL.
func (c *Canned) URL() string { return c.srv.URL }

// Client is an HTTP client for the server.
func (c *Canned) Client() *http.Client { return c.srv.Client() }

// Set makes status and body the answer to the next requests.
func (c *Canned) Set(status int, body []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.status, c.body = status, body
}
