// Package runtimeapi is a small Lambda Runtime API server for tests and
// benchmarks: it lets a built bootstrap run on this machine exactly as Lambda
// runs it (AWS_LAMBDA_RUNTIME_API), hands it invocations through
// /runtime/invocation/next and collects its responses and errors.
package runtimeapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

const prefix = "/2018-06-01/runtime/"

// Result is what the function answered to one invocation.
type Result struct {
	Payload []byte // the response body, when the function succeeded
	Error   *Error // the error it reported, when it failed
}

// Error is a function error as the runtime reports it.
type Error struct {
	Message string `json:"errorMessage"`
	Type    string `json:"errorType"`
}

func (e *Error) Error() string { return e.Type + ": " + e.Message }

type invocation struct {
	id      string
	payload []byte
	done    chan Result
}

// Server is a Runtime API endpoint on 127.0.0.1.
type Server struct {
	srv      *http.Server
	ln       net.Listener
	queue    chan *invocation
	mu       sync.Mutex
	inflight map[string]*invocation
	nextID   int
	// FirstNext is closed when the function first asks for an invocation,
	// that is when its init is done.
	FirstNext chan struct{}
	// FirstNextAt is when that happened (valid once FirstNext is closed).
	FirstNextAt time.Time
	firstOnce   sync.Once
	initErr     chan *Error
}

// Start listens on a free loopback port.
func Start() (*Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &Server{ln: ln, queue: make(chan *invocation, 16), inflight: map[string]*invocation{},
		FirstNext: make(chan struct{}), initErr: make(chan *Error, 1)}
	s.srv = &http.Server{Handler: http.HandlerFunc(s.serve), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

// Addr is the value for AWS_LAMBDA_RUNTIME_API.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Close stops the server; a function blocked on next sees its connection end.
func (s *Server) Close() error { return s.srv.Close() }

// Invoke queues payload for the function and waits for its answer.
func (s *Server) Invoke(ctx context.Context, payload []byte) (Result, error) {
	s.mu.Lock()
	s.nextID++
	inv := &invocation{id: fmt.Sprintf("req-%06d", s.nextID), payload: payload, done: make(chan Result, 1)}
	s.mu.Unlock()
	select {
	case s.queue <- inv:
	case <-ctx.Done():
		return Result{}, ctx.Err()
	}
	select {
	case r := <-inv.done:
		return r, nil
	case e := <-s.initErr:
		return Result{Error: e}, fmt.Errorf("function init failed: %w", e)
	case <-ctx.Done():
		return Result{}, ctx.Err()
	}
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	path, ok := strings.CutPrefix(r.URL.Path, prefix)
	if !ok {
		http.Error(w, "unknown path", http.StatusNotFound)
		return
	}
	switch {
	case r.Method == http.MethodGet && path == "invocation/next":
		s.firstOnce.Do(func() {
			s.FirstNextAt = time.Now()
			close(s.FirstNext)
		})
		var inv *invocation
		select {
		case inv = <-s.queue:
		case <-r.Context().Done():
			return
		}
		s.mu.Lock()
		s.inflight[inv.id] = inv
		s.mu.Unlock()
		h := w.Header()
		h.Set("Lambda-Runtime-Aws-Request-Id", inv.id)
		h.Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(time.Now().Add(15*time.Second).UnixMilli(), 10))
		h.Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:000000000000:function:test")
		h.Set("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000;Sampled=0")
		h.Set("Content-Type", "application/json")
		_, _ = w.Write(inv.payload)
	case r.Method == http.MethodPost && path == "init/error":
		s.initErr <- readError(r)
		w.WriteHeader(http.StatusAccepted)
	case r.Method == http.MethodPost && strings.HasPrefix(path, "invocation/"):
		rest := strings.TrimPrefix(path, "invocation/")
		id, kind, _ := strings.Cut(rest, "/")
		s.mu.Lock()
		inv := s.inflight[id]
		delete(s.inflight, id)
		s.mu.Unlock()
		if inv == nil {
			http.Error(w, "unknown request id", http.StatusBadRequest)
			return
		}
		switch kind {
		case "response":
			body, _ := io.ReadAll(r.Body)
			inv.done <- Result{Payload: body}
		case "error":
			inv.done <- Result{Error: readError(r)}
		default:
			http.Error(w, "unknown path", http.StatusNotFound)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	default:
		http.Error(w, "unknown path", http.StatusNotFound)
	}
}

func readError(r *http.Request) *Error {
	var e Error
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err := json.Unmarshal(body, &e); err != nil {
		e = Error{Type: "Unparsable", Message: string(body)}
	}
	return &e
}

// ErrNoAnswer is returned when the function exits without answering.
var ErrNoAnswer = errors.New("runtimeapi: the function exited without answering")
