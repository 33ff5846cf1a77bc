package ingest

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"vigie/internal/webhook"
)

// FuzzIngest feeds arbitrary bodies and signature headers to the handler.
// It must never panic nor answer 5xx, never store or announce anything for
// a delivery it refused, never accept a signature that is not the HMAC of
// what was sent, and, for a delivery it accepts, answer counts that add up.
// When signIt is set the fuzzer's body is signed properly, which drives it
// into parsing; otherwise its headers are sent as they are, which drives it
// into signature checking.
//
// Seeds: every file under events/ingest (the API Gateway sample gives its
// body and headers) and the Standard Webhooks reference vector.
func FuzzIngest(f *testing.F) {
	files, err := filepath.Glob("../../events/ingest/*.json")
	if err != nil || len(files) == 0 {
		f.Fatalf("no samples under events/ingest: %v", err)
	}
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		var apigw struct {
			Headers map[string]string `json:"headers"`
			Body    *string           `json:"body"`
		}
		if json.Unmarshal(data, &apigw) == nil && apigw.Body != nil {
			h := apigw.Headers
			ts, _ := strconv.ParseInt(h[webhook.HeaderTimestamp], 10, 64)
			f.Add([]byte(*apigw.Body), h[webhook.HeaderID], ts-t0.Unix(), h[webhook.HeaderSignature], false)
			f.Add([]byte(*apigw.Body), h[webhook.HeaderID], int64(0), "", true)
			continue
		}
		f.Add(data, "msg_1", int64(0), "", true)
		f.Add(data, "msg_1", int64(0), "v1,AAAA v1,"+strings.Repeat("A", 44), false)
	}
	// The reference vector: well-formed, signed with another secret.
	f.Add([]byte(`{"test": 2432232314}`), "msg_p5jXN8AQM9LWM0D4loKWxJek", int64(0), "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", false)
	f.Add([]byte(`{"test": 2432232314}`), "msg_p5jXN8AQM9LWM0D4loKWxJek", int64(0), "", true)
	f.Add([]byte(`{"mentions":[{"platform":"x","external_id":"\u0000","author":{"handle":"a"},"text":"t","created_at":"2026-11-20T10:00:00Z"}]}`), "m", int64(0), "", true)
	f.Add([]byte(`{"mentions":[{"platform":"x","external_id":"1","author":{"handle":"a","x":1},"text":"t","created_at":"2026-11-20T10:00:00Z"}]}`), "m", int64(0), "", true)

	e := setup(f)
	f.Fuzz(func(t *testing.T, body []byte, id string, tsOffset int64, sig string, signIt bool) {
		e.store.mu.Lock()
		writes := e.store.writes
		e.store.mu.Unlock()
		e.bus.mu.Lock()
		events := len(e.bus.events)
		e.bus.mu.Unlock()

		req := httptest.NewRequest("POST", "/v1/hooks/acme/generic", bytes.NewReader(body))
		ts := strconv.FormatInt(e.now.Unix()+tsOffset, 10)
		if signIt {
			req.Header = webhook.Headers(e.secret("acme", 1), id, e.now, body)
		} else {
			req.Header = http.Header{}
			req.Header.Set(webhook.HeaderID, id)
			req.Header.Set(webhook.HeaderTimestamp, ts)
			req.Header.Set(webhook.HeaderSignature, sig)
		}
		rec := httptest.NewRecorder()
		e.h.ServeHTTP(rec, req)

		if rec.Code >= 500 {
			t.Fatalf("status %d for body %q", rec.Code, body)
		}
		e.store.mu.Lock()
		wrote := e.store.writes - writes
		e.store.mu.Unlock()
		e.bus.mu.Lock()
		announced := len(e.bus.events) - events
		e.bus.mu.Unlock()
		if rec.Code != http.StatusOK {
			if wrote != 0 || announced != 0 {
				t.Fatalf("refused delivery (%d) wrote %d, announced %d", rec.Code, wrote, announced)
			}
			return
		}
		if !signIt && !signedBy(e.secret("acme", 1), id, ts, body, sig) {
			t.Fatalf("accepted a forged signature %q for id %q", sig, id)
		}
		var r Result
		if err := json.Unmarshal(rec.Body.Bytes(), &r); err != nil {
			t.Fatalf("200 answer is not a Result: %v", err)
		}
		if r.Received < 1 || r.Received > MaxMentions || r.Created+r.Duplicates != r.Received ||
			len(r.Mentions) != r.Received || wrote != r.Created || announced != r.Created {
			t.Fatalf("answer %+v with %d written and %d announced", r, wrote, announced)
		}
	})
}

// signedBy recomputes the Standard Webhooks signature independently of
// package webhook: some v1 entry of sigs must be the HMAC of the message.
func signedBy(secret []byte, id, ts string, body []byte, sigs string) bool {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(id + "." + ts + "."))
	m.Write(body)
	want := m.Sum(nil)
	for _, s := range strings.Fields(sigs) {
		if v, ok := strings.CutPrefix(s, "v1,"); ok {
			if got, err := base64.StdEncoding.DecodeString(v); err == nil && hmac.Equal(got, want) {
				return true
			}
		}
	}
	return false
}
