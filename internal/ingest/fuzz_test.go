package ingest

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"vigie/internal/webhook"
)

// FuzzIngest feeds arbitrary bodies and signature headers to the handler:
// it must never panic, never answer 5xx, and never store a mention from a
// delivery it refused. Seeds: every sample under events/ingest and the
// Standard Webhooks reference vector.
func FuzzIngest(f *testing.F) {
	files, _ := filepath.Glob("../../events/ingest/generic-*.json")
	for _, name := range files {
		body, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(body, "msg_1", int64(0), "", true)
	}
	f.Add([]byte(`{"test": 2432232314}`), "msg_p5jXN8AQM9LWM0D4loKWxJek", int64(1614265330), "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", false)
	f.Add([]byte(`{"mentions":[{"platform":"x","external_id":"\u0000","author":{"handle":"a"},"text":"t","created_at":"2026-11-20T10:00:00Z"}]}`), "m", int64(0), "", true)

	e := setup(f)
	f.Fuzz(func(t *testing.T, body []byte, id string, tsOffset int64, sig string, signIt bool) {
		writes, events := e.store.writes, len(e.bus.events)
		req := httptest.NewRequest("POST", "/v1/hooks/acme/generic", bytes.NewReader(body))
		if signIt {
			req.Header = webhook.Headers(e.secret("acme", 1), id, e.now, body)
		} else {
			req.Header = http.Header{}
			req.Header.Set(webhook.HeaderID, id)
			req.Header.Set(webhook.HeaderTimestamp, strconv.FormatInt(e.now.Unix()+tsOffset, 10))
			req.Header.Set(webhook.HeaderSignature, sig)
		}
		rec := httptest.NewRecorder()
		e.h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("status %d for body %q", rec.Code, body)
		}
		if rec.Code != http.StatusOK && (e.store.writes != writes || len(e.bus.events) != events) {
			t.Fatalf("refused delivery (%d) wrote %d, announced %d", rec.Code, e.store.writes-writes, len(e.bus.events)-events)
		}
	})
}
