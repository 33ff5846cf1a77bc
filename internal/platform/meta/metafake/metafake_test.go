package metafake_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"vigie/internal/platform/fakeapi"
	"vigie/internal/platform/meta/metafake"
)

func TestServer_FailsOnUnexpectedRequests(t *testing.T) {
	good := "mentioned_comment.comment_id(1){text,media{permalink}}"
	tests := []struct {
		name, path, fields string
		unexpected         bool
		status             int
	}{
		{"good", "/v21.0/17841405726653026", good, false, 400}, // unknown comment: a Graph error
		{"no version", "/17841405726653026/x", good, true, 501},
		{"no fields", "/v21.0/17841405726653026", "", true, 501},
		{"other edge", "/v21.0/17841405726653026", "mentioned_comments.comment_id(1){text}", true, 501},
		{"unbalanced braces", "/v21.0/17841405726653026", "mentioned_comment.comment_id(1){text,media{permalink}", true, 501},
		{"nonexisting field", "/v21.0/17841405726653026", "mentioned_comment.comment_id(1){text,caption}", false, 400},
		{"unknown route", "/v21.0/1/comments", good, true, 501},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := &fakeapi.Recorder{}
			defer rec.Close()
			f := metafake.New(rec)
			q := url.Values{"access_token": {metafake.Token}}
			if tc.fields != "" {
				q.Set("fields", tc.fields)
			}
			res, err := http.Get(f.URL() + tc.path + "?" + q.Encode())
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != tc.status || (len(rec.Errors()) > 0) != tc.unexpected {
				t.Errorf("status %d, failures %q", res.StatusCode, rec.Errors())
			}
			if tc.unexpected && len(rec.Errors()) > 0 && !strings.Contains(rec.Errors()[0], "unexpected request") {
				t.Errorf("failure %q", rec.Errors()[0])
			}
		})
	}
}
