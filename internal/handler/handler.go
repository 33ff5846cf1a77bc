// Package handler adapts between API Gateway HTTP API events (payload 2.0)
// and net/http, so that Lambda and the local runner run the same
// http.Handler: HTTP is what functions give to lambda.Start; Request and
// WriteResponse are the local runner's side of the same conversion.
package handler

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"

	"vigie/internal/vigie"
	"vigie/internal/web"
)

// APIGatewayMaxBody is the largest request body API Gateway accepts.
const APIGatewayMaxBody = 10 << 20

type requestIDKey struct{}

// RequestID returns the API Gateway request id of the request being served,
// or "" outside HTTP.
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// HTTP returns the Lambda handler that serves API Gateway v2 events with h.
//
// It never returns an error for a request it could rebuild, whatever h
// answered: a returned error makes API Gateway answer 500 with its own body.
// An event it cannot rebuild (a body that is not base64 though it says so)
// gets a 400 JSON answer. A panic in h is not recovered: Lambda counts it as
// a function error, which the template's alarms watch.
func HTTP(h http.Handler) func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	return func(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		req, err := toHTTP(ctx, ev)
		if err != nil {
			return errorResponse(http.StatusBadRequest, vigie.KindInvalid, "the request could not be read"), nil
		}
		w := &responseWriter{header: http.Header{}}
		h.ServeHTTP(w, req)
		return w.response(), nil
	}
}

// toHTTP rebuilds the request API Gateway received.
func toHTTP(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (*http.Request, error) {
	body := []byte(ev.Body)
	if ev.IsBase64Encoded {
		var err error
		if body, err = base64.StdEncoding.DecodeString(ev.Body); err != nil {
			return nil, fmt.Errorf("handler: body is not base64: %w", err)
		}
	}
	path := ev.RawPath
	if path == "" {
		path = ev.RequestContext.HTTP.Path
	}
	if path == "" {
		path = "/"
	}
	u := &url.URL{Path: path, RawQuery: ev.RawQueryString}
	// rawPath is the path as sent, still percent-encoded.
	if p, err := url.PathUnescape(path); err == nil {
		u.Path, u.RawPath = p, path
	}
	method := ev.RequestContext.HTTP.Method
	if method == "" {
		method = http.MethodGet
	}
	ctx = context.WithValue(ctx, requestIDKey{}, ev.RequestContext.RequestID)
	req, err := http.NewRequestWithContext(ctx, method, u.String(), bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("handler: rebuild request: %w", err)
	}
	req.URL = u
	req.RequestURI = u.RequestURI()
	if major, minor, ok := http.ParseHTTPVersion(ev.RequestContext.HTTP.Protocol); ok {
		req.Proto, req.ProtoMajor, req.ProtoMinor = ev.RequestContext.HTTP.Protocol, major, minor
	}
	for k, v := range ev.Headers {
		// API Gateway has already joined repeated headers with commas, and
		// moved Cookie headers into Cookies.
		req.Header.Set(k, v)
	}
	if len(ev.Cookies) > 0 {
		req.Header.Set("Cookie", strings.Join(ev.Cookies, "; "))
	}
	req.Host = req.Header.Get("Host")
	req.Header.Del("Host") // net/http keeps it in Host only
	if req.Host == "" {
		req.Host = ev.RequestContext.DomainName
	}
	if ip := ev.RequestContext.HTTP.SourceIP; ip != "" {
		// API Gateway does not tell the source port.
		req.RemoteAddr = net.JoinHostPort(ip, "0")
	}
	return req, nil
}

// responseWriter keeps what a handler answers, as net/http's server would
// send it, for the API Gateway response. (Not httptest.ResponseRecorder: it
// differs from the server in places, and production code should not carry
// the test package.)
type responseWriter struct {
	header http.Header
	sent   http.Header // the header as it was at WriteHeader
	status int
	body   bytes.Buffer
}

func (w *responseWriter) Header() http.Header { return w.header }

func (w *responseWriter) WriteHeader(status int) {
	if w.status != 0 || status < 200 {
		return // net/http ignores a second status; 1xx answers have no place here
	}
	w.status, w.sent = status, w.header.Clone()
}

func (w *responseWriter) Write(p []byte) (int, error) {
	w.WriteHeader(http.StatusOK) // no-op once a status is set
	if w.status == http.StatusNoContent || w.status == http.StatusNotModified {
		return 0, http.ErrBodyNotAllowed
	}
	return w.body.Write(p)
}

// Flush commits the header; the body is sent whole at the end anyway.
func (w *responseWriter) Flush() { w.WriteHeader(http.StatusOK) }

func (w *responseWriter) response() events.APIGatewayV2HTTPResponse {
	w.WriteHeader(http.StatusOK) // a handler that wrote nothing answered 200
	body := w.body.Bytes()
	// Like net/http: sniff a type the handler neither set nor suppressed.
	if _, ok := w.sent["Content-Type"]; !ok && len(body) > 0 {
		w.sent.Set("Content-Type", http.DetectContentType(body))
	}
	resp := events.APIGatewayV2HTTPResponse{StatusCode: w.status, Headers: map[string]string{}}
	for k, vs := range w.sent {
		switch {
		case len(vs) == 0:
		case k == "Set-Cookie":
			// Payload 2.0 carries cookies apart: they cannot be comma-joined.
			resp.Cookies = append(resp.Cookies, vs...)
		default:
			resp.Headers[k] = strings.Join(vs, ", ")
		}
	}
	resp.Body, resp.IsBase64Encoded = encodeBody(body, w.sent.Get("Content-Type"))
	return resp
}

// encodeBody returns body as API Gateway carries it: as is when it is text,
// base64 otherwise.
func encodeBody(body []byte, contentType string) (string, bool) {
	if len(body) == 0 || textual(contentType) && utf8.Valid(body) {
		return string(body), false
	}
	return base64.StdEncoding.EncodeToString(body), true
}

// textual reports whether a media type is text, so travels unencoded.
func textual(contentType string) bool {
	mt, _, _ := strings.Cut(contentType, ";")
	mt = strings.ToLower(strings.TrimSpace(mt))
	switch {
	case strings.HasPrefix(mt, "text/"), strings.HasSuffix(mt, "+json"), strings.HasSuffix(mt, "+xml"):
		return true
	}
	switch mt {
	case "application/json", "application/xml", "application/javascript", "application/x-ndjson", "application/yaml":
		return true
	}
	return false
}

func errorResponse(status int, code, msg string) events.APIGatewayV2HTTPResponse {
	body, _ := json.Marshal(web.ErrorBody{Error: web.ErrorDetail{Code: code, Message: msg}})
	return events.APIGatewayV2HTTPResponse{
		StatusCode: status,
		Headers:    map[string]string{"Content-Type": "application/json"},
		Body:       string(body) + "\n",
	}
}

// Request builds the API Gateway v2 event for r, as API Gateway would for
// the route routeKey (e.g. "POST /v1/hooks/{workspace}/generic") with the
// given path parameters. A body over maxBody bytes is a TooLarge error;
// maxBody <= 0 means API Gateway's own limit, 10 MB (functions enforce
// their own, lower).
func Request(r *http.Request, routeKey string, pathParams map[string]string, maxBody int64) (events.APIGatewayV2HTTPRequest, error) {
	if maxBody <= 0 {
		maxBody = APIGatewayMaxBody
	}
	body, err := web.ReadBody(r, maxBody)
	if err != nil {
		return events.APIGatewayV2HTTPRequest{}, err
	}
	headers := map[string]string{}
	var cookies []string
	for k, vs := range r.Header {
		if http.CanonicalHeaderKey(k) == "Cookie" {
			// API Gateway splits cookies out, unparsed.
			for _, v := range vs {
				for c := range strings.SplitSeq(v, ";") {
					if c = strings.TrimSpace(c); c != "" {
						cookies = append(cookies, c)
					}
				}
			}
			continue
		}
		headers[strings.ToLower(k)] = strings.Join(vs, ",")
	}
	if r.Host != "" {
		headers["host"] = r.Host
	}
	ip := r.RemoteAddr
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		ip = host
	}
	if ip != "" {
		if xff := headers["x-forwarded-for"]; xff != "" {
			headers["x-forwarded-for"] = xff + ", " + ip
		} else {
			headers["x-forwarded-for"] = ip
		}
	}
	headers["x-forwarded-proto"] = "http"
	if r.TLS != nil {
		headers["x-forwarded-proto"] = "https"
	}
	var query map[string]string
	if q := r.URL.Query(); len(q) > 0 {
		query = make(map[string]string, len(q))
		for k, vs := range q {
			query[k] = strings.Join(vs, ",") // as API Gateway joins repeats
		}
	}
	if len(pathParams) == 0 {
		pathParams = nil
	}
	domain := r.Host
	if h, _, err := net.SplitHostPort(domain); err == nil {
		domain = h
	}
	now := time.Now()
	ev := events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: routeKey, RawPath: r.URL.EscapedPath(), RawQueryString: r.URL.RawQuery,
		Cookies: cookies, Headers: headers, QueryStringParameters: query, PathParameters: pathParams,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RouteKey: routeKey, AccountID: "000000000000", Stage: "$default", APIID: "local",
			DomainName: r.Host, DomainPrefix: strings.Split(domain, ".")[0], RequestID: newRequestID(),
			Time: now.UTC().Format("02/Jan/2006:15:04:05 -0700"), TimeEpoch: now.UnixMilli(),
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method: r.Method, Path: r.URL.EscapedPath(), Protocol: r.Proto, SourceIP: ip, UserAgent: r.UserAgent(),
			},
		},
	}
	ev.Body, ev.IsBase64Encoded = encodeBody(body, r.Header.Get("Content-Type"))
	return ev, nil
}

// newRequestID returns an id shaped like API Gateway's ("JKJaXmPLvHcESHA=").
func newRequestID() string {
	b := make([]byte, 11)
	_, _ = rand.Read(b) // never fails (crypto/rand, Go 1.24+)
	return base64.StdEncoding.EncodeToString(b)
}

// WriteResponse writes an API Gateway v2 response to w, as API Gateway
// would answer it. It fails only if the body is not the base64 it claims to
// be (then nothing is written) or the connection fails.
func WriteResponse(w http.ResponseWriter, resp events.APIGatewayV2HTTPResponse) error {
	body := []byte(resp.Body)
	if resp.IsBase64Encoded {
		var err error
		if body, err = base64.StdEncoding.DecodeString(resp.Body); err != nil {
			return fmt.Errorf("handler: response body is not base64: %w", err)
		}
	}
	for k, v := range resp.Headers {
		w.Header().Set(k, v)
	}
	for k, vs := range resp.MultiValueHeaders {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	for _, c := range resp.Cookies {
		w.Header().Add("Set-Cookie", c)
	}
	status := resp.StatusCode
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	if len(body) == 0 {
		return nil
	}
	if _, err := w.Write(body); err != nil {
		return fmt.Errorf("handler: write response: %w", err)
	}
	return nil
}

var (
	_ http.ResponseWriter = (*responseWriter)(nil)
	_ http.Flusher        = (*responseWriter)(nil)
)
