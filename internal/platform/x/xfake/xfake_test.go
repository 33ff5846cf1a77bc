package xfake_test

import (
	"net/http"
	"testing"

	"vigie/internal/platform/fakeapi"
	"vigie/internal/platform/x/xfake"
)

func TestServer_Requests(t *testing.T) {
	const need = "expansions=author_id&user.fields=username&tweet.fields=created_at"
	tests := []struct {
		name, target, auth string
		status             int
		unexpected         bool
	}{
		{"good", "/2/users/1/mentions?" + need, "Bearer " + xfake.Token, 200, false},
		{"no token", "/2/users/1/mentions?" + need, "", 401, false},
		{"wrong token", "/2/users/1/mentions?" + need, "Bearer x", 401, false},
		{"max_results too small", "/2/users/1/mentions?max_results=1&" + need, "Bearer " + xfake.Token, 400, false},
		{"bad page token", "/2/users/1/mentions?pagination_token=%21&" + need, "Bearer " + xfake.Token, 400, false},
		{"bad since_id", "/2/users/1/mentions?since_id=abc&" + need, "Bearer " + xfake.Token, 400, false},
		{"unknown tweet field", "/2/users/1/mentions?expansions=author_id&user.fields=username&tweet.fields=created_at,colour", "Bearer " + xfake.Token, 400, false},
		{"no expansions", "/2/users/1/mentions?user.fields=username&tweet.fields=created_at", "Bearer " + xfake.Token, 501, true},
		{"unknown parameter", "/2/users/1/mentions?colour=red&" + need, "Bearer " + xfake.Token, 501, true},
		{"unknown route", "/2/users/1/tweets?" + need, "Bearer " + xfake.Token, 501, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := &fakeapi.Recorder{}
			defer rec.Close()
			f := xfake.New(rec)
			f.AddUsers(xfake.User{ID: "1", Username: "brand"})
			req, _ := http.NewRequest("GET", f.URL()+tc.target, nil)
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != tc.status || (len(rec.Errors()) > 0) != tc.unexpected {
				t.Errorf("status %d, failures %q", res.StatusCode, rec.Errors())
			}
			if tc.name != "unknown route" && res.Header.Get("x-rate-limit-remaining") == "" {
				t.Error("no rate-limit headers")
			}
		})
	}
}
