package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"vigie/internal/secrets"
	"vigie/internal/store/boltstore"
	"vigie/internal/vigie"
	"vigie/internal/webhook"
)

var t0 = time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)

// countingStore counts mention writes and can fail after n of them.
type countingStore struct {
	vigie.Store
	mu        sync.Mutex
	writes    int // mentions passed to a successful write
	calls     int // CreateMentions calls
	failAfter int // fail CreateMentions once this many mentions were written (<0: never)
}

func (s *countingStore) CreateMentions(ctx context.Context, ws string, ms []*vigie.Mention) ([]bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if s.failAfter >= 0 && s.writes+len(ms) > s.failAfter {
		part := s.failAfter - s.writes
		if part > 0 {
			if _, err := s.Store.CreateMentions(ctx, ws, ms[:part]); err != nil {
				return nil, err
			}
			s.writes += part
		}
		s.failAfter = -1
		return nil, &vigie.Error{Kind: vigie.KindUnavailable, Message: "store down", Err: errors.New("injected")}
	}
	s.writes += len(ms)
	return s.Store.CreateMentions(ctx, ws, ms)
}

// recordBus records published events and can be told to fail.
type recordBus struct {
	mu     sync.Mutex
	events []vigie.Event
	fail   bool
}

func (b *recordBus) Publish(_ context.Context, evs ...vigie.Event) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.fail {
		return &vigie.Error{Kind: vigie.KindUnavailable, Message: "bus down"}
	}
	b.events = append(b.events, evs...)
	return nil
}

type env struct {
	h      http.Handler
	store  *countingStore
	bus    *recordBus
	master secrets.Value
	now    time.Time
	deps   Deps          // what h was built from
	logs   *bytes.Buffer // h's JSON log lines
}

func setup(t testing.TB) *env {
	t.Helper()
	dir := t.TempDir()
	file := secrets.File{Path: filepath.Join(dir, "secrets.json")}
	if _, err := file.Ensure(secrets.MasterSecret); err != nil {
		t.Fatal(err)
	}
	master, _ := file.Get(context.Background(), secrets.MasterSecret)
	e := &env{bus: &recordBus{}, master: master, now: t0}
	clock := vigie.ClockFunc(func() time.Time { return e.now })
	bs, err := boltstore.Open(filepath.Join(dir, "vigie.db"), boltstore.Options{Clock: clock, CursorKey: []byte("k")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bs.Close() })
	for _, id := range []string{"acme", "globex"} {
		if err := bs.CreateWorkspace(context.Background(), &vigie.Workspace{ID: id, Name: id, CreatedAt: t0, SecretGeneration: 1}); err != nil {
			t.Fatal(err)
		}
	}
	e.store = &countingStore{Store: bs, failAfter: -1}
	e.logs = &bytes.Buffer{}
	e.deps = Deps{Store: e.store, Bus: e.bus, Secrets: file, Clock: clock,
		Logger: slog.New(slog.NewJSONHandler(&lockedWriter{w: e.logs}, nil))}
	e.h = NewHandler(e.deps)
	return e
}

// lockedWriter lets the fuzz workers and the race detector share a log buffer.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func (e *env) secret(ws string, gen int) webhook.Secret {
	return webhook.Secret(secrets.WebhookSecret(e.master, ws, gen))
}

// post signs body for ws with its generation-1 secret and posts it.
func (e *env) post(t *testing.T, ws, id string, body []byte, edit func(http.Header)) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest("POST", "/v1/hooks/"+ws+"/generic", bytes.NewReader(body))
	req.Header = webhook.Headers(e.secret(ws, 1), id, e.now, body)
	if edit != nil {
		edit(req.Header)
	}
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	return rec
}

func sample(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("../../events/ingest/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func result(t *testing.T, rec *httptest.ResponseRecorder) Result {
	t.Helper()
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d, body %s", rec.Code, rec.Body)
	}
	var r Result
	if err := json.Unmarshal(rec.Body.Bytes(), &r); err != nil {
		t.Fatal(err)
	}
	return r
}

func errorCode(t *testing.T, rec *httptest.ResponseRecorder) (code, field string) {
	t.Helper()
	var b struct {
		Error struct{ Code, Field string }
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &b); err != nil {
		t.Fatalf("error body is not JSON: %s", rec.Body)
	}
	return b.Error.Code, b.Error.Field
}

func (e *env) mentions(t *testing.T, ws string) []*vigie.Mention {
	t.Helper()
	p, err := e.store.ListMentions(context.Background(), ws, vigie.MentionQuery{Limit: vigie.MaxPageSize})
	if err != nil {
		t.Fatal(err)
	}
	return p.Mentions
}

func TestIngest_Single(t *testing.T) {
	e := setup(t)
	r := result(t, e.post(t, "acme", "msg_1", sample(t, "generic-single.json"), nil))
	id := vigie.MentionID("forum", "thread-8812-post-3")
	if diff := cmp.Diff(Result{Received: 1, Created: 1, Mentions: []string{id}}, r); diff != "" {
		t.Errorf("answer (-want +got):\n%s", diff)
	}
	followers := int64(312)
	want := []*vigie.Mention{{
		ID: id, Workspace: "acme", Platform: "forum", ExternalID: "thread-8812-post-3",
		Author: vigie.Author{ID: "u-4471", Handle: "claire_b", Name: "Claire B.", Followers: &followers},
		Text:   "Commande reçue en 48h, emballage impeccable. Je recommande Maison Lumen !",
		URL:    "https://forum.example.fr/t/8812#post-3", CreatedAt: time.Date(2026, 11, 20, 9, 12, 41, 0, time.UTC),
		ReceivedAt: t0, Metrics: map[string]int64{"likes": 4, "replies": 1},
	}}
	got := e.mentions(t, "acme")
	if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(vigie.Mention{}, "Analysis")); diff != "" {
		t.Errorf("stored (-want +got):\n%s", diff)
	}
	if e.store.calls != 1 || e.store.writes != 1 || len(e.bus.events) != 1 {
		t.Errorf("%d write calls of %d mentions, %d events; want 1, 1, 1", e.store.calls, e.store.writes, len(e.bus.events))
	}
	if ev := e.bus.events[0]; ev.Type != vigie.EventMentionReceived || ev.Workspace != "acme" || !ev.Time.Equal(t0) {
		t.Errorf("event = %+v", ev)
	}
}

// Times in other offsets are stored in UTC; an item may be up to 24 hours
// ahead of the clock (senders' clocks and time zones are not ours).
func TestIngest_CreatedAt(t *testing.T) {
	tests := []struct {
		name, in string
		want     time.Time
	}{
		{"offset", "2026-11-20T10:00:00+01:00", time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)},
		{"fraction", "2026-11-20T09:00:00.250Z", time.Date(2026, 11, 20, 9, 0, 0, 250e6, time.UTC)},
		{"24 h ahead", "2026-11-21T12:00:00Z", t0.Add(24 * time.Hour)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse("acme", []byte(`{"mentions":[{"platform":"blog","external_id":"1","author":{"id":"a"},"text":"t","created_at":"`+tt.in+`"}]}`), t0)
			if err != nil {
				t.Fatal(err)
			}
			if !got[0].CreatedAt.Equal(tt.want) || got[0].CreatedAt.Location() != time.UTC {
				t.Errorf("CreatedAt = %v, want %v", got[0].CreatedAt, tt.want)
			}
		})
	}
}

func TestIngest_BatchThenRedeliveries(t *testing.T) {
	e := setup(t)
	body := sample(t, "generic-batch.json")
	r := result(t, e.post(t, "acme", "msg_1", body, nil))
	if r.Received != 4 || r.Created != 4 || r.Duplicates != 0 || len(r.Mentions) != 4 {
		t.Fatalf("first delivery = %+v", r)
	}
	if e.store.writes != 4 || len(e.bus.events) != 4 {
		t.Fatalf("writes %d, events %d; want 4 and 4", e.store.writes, len(e.bus.events))
	}
	got := e.mentions(t, "acme")
	if len(got) != 4 || got[0].ExternalID != "thread-9120-post-1" || got[0].Workspace != "acme" || !got[0].ReceivedAt.Equal(t0) {
		t.Errorf("stored mentions = %+v", got)
	}
	ev := e.bus.events[0]
	var detail vigie.MentionReceived
	if err := json.Unmarshal(ev.Detail, &detail); err != nil || ev.Type != vigie.EventMentionReceived ||
		detail.Workspace != "acme" || detail.Mention == nil || detail.Mention.ID != r.Mentions[0] {
		t.Errorf("event = %+v, detail %+v, %v", ev, detail, err)
	}

	// The same webhook-id again, then the same mentions under a new id.
	for _, id := range []string{"msg_1", "msg_2"} {
		r = result(t, e.post(t, "acme", id, body, nil))
		if r.Created != 0 || r.Duplicates != 4 {
			t.Errorf("redelivery %s = %+v", id, r)
		}
	}
	if e.store.calls != 1 || e.store.writes != 4 || len(e.bus.events) != 4 {
		t.Errorf("after redeliveries: %d write calls of %d mentions, %d events; want 1, 4, 4", e.store.calls, e.store.writes, len(e.bus.events))
	}
	if got := e.mentions(t, "globex"); len(got) != 0 {
		t.Errorf("globex sees %d mentions of acme", len(got))
	}
}

// Each mention is stored with its analysis, and the event carries its
// categorical fields for rules to filter on.
func TestIngest_Analysis(t *testing.T) {
	e := setup(t)
	body := []byte(`{"mentions":[{"platform":"review","external_id":"r1","author":{"handle":"a"},"text":"Worst customer service ever, still waiting for my refund. Never again.","created_at":"2026-11-20T10:00:00Z"}]}`)
	result(t, e.post(t, "acme", "msg_1", body, nil))
	got := e.mentions(t, "acme")
	if len(got) != 1 || got[0].Analysis == nil || got[0].Analysis.Lang != "en" || got[0].Analysis.Sentiment != "negative" {
		t.Fatalf("stored analysis = %+v", got[0].Analysis)
	}
	var detail map[string]any
	if err := json.Unmarshal(e.bus.events[0].Detail, &detail); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]any{"lang": "en", "sentiment": "negative", "toxic": "false", "spam": "false", "platform": "review"} {
		if detail[k] != want {
			t.Errorf("detail[%s] = %v, want %v", k, detail[k], want)
		}
	}
}

func TestIngest_DuplicateInsideBatch(t *testing.T) {
	e := setup(t)
	item := `{"platform":"x","external_id":"1","author":{"handle":"a"},"text":"hi","created_at":"2026-11-20T10:00:00Z"}`
	r := result(t, e.post(t, "acme", "msg_1", []byte(`{"mentions":[`+item+`,`+item+`]}`), nil))
	if r.Received != 1 || r.Created != 1 || e.store.writes != 1 || len(e.bus.events) != 1 {
		t.Errorf("result %+v, writes %d, events %d", r, e.store.writes, len(e.bus.events))
	}
}

func TestIngest_Signature(t *testing.T) {
	body := sample(t, "generic-single.json")
	tests := []struct {
		name     string
		edit     func(e *env, h http.Header)
		wantCode int
		code     string
	}{
		{"missing signature", func(_ *env, h http.Header) { h.Del(webhook.HeaderSignature) }, 401, "missing_signature"},
		{"missing id", func(_ *env, h http.Header) { h.Del(webhook.HeaderID) }, 401, "missing_signature"},
		{"wrong secret", func(e *env, h http.Header) {
			h.Set(webhook.HeaderSignature, webhook.Sign(e.secret("globex", 1), "msg_1", e.now, body))
		}, 401, "bad_signature"},
		{"old generation after rotation", func(e *env, h http.Header) {
			ws, _ := e.store.GetWorkspace(context.Background(), "acme")
			ws.SecretGeneration = 2
			if err := e.store.UpdateWorkspace(context.Background(), ws); err != nil {
				panic(err)
			}
		}, 401, "bad_signature"},
		{"new generation after rotation", func(e *env, h http.Header) {
			ws, _ := e.store.GetWorkspace(context.Background(), "acme")
			ws.SecretGeneration = 2
			if err := e.store.UpdateWorkspace(context.Background(), ws); err != nil {
				panic(err)
			}
			h.Set(webhook.HeaderSignature, webhook.Sign(e.secret("acme", 2), "msg_1", e.now, body))
		}, 200, ""},
		{"timestamp 5 min old", func(e *env, h http.Header) { e.now = e.now.Add(5 * time.Minute) }, 200, ""},
		{"timestamp 5 min 1 s old", func(e *env, h http.Header) { e.now = e.now.Add(5*time.Minute + time.Second) }, 401, "stale_timestamp"},
		{"timestamp 5 min 1 s ahead", func(e *env, h http.Header) { e.now = e.now.Add(-5*time.Minute - time.Second) }, 401, "stale_timestamp"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := setup(t)
			rec := e.post(t, "acme", "msg_1", body, func(h http.Header) { tt.edit(e, h) })
			if rec.Code != tt.wantCode {
				t.Fatalf("status %d, want %d; body %s", rec.Code, tt.wantCode, rec.Body)
			}
			if tt.code == "" {
				return
			}
			if code, _ := errorCode(t, rec); code != tt.code {
				t.Errorf("code %q, want %q", code, tt.code)
			}
			if e.store.writes != 0 || len(e.bus.events) != 0 {
				t.Errorf("rejected delivery wrote %d and announced %d", e.store.writes, len(e.bus.events))
			}
		})
	}
}

func TestIngest_BadInput(t *testing.T) {
	valid := map[string]any{"platform": "forum", "external_id": "p1", "author": map[string]any{"handle": "h"},
		"text": "bonjour", "created_at": "2026-11-20T10:00:00Z"}
	with := func(field string, v any) []byte {
		item := map[string]any{}
		for k, x := range valid {
			item[k] = x
		}
		if v == nil {
			delete(item, field)
		} else {
			item[field] = v
		}
		b, _ := json.Marshal(map[string]any{"mentions": []any{valid, item}})
		return b
	}
	tests := []struct {
		name      string
		ws        string
		body      []byte
		wantCode  int
		wantField string
	}{
		{"malformed JSON", "acme", []byte(`{"mentions":[`), 400, ""},
		{"empty body", "acme", nil, 400, ""},
		{"trailing data", "acme", append(with("text", "x"), `{}`...), 400, ""},
		{"not an object", "acme", []byte(`[1,2]`), 400, ""},
		{"invalid UTF-8", "acme", []byte("{\"mentions\":[{\"text\":\"\xff\"}]}"), 400, ""},
		{"no mentions", "acme", []byte(`{}`), 400, "mentions"},
		{"mentions not an array", "acme", []byte(`{"mentions":{}}`), 400, "mentions"},
		{"empty mentions", "acme", []byte(`{"mentions":[]}`), 400, "mentions"},
		{"501 mentions", "acme", []byte(`{"mentions":[` + strings.Repeat(`{},`, 500) + `{}]}`), 400, "mentions"},
		{"item not an object", "acme", []byte(`{"mentions":[null]}`), 400, "mentions[0]"},
		{"unknown top-level field", "acme", []byte(`{"mentions":[],"colour":"red"}`), 400, "colour"},
		{"unknown item field", "acme", with("colour", "red"), 400, "mentions[1].colour"},
		{"long unknown field", "acme", with(strings.Repeat("k", 100), 1), 400, "mentions[1]." + strings.Repeat("k", 64) + "…"},
		{"unknown author field with a quote", "acme", with("author", map[string]any{"handle": "h", `a"b`: 1}), 400, `mentions[1].author.a"b`},
		{"unknown author field", "acme", with("author", map[string]any{"handle": "h", "colour": "red"}), 400, "mentions[1].author.colour"},
		{"missing platform", "acme", with("platform", nil), 400, "mentions[1].platform"},
		{"bad platform", "acme", with("platform", "Face Book"), 400, "mentions[1].platform"},
		{"long platform", "acme", with("platform", strings.Repeat("a", 33)), 400, "mentions[1].platform"},
		{"missing external_id", "acme", with("external_id", nil), 400, "mentions[1].external_id"},
		{"long external_id", "acme", with("external_id", strings.Repeat("a", 257)), 400, "mentions[1].external_id"},
		{"control in external_id", "acme", with("external_id", "a\nb"), 400, "mentions[1].external_id"},
		{"missing text", "acme", with("text", nil), 400, "mentions[1].text"},
		{"blank text", "acme", with("text", "  \n"), 400, "mentions[1].text"},
		{"text over 100 000 bytes", "acme", with("text", strings.Repeat("é", 50_001)), 400, "mentions[1].text"},
		{"missing author", "acme", with("author", nil), 400, "mentions[1].author.handle"},
		{"author without handle or id", "acme", with("author", map[string]any{"name": "N"}), 400, "mentions[1].author.handle"},
		{"negative followers", "acme", with("author", map[string]any{"id": "1", "followers": -1}), 400, "mentions[1].author.followers"},
		{"followers not a number", "acme", with("author", map[string]any{"id": "1", "followers": "12"}), 400, "mentions[1].author.followers"},
		{"author not an object", "acme", with("author", "bob"), 400, "mentions[1].author"},
		{"missing created_at", "acme", with("created_at", nil), 400, "mentions[1].created_at"},
		{"bad created_at", "acme", with("created_at", "yesterday"), 400, "mentions[1].created_at"},
		{"created_at without zone", "acme", with("created_at", "2026-11-20T10:00:00"), 400, "mentions[1].created_at"},
		{"future created_at", "acme", with("created_at", "2026-11-21T12:00:01Z"), 400, "mentions[1].created_at"},
		{"relative url", "acme", with("url", "/t/1"), 400, "mentions[1].url"},
		{"ftp url", "acme", with("url", "ftp://example.com/x"), 400, "mentions[1].url"},
		{"negative metric", "acme", with("metrics", map[string]int{"likes": -1}), 400, "mentions[1].metrics.likes"},
		{"fractional metric", "acme", with("metrics", map[string]float64{"likes": 1.5}), 400, "mentions[1].metrics"},
		{"bad metric name", "acme", with("metrics", map[string]int{"Likes!": 1}), 400, "mentions[1].metrics"},
		{"wrong type", "acme", with("text", 5), 400, "mentions[1].text"},
		{"unknown workspace", "initech", with("text", "x"), 404, ""},
		{"invalid workspace id", "ACME!", with("text", "x"), 404, ""},
		{"over 1 MiB", "acme", []byte(`{"mentions":[` + strings.Repeat(" ", 1<<20) + `]}`), 413, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := setup(t)
			rec := e.post(t, tt.ws, "msg_1", tt.body, nil)
			if rec.Code != tt.wantCode {
				t.Fatalf("status %d, want %d; body %s", rec.Code, tt.wantCode, rec.Body)
			}
			if _, field := errorCode(t, rec); tt.wantField != "" && field != tt.wantField {
				t.Errorf("field %q, want %q", field, tt.wantField)
			}
			if e.store.writes != 0 || len(e.bus.events) != 0 || len(e.mentions(t, "acme")) != 0 {
				t.Errorf("bad delivery stored or announced something")
			}
		})
	}
}

// Exactly MaxBodyBytes is read and accepted; one more byte is refused
// before anything else is looked at.
func TestIngest_BodyLimit(t *testing.T) {
	item := sample(t, "generic-single.json")
	pad := func(n int) []byte { return append(bytes.Clone(item), bytes.Repeat([]byte{' '}, n-len(item))...) }
	e := setup(t)
	result(t, e.post(t, "acme", "msg_1", pad(1<<20), nil))
	rec := e.post(t, "acme", "msg_2", pad(1<<20+1), nil)
	if rec.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("1 MiB + 1: status %d, want 413", rec.Code)
	}
	// Other entry points call the service with the body in hand.
	svc := NewService(e.deps)
	_, err := svc.Ingest(context.Background(), "nosuch", http.Header{}, pad(1<<20+1))
	if vigie.ErrorKind(err) != vigie.KindTooLarge {
		t.Errorf("Service.Ingest over the limit: %v, want TooLarge", err)
	}
}

func TestIngest_Routes(t *testing.T) {
	e := setup(t)
	tests := []struct {
		method, path string
		want         int
	}{
		{"GET", "/v1/hooks/acme/generic", http.StatusMethodNotAllowed},
		{"PUT", "/v1/hooks/acme/generic", http.StatusMethodNotAllowed},
		{"POST", "/v1/hooks/acme/other", http.StatusNotFound},
		{"POST", "/v1/hooks/acme/generic/x", http.StatusNotFound},
	}
	for _, tt := range tests {
		rec := httptest.NewRecorder()
		e.h.ServeHTTP(rec, httptest.NewRequest(tt.method, tt.path, strings.NewReader("{}")))
		if rec.Code != tt.want || rec.Header().Get("Content-Type") != "application/json" {
			t.Errorf("%s %s: status %d (%s), want %d JSON", tt.method, tt.path, rec.Code, rec.Header().Get("Content-Type"), tt.want)
		}
	}
}

// Log lines carry the workspace, the webhook id and the counts, never the
// text, the signature or a secret.
func TestIngest_Logs(t *testing.T) {
	e := setup(t)
	body := sample(t, "generic-single.json")
	result(t, e.post(t, "acme", "msg_log1", body, nil))
	e.post(t, "acme", "msg_log2", body, func(h http.Header) { h.Set(webhook.HeaderSignature, "v1,AAAA") })
	e.post(t, "acme", "msg_log3", bytes.Replace(body, []byte(`"forum"`), []byte(`"Forum"`), 1), func(h http.Header) {
		h.Set(webhook.HeaderSignature, webhook.Sign(e.secret("acme", 1), "msg_log3", e.now, bytes.Replace(body, []byte(`"forum"`), []byte(`"Forum"`), 1)))
	})
	logs := e.logs.String()
	for _, want := range []string{`"workspace":"acme"`, `"webhook_id":"msg_log1"`, `"created":1`, `"webhook_id":"msg_log2"`, `"status":401`, `"webhook_id":"msg_log3"`, `"status":400`} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %s:\n%s", want, logs)
		}
	}
	for _, secret := range []string{"Commande reçue", "claire_b", string(e.master), e.secret("acme", 1).Encode(), "v1,"} {
		if strings.Contains(logs, secret) {
			t.Errorf("logs contain %q", secret)
		}
	}
}

// A store failing midway answers 5xx; the sender's retry completes the
// delivery: every mention stored once, every one announced at least once.
func TestIngest_StoreFailsMidwayThenRetry(t *testing.T) {
	e := setup(t)
	e.store.failAfter = 2
	body := sample(t, "generic-batch.json")
	rec := e.post(t, "acme", "msg_1", body, nil)
	if rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("status %d, want 503; body %s", rec.Code, rec.Body)
	}
	if strings.Contains(rec.Body.String(), "injected") {
		t.Errorf("5xx body leaks the cause: %s", rec.Body)
	}
	if n := len(e.mentions(t, "acme")); n != 2 {
		t.Fatalf("after failure %d mentions stored, want 2", n)
	}
	r := result(t, e.post(t, "acme", "msg_1", body, nil))
	if r.Created != 2 || r.Duplicates != 2 {
		t.Errorf("retry = %+v, want 2 created, 2 duplicates", r)
	}
	if n := len(e.mentions(t, "acme")); n != 4 || e.store.writes != 4 {
		t.Errorf("after retry %d mentions, %d writes; want 4 and 4", n, e.store.writes)
	}
	announced := map[string]int{}
	for _, ev := range e.bus.events {
		announced[ev.ID]++
	}
	if len(announced) != 4 || len(e.bus.events) != 6 {
		t.Errorf("announced %d distinct mentions in %d events; want 4 in 6 (2 re-announced)", len(announced), len(e.bus.events))
	}
}

func TestIngest_BusFailsStoresNothing(t *testing.T) {
	e := setup(t)
	e.bus.fail = true
	rec := e.post(t, "acme", "msg_1", sample(t, "generic-batch.json"), nil)
	if rec.Code != http.StatusServiceUnavailable || e.store.writes != 0 {
		t.Errorf("status %d, writes %d; want 503 and 0", rec.Code, e.store.writes)
	}
}

func TestIngest_Retention(t *testing.T) {
	e := setup(t)
	e.h = NewHandler(Deps{Store: e.store, Bus: e.bus, Secrets: secretsOf(t, e), Clock: vigie.ClockFunc(func() time.Time { return e.now }), Retention: time.Hour})
	result(t, e.post(t, "acme", "msg_1", sample(t, "generic-single.json"), nil))
	if n := len(e.mentions(t, "acme")); n != 1 {
		t.Fatalf("%d mentions, want 1", n)
	}
	e.now = e.now.Add(time.Hour)
	if n := len(e.mentions(t, "acme")); n != 0 {
		t.Errorf("%d mentions visible after retention, want 0", n)
	}
}

type staticSecrets map[string]secrets.Value

func (s staticSecrets) Get(_ context.Context, name string) (secrets.Value, error) {
	if v, ok := s[name]; ok {
		return v, nil
	}
	return "", fmt.Errorf("no %s", name)
}

func secretsOf(t *testing.T, e *env) secrets.Source {
	t.Helper()
	return staticSecrets{secrets.MasterSecret: e.master}
}
