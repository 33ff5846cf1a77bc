package handler

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"vigie/internal/vigie"
)

// seen is what a handler saw of a request.
type seen struct {
	Method, Path, EscapedPath, RawQuery, Host, RemoteAddr, Proto, RequestID string
	Query                                                                   map[string][]string
	Header                                                                  map[string]string
	Cookies                                                                 []string
	Body                                                                    []byte
	ContentLength                                                           int64
}

func see(r *http.Request, headers ...string) seen {
	body, _ := io.ReadAll(r.Body)
	s := seen{
		Method: r.Method, Path: r.URL.Path, EscapedPath: r.URL.EscapedPath(), RawQuery: r.URL.RawQuery,
		Host: r.Host, RemoteAddr: r.RemoteAddr, Proto: r.Proto, RequestID: RequestID(r.Context()),
		Query: r.URL.Query(), Header: map[string]string{}, Body: body, ContentLength: r.ContentLength,
	}
	for _, h := range headers {
		s.Header[h] = strings.Join(r.Header.Values(h), "|")
	}
	for _, c := range r.Cookies() {
		s.Cookies = append(s.Cookies, c.Name+"="+c.Value)
	}
	return s
}

// invoke runs payload through Lambda's own decoding and HTTP(h), and
// decodes the answer as API Gateway would.
func invoke(t *testing.T, h http.Handler, payload string) events.APIGatewayV2HTTPResponse {
	t.Helper()
	out, err := lambda.NewHandler(HTTP(h)).Invoke(context.Background(), []byte(payload))
	if err != nil {
		t.Fatalf("Invoke: %v", err)
	}
	var resp events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		t.Fatalf("response %s: %v", out, err)
	}
	return resp
}

// An event shaped like `sam local generate-event apigateway http-api-proxy`.
const samEvent = `{
  "version": "2.0",
  "routeKey": "POST /v1/hooks/{workspace}/generic",
  "rawPath": "/v1/hooks/acme/caf%C3%A9%2Fx",
  "rawQueryString": "tag=a&tag=b&q=caf%C3%A9",
  "cookies": ["session=s1", "theme=dark"],
  "headers": {
    "host": "abc123.execute-api.eu-west-3.amazonaws.com",
    "content-type": "application/octet-stream",
    "accept": "text/html,application/json",
    "webhook-id": "msg_1"
  },
  "queryStringParameters": {"tag": "a,b", "q": "café"},
  "pathParameters": {"workspace": "acme"},
  "requestContext": {
    "accountId": "123456789012",
    "apiId": "abc123",
    "domainName": "abc123.execute-api.eu-west-3.amazonaws.com",
    "domainPrefix": "abc123",
    "http": {"method": "POST", "path": "/v1/hooks/acme/café/x", "protocol": "HTTP/1.1", "sourceIp": "2001:db8::7", "userAgent": "agent"},
    "requestId": "JKJaXmPLvHcESHA=",
    "routeKey": "POST /v1/hooks/{workspace}/generic",
    "stage": "$default",
    "time": "12/Mar/2020:19:03:58 +0000",
    "timeEpoch": 1583348638390
  },
  "body": "/wD+",
  "isBase64Encoded": true
}`

func TestHTTP_Request(t *testing.T) {
	var got seen
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = see(r, "Content-Type", "Accept", "Webhook-Id", "Host")
	})
	if resp := invoke(t, h, samEvent); resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	want := seen{
		Method: "POST", Path: "/v1/hooks/acme/café/x", EscapedPath: "/v1/hooks/acme/caf%C3%A9%2Fx",
		RawQuery: "tag=a&tag=b&q=caf%C3%A9", Host: "abc123.execute-api.eu-west-3.amazonaws.com",
		RemoteAddr: "[2001:db8::7]:0", Proto: "HTTP/1.1", RequestID: "JKJaXmPLvHcESHA=",
		Query: map[string][]string{"tag": {"a", "b"}, "q": {"café"}},
		Header: map[string]string{
			"Content-Type": "application/octet-stream", "Accept": "text/html,application/json", "Webhook-Id": "msg_1",
			"Host": "", // net/http keeps it in Request.Host only
		},
		Cookies: []string{"session=s1", "theme=dark"}, Body: []byte{0xff, 0x00, 0xfe}, ContentLength: 3,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("handler saw (-want +got):\n%s", diff)
	}
}

func TestHTTP_Response(t *testing.T) {
	png := "\x89PNG\r\n\x1a\n\x00\x00"
	tests := []struct {
		name string
		h    http.HandlerFunc
		want events.APIGatewayV2HTTPResponse
	}{
		{
			name: "json",
			h: func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusCreated)
				_, _ = io.WriteString(w, `{"é":"<&>"}`)
			},
			want: events.APIGatewayV2HTTPResponse{StatusCode: 201, Headers: map[string]string{"Content-Type": "application/json"}, Body: `{"é":"<&>"}`},
		},
		{
			name: "nothing written is 200",
			h:    func(http.ResponseWriter, *http.Request) {},
			want: events.APIGatewayV2HTTPResponse{StatusCode: 200, Headers: map[string]string{}},
		},
		{
			name: "cookies apart, repeated headers joined",
			h: func(w http.ResponseWriter, _ *http.Request) {
				http.SetCookie(w, &http.Cookie{Name: "a", Value: "1"})
				http.SetCookie(w, &http.Cookie{Name: "b", Value: "2", HttpOnly: true})
				w.Header().Add("Vary", "Accept")
				w.Header().Add("Vary", "Origin")
				w.WriteHeader(http.StatusNoContent)
			},
			want: events.APIGatewayV2HTTPResponse{StatusCode: 204, Headers: map[string]string{"Vary": "Accept, Origin"}, Cookies: []string{"a=1", "b=2; HttpOnly"}},
		},
		{
			name: "header changed after WriteHeader is not sent",
			h: func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "text/plain")
				w.WriteHeader(http.StatusAccepted)
				w.Header().Set("X-Late", "1")
				w.WriteHeader(http.StatusInternalServerError)
				_, _ = io.WriteString(w, "ok")
			},
			want: events.APIGatewayV2HTTPResponse{StatusCode: 202, Headers: map[string]string{"Content-Type": "text/plain"}, Body: "ok"},
		},
		{
			name: "binary type is base64",
			h: func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/octet-stream")
				_, _ = io.WriteString(w, "plain bytes")
			},
			want: events.APIGatewayV2HTTPResponse{StatusCode: 200, Headers: map[string]string{"Content-Type": "application/octet-stream"},
				Body: base64.StdEncoding.EncodeToString([]byte("plain bytes")), IsBase64Encoded: true},
		},
		{
			name: "text that is not UTF-8 is base64",
			h: func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "text/plain; charset=latin1")
				_, _ = io.WriteString(w, "caf\xe9")
			},
			want: events.APIGatewayV2HTTPResponse{StatusCode: 200, Headers: map[string]string{"Content-Type": "text/plain; charset=latin1"},
				Body: base64.StdEncoding.EncodeToString([]byte("caf\xe9")), IsBase64Encoded: true},
		},
		{
			name: "type sniffed like net/http",
			h: func(w http.ResponseWriter, _ *http.Request) {
				w.WriteHeader(http.StatusOK)
				_, _ = io.WriteString(w, png)
			},
			want: events.APIGatewayV2HTTPResponse{StatusCode: 200, Headers: map[string]string{"Content-Type": "image/png"},
				Body: base64.StdEncoding.EncodeToString([]byte(png)), IsBase64Encoded: true},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := invoke(t, tt.h, `{"version":"2.0","rawPath":"/","requestContext":{"http":{"method":"GET"}}}`)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("response (-want +got):\n%s", diff)
			}
		})
	}
}

func TestHTTP_UnreadableEvent(t *testing.T) {
	called := false
	h := http.HandlerFunc(func(http.ResponseWriter, *http.Request) { called = true })
	resp := invoke(t, h, `{"version":"2.0","rawPath":"/","body":"!!!","isBase64Encoded":true,"requestContext":{"http":{"method":"POST"}}}`)
	if called || resp.StatusCode != http.StatusBadRequest || !strings.Contains(resp.Body, `"code":"invalid"`) {
		t.Errorf("bad base64: called %v, answer %+v; want a 400 JSON answer without calling the handler", called, resp)
	}
}

func TestRequest(t *testing.T) {
	r := httptest.NewRequest("POST", "http://localhost:8080/v1/hooks/acme/a%2Fb?tag=a&tag=b", strings.NewReader("\xff\x00"))
	r.RemoteAddr = "[::1]:51234"
	r.Header.Set("Content-Type", "application/json")
	r.Header.Add("X-Multi", "1")
	r.Header.Add("X-Multi", "2")
	r.Header.Add("Cookie", "a=1; b=2")
	r.Header.Add("Cookie", "c=3")
	got, err := Request(r, "POST /v1/hooks/{workspace}/generic", map[string]string{"workspace": "acme"}, 100)
	if err != nil {
		t.Fatal(err)
	}
	if got.RequestContext.RequestID == "" || got.RequestContext.TimeEpoch == 0 {
		t.Errorf("request id %q, time %d; want both set", got.RequestContext.RequestID, got.RequestContext.TimeEpoch)
	}
	got.RequestContext.RequestID, got.RequestContext.Time, got.RequestContext.TimeEpoch = "", "", 0
	want := events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: "POST /v1/hooks/{workspace}/generic",
		RawPath: "/v1/hooks/acme/a%2Fb", RawQueryString: "tag=a&tag=b",
		Cookies: []string{"a=1", "b=2", "c=3"},
		Headers: map[string]string{
			"host": "localhost:8080", "content-type": "application/json", "x-multi": "1,2",
			"x-forwarded-for": "::1", "x-forwarded-proto": "http",
		},
		QueryStringParameters: map[string]string{"tag": "a,b"},
		PathParameters:        map[string]string{"workspace": "acme"},
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RouteKey: "POST /v1/hooks/{workspace}/generic", AccountID: "000000000000", Stage: "$default", APIID: "local",
			DomainName: "localhost:8080", DomainPrefix: "localhost",
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method: "POST", Path: "/v1/hooks/acme/a%2Fb", Protocol: "HTTP/1.1", SourceIP: "::1",
			},
		},
		Body: base64.StdEncoding.EncodeToString([]byte("\xff\x00")), IsBase64Encoded: true,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("event (-want +got):\n%s", diff)
	}
}

func TestRequest_TooLarge(t *testing.T) {
	tests := []struct {
		name    string
		size    int
		wantErr bool
	}{
		{"at the limit", 10, false},
		{"over the limit", 11, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/x", strings.NewReader(strings.Repeat("a", tt.size)))
			_, err := Request(r, "POST /x", nil, 10)
			if got := vigie.IsKind(err, vigie.KindTooLarge); got != tt.wantErr {
				t.Errorf("Request(%d bytes, limit 10) = %v; want TooLarge %v", tt.size, err, tt.wantErr)
			}
		})
	}
}

func TestWriteResponse(t *testing.T) {
	rec := httptest.NewRecorder()
	err := WriteResponse(rec, events.APIGatewayV2HTTPResponse{
		Headers: map[string]string{"Content-Type": "image/png"}, Cookies: []string{"a=1", "b=2"},
		Body: base64.StdEncoding.EncodeToString([]byte{0xff, 0}), IsBase64Encoded: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	if rec.Code != 200 || rec.Body.String() != "\xff\x00" || !cmp.Equal(rec.Header().Values("Set-Cookie"), []string{"a=1", "b=2"}) {
		t.Errorf("wrote %d %q, cookies %q", rec.Code, rec.Body, rec.Header().Values("Set-Cookie"))
	}
	rec = httptest.NewRecorder()
	if err := WriteResponse(rec, events.APIGatewayV2HTTPResponse{StatusCode: 200, Body: "!!", IsBase64Encoded: true}); err == nil || rec.Body.Len() != 0 {
		t.Errorf("bad base64: err %v, body %q; want an error and nothing written", err, rec.Body)
	}
}

// TestRoundTrip sends real HTTP requests through Request, Lambda's own JSON
// decoding (lambda.NewHandler(...).Invoke), HTTP and WriteResponse: what
// the local runner does.
func TestRoundTrip(t *testing.T) {
	app := http.NewServeMux()
	app.HandleFunc("/v1/hooks/{ws}/generic", func(w http.ResponseWriter, r *http.Request) {
		s := see(r, "X-Test")
		http.SetCookie(w, &http.Cookie{Name: "back", Value: r.PathValue("ws")})
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(s)
	})
	app.HandleFunc("GET /blob", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		_, _ = w.Write([]byte{0, 0xff, 'a'})
	})
	inv := lambda.NewHandler(HTTP(app))
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ev, err := Request(r, "ANY /{proxy+}", nil, 1<<20)
		if err != nil {
			http.Error(w, err.Error(), http.StatusRequestEntityTooLarge)
			return
		}
		payload, _ := json.Marshal(ev)
		out, err := inv.Invoke(r.Context(), payload)
		if err != nil {
			t.Errorf("Invoke: %v", err)
			return
		}
		var resp events.APIGatewayV2HTTPResponse
		if err := json.Unmarshal(out, &resp); err != nil {
			t.Errorf("response: %v", err)
			return
		}
		if err := WriteResponse(w, resp); err != nil {
			t.Errorf("WriteResponse: %v", err)
		}
	}))
	t.Cleanup(front.Close)

	tests := []struct {
		name, method, path, body string
		want                     seen
	}{
		{name: "get with query", method: "GET", path: "/v1/hooks/acme/generic?q=caf%C3%A9&tag=a&tag=b",
			want: seen{Method: "GET", Path: "/v1/hooks/acme/generic", RawQuery: "q=caf%C3%A9&tag=a&tag=b",
				Query: map[string][]string{"q": {"café"}, "tag": {"a", "b"}}}},
		{name: "post text", method: "POST", path: "/v1/hooks/acme/generic", body: `{"mentions":[]}`,
			want: seen{Method: "POST", Path: "/v1/hooks/acme/generic", Body: []byte(`{"mentions":[]}`)}},
		{name: "put binary", method: "PUT", path: "/v1/hooks/acme/generic", body: "\xff\x00\xfe",
			want: seen{Method: "PUT", Path: "/v1/hooks/acme/generic", Body: []byte("\xff\x00\xfe")}},
		{name: "delete", method: "DELETE", path: "/v1/hooks/acme/generic",
			want: seen{Method: "DELETE", Path: "/v1/hooks/acme/generic"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, front.URL+tt.path, strings.NewReader(tt.body))
			req.Header.Add("X-Test", "one")
			req.Header.Add("X-Test", "two")
			req.Header.Set("Content-Type", "application/json")
			req.AddCookie(&http.Cookie{Name: "session", Value: "s1"})
			req.AddCookie(&http.Cookie{Name: "theme", Value: "dark"})
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != http.StatusCreated {
				t.Fatalf("status %d", resp.StatusCode)
			}
			if c := resp.Cookies(); len(c) != 1 || c[0].Name != "back" || c[0].Value != "acme" {
				t.Errorf("cookies = %v, want back=acme", c)
			}
			var got seen
			if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
				t.Fatal(err)
			}
			want := tt.want
			want.EscapedPath = want.Path
			want.Header = map[string]string{"X-Test": "one,two"} // joined as API Gateway joins them
			want.Cookies = []string{"session=s1", "theme=dark"}
			want.Host, want.Proto = strings.TrimPrefix(front.URL, "http://"), "HTTP/1.1"
			want.RemoteAddr = "127.0.0.1:0"
			want.ContentLength = int64(len(tt.body))
			if want.Query == nil {
				want.Query = map[string][]string{}
			}
			if got.RequestID == "" {
				t.Error("no request id")
			}
			got.RequestID = ""
			if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("handler saw (-want +got):\n%s", diff)
			}
		})
	}

	t.Run("binary answer", func(t *testing.T) {
		resp, err := http.Get(front.URL + "/blob")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if string(body) != "\x00\xffa" || resp.Header.Get("Content-Type") != "application/octet-stream" {
			t.Errorf("got %q (%s)", body, resp.Header.Get("Content-Type"))
		}
	})
}
