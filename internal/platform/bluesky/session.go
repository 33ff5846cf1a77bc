package bluesky

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"time"

	"vigie/internal/platform"
	"vigie/internal/vigie"
)

// flight is a createSession or refreshSession under way, which other
// callers wait for instead of starting their own: createSession is
// limited to 30 a 5 minutes per account, and a refresh token is good for
// one refresh only.
type flight struct {
	done chan struct{}
	err  error
}

// session returns the session to call the API with: the current one, or a
// new one when there is none or when stale, a session the API refused, is
// still the current one. The new one comes from refreshSession with the
// stale session's refresh token, or else from createSession. n counts the
// requests made.
func (c *Client) session(ctx context.Context, stale *session, n *int) (*session, error) {
	for {
		c.mu.Lock()
		if c.sess != nil && c.sess != stale {
			s := c.sess
			c.mu.Unlock()
			return s, nil
		}
		if c.refused != nil {
			err := c.refused
			c.mu.Unlock()
			return nil, err
		}
		if f := c.flight; f != nil {
			c.mu.Unlock()
			select {
			case <-f.done:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
			if f.err != nil && !isContextError(f.err) {
				return nil, f.err
			}
			continue // the flight succeeded, or its caller gave up: look again
		}
		f := &flight{done: make(chan struct{})}
		c.flight = f
		cur := c.sess
		c.mu.Unlock()

		s, err := c.open(ctx, cur, n)

		c.mu.Lock()
		c.flight = nil
		if err == nil {
			c.sess = s
		}
		f.err = err
		close(f.done)
		c.mu.Unlock()
		return s, err
	}
}

func isContextError(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// open makes a new session: by refreshing cur when there is one, else (or
// when the refresh token is refused too) by logging in.
func (c *Client) open(ctx context.Context, cur *session, n *int) (*session, error) {
	if cur != nil {
		s, err := c.call(ctx, "com.atproto.server.refreshSession", cur.Refresh, nil, n, responseError)
		if err == nil {
			return s, nil
		}
		var e *platform.APIError
		if !errors.As(err, &e) || e.Retryable {
			return nil, err // rate limited, or a transient failure: a login would fare no better
		}
	}
	return c.login(ctx, n)
}

// login calls createSession. A refusal of the credentials is kept for the
// Client's life so that the sources sharing it do not spend the login
// rate limit on a password known to be wrong; a rate limit is kept until
// its reset.
func (c *Client) login(ctx context.Context, n *int) (*session, error) {
	if c.Identifier == "" || c.Password == "" {
		err := &platform.APIError{Platform: platform.Bluesky, Auth: true, Message: "no identifier or app password for the account"}
		c.mu.Lock()
		c.refused = err
		c.mu.Unlock()
		return nil, err
	}
	c.mu.Lock()
	limited := c.loginLimit
	c.mu.Unlock()
	if limited != nil && c.now().Before(limited.Reset) {
		return nil, limited
	}
	body, err := json.Marshal(map[string]string{"identifier": c.Identifier, "password": c.Password})
	if err != nil {
		return nil, err
	}
	s, err := c.call(ctx, "com.atproto.server.createSession", "", body, n, loginError)
	var rl *platform.RateLimitError
	switch {
	case errors.As(err, &rl):
		c.mu.Lock()
		c.loginLimit = rl
		c.mu.Unlock()
	case platform.IsAuth(err):
		c.mu.Lock()
		c.refused = err
		c.mu.Unlock()
	}
	return s, err
}

// call POSTs to a session procedure (createSession with a JSON body,
// refreshSession with the refresh token) and reads the session answered.
func (c *Client) call(ctx context.Context, nsid, bearer string, body []byte, n *int, errorOf func(*platform.Response, time.Time) error) (*session, error) {
	res, err := c.send(ctx, http.MethodPost, nsid, nil, bearer, body, n)
	if err != nil {
		return nil, err
	}
	if res.Status != http.StatusOK {
		return nil, errorOf(res, c.now())
	}
	s, err := parseSession(res.Body)
	if err != nil {
		return nil, &platform.APIError{Platform: platform.Bluesky, Status: res.Status, Message: err.Error(), Retryable: true}
	}
	return s, nil
}

// get calls a query with the session's access token. When the token is
// refused (expired, revoked, 401), it renews the session once and calls
// again; a second refusal is an Auth error.
func (c *Client) get(ctx context.Context, nsid string, q url.Values, n *int) (*platform.Response, *session, error) {
	s, err := c.session(ctx, nil, n)
	if err != nil {
		return nil, nil, err
	}
	res, err := c.send(ctx, http.MethodGet, nsid, q, s.Access, nil, n)
	if err != nil {
		return nil, nil, err
	}
	if res.Status != http.StatusOK && sessionRefused(res) {
		if s, err = c.session(ctx, s, n); err != nil {
			return nil, nil, err
		}
		if res, err = c.send(ctx, http.MethodGet, nsid, q, s.Access, nil, n); err != nil {
			return nil, nil, err
		}
	}
	if res.Status != http.StatusOK {
		return nil, nil, responseError(res, c.now())
	}
	return res, s, nil
}

// send makes one XRPC request. The error never holds the URL or the
// tokens.
func (c *Client) send(ctx context.Context, method, nsid string, q url.Values, bearer string, body []byte, n *int) (*platform.Response, error) {
	u := c.base() + "/xrpc/" + nsid
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, r)
	if err != nil {
		return nil, vigie.Invalidf("base_url", "Bluesky base URL is malformed")
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	*n++
	return platform.Do(c.HTTP, platform.Bluesky, req)
}
