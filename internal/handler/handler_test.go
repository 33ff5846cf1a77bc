package handler

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/google/go-cmp/cmp"
)

// echo answers with what it saw, so the round trip can be checked.
var echo = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	c, _ := r.Cookie("session")
	seen := map[string]any{
		"method": r.Method, "path": r.URL.Path, "query": r.URL.Query().Get("q"), "tags": r.URL.Query()["tag"],
		"header": r.Header.Get("X-Test"), "body": body, "id": RequestID(r.Context()), "ws": r.PathValue("ws"),
	}
	if c != nil {
		seen["cookie"] = c.Value
	}
	http.SetCookie(w, &http.Cookie{Name: "back", Value: "1"})
	w.Header().Set("X-Seen", "yes")
	w.WriteHeader(http.StatusCreated)
	_ = json.NewEncoder(w).Encode(seen)
})

func mux() http.Handler {
	m := http.NewServeMux()
	m.Handle("/v1/hooks/{ws}/generic", echo)
	m.Handle("/", echo)
	return m
}

// TestRoundTrip sends real HTTP requests through Request, Lambda's own JSON
// decoding (lambda.NewHandler(...).Invoke), HTTP and WriteResponse.
func TestRoundTrip(t *testing.T) {
	inv := lambda.NewHandler(HTTP(mux()))
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
	defer front.Close()

	tests := []struct {
		name, method, path, body string
		want                     map[string]any
	}{
		{name: "get with query", method: "GET", path: "/v1/mentions?q=caf%C3%A9&tag=a&tag=b",
			want: map[string]any{"method": "GET", "path": "/v1/mentions", "query": "café", "tags": []any{"a", "b"}}},
		{name: "post text body with path value", method: "POST", path: "/v1/hooks/acme/generic", body: `{"mentions":[]}`,
			want: map[string]any{"method": "POST", "path": "/v1/hooks/acme/generic", "ws": "acme", "body": []byte(`{"mentions":[]}`)}},
		{name: "binary body", method: "PUT", path: "/x", body: "\xff\x00\xfe",
			want: map[string]any{"method": "PUT", "path": "/x", "body": []byte("\xff\x00\xfe")}},
		{name: "escaped path", method: "DELETE", path: "/v1/keys/a%2Fb",
			want: map[string]any{"method": "DELETE", "path": "/v1/keys/a/b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, front.URL+tt.path, strings.NewReader(tt.body))
			req.Header.Set("X-Test", "hdr")
			req.AddCookie(&http.Cookie{Name: "session", Value: "s1"})
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != http.StatusCreated || resp.Header.Get("X-Seen") != "yes" {
				t.Fatalf("status %d, X-Seen %q", resp.StatusCode, resp.Header.Get("X-Seen"))
			}
			if len(resp.Cookies()) != 1 || resp.Cookies()[0].Name != "back" {
				t.Errorf("cookies = %v, want back=1", resp.Cookies())
			}
			var got map[string]any
			if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
				t.Fatal(err)
			}
			want := map[string]any{"header": "hdr", "cookie": "s1", "query": "", "ws": "", "tags": nil, "body": b64([]byte(tt.body))}
			for k, v := range tt.want {
				want[k] = v
			}
			if b, ok := want["body"].([]byte); ok {
				want["body"] = b64(b) // JSON turns []byte into base64 text
			}
			delete(got, "id")
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("handler saw (-want +got):\n%s", diff)
			}
		})
	}
}

func b64(b []byte) string {
	out, _ := json.Marshal(b)
	return strings.Trim(string(out), `"`)
}

func TestHTTP_RequestIDAndBadBase64(t *testing.T) {
	h := HTTP(echo)
	ev := events.APIGatewayV2HTTPRequest{RawPath: "/", RequestContext: events.APIGatewayV2HTTPRequestContext{RequestID: "abc",
		HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "GET"}}}
	resp, err := h(context.Background(), ev)
	if err != nil || !strings.Contains(resp.Body, `"id":"abc"`) {
		t.Errorf("HTTP = %+v, %v; want the request id passed on", resp, err)
	}
	ev.Body, ev.IsBase64Encoded = "!!!", true
	resp, err = h(context.Background(), ev)
	if err != nil || resp.StatusCode != http.StatusBadRequest {
		t.Errorf("HTTP(bad base64) = %d, %v; want 400 and no error", resp.StatusCode, err)
	}
}

func TestRequest_TooLarge(t *testing.T) {
	r := httptest.NewRequest("POST", "/x", strings.NewReader(strings.Repeat("a", 11)))
	if _, err := Request(r, "POST /x", nil, 10); err == nil {
		t.Error("Request accepted a body over the limit")
	}
}
