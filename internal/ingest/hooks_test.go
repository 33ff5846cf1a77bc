package ingest

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"vigie/internal/platform"
	"vigie/internal/platform/meta/metafake"
	"vigie/internal/secrets"
	"vigie/internal/vigie"
)

const (
	metaSecret  = "appsecret123"
	metaToken   = "meatyhamhock"
	xSecret     = "consumersecret123"
	acmePage    = "448242228374517"
	globexPage  = "558242228374518"
	acmeXUser   = "2244994945"
	unknownPage = "999"
)

// hookEnv is the ingest env with the app-level secrets set and channels
// connected: acme's Page and X account, globex's Page.
func hookEnv(t *testing.T) *env {
	t.Helper()
	e := setup(t)
	file := e.deps.Secrets.(secrets.File)
	for k, v := range map[string]string{secrets.MetaAppSecret: metaSecret, secrets.MetaVerifyToken: metaToken, secrets.XConsumerSecret: xSecret} {
		if err := file.Set(k, v); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []*vigie.Channel{
		{Workspace: "acme", ID: "ch_00000000000000a1", Platform: platform.Facebook, AccountID: acmePage, Name: "Acme", Status: vigie.StatusActive, CreatedAt: t0},
		{Workspace: "acme", ID: "ch_00000000000000a2", Platform: platform.X, AccountID: acmeXUser, Name: "Acme X", Status: vigie.StatusActive, CreatedAt: t0},
		{Workspace: "globex", ID: "ch_00000000000000b1", Platform: platform.Facebook, AccountID: globexPage, Name: "Globex", Status: vigie.StatusActive, CreatedAt: t0},
	} {
		if err := e.store.CreateChannel(context.Background(), c); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

func metaSign(body string) string {
	m := hmac.New(sha256.New, []byte(metaSecret))
	m.Write([]byte(body))
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

func xSign(body string) string {
	m := hmac.New(sha256.New, []byte(xSecret))
	m.Write([]byte(body))
	return "sha256=" + base64.StdEncoding.EncodeToString(m.Sum(nil))
}

func feedChange(page, commentID, verb, message string) string {
	post := page + "_122131676912594941"
	msg := ""
	if message != "" {
		msg = fmt.Sprintf(`"message":%q,`, message)
	}
	return fmt.Sprintf(`{"field":"feed","value":{"from":{"id":"6512345678901234","name":"Jane Doe"},%s"post_id":%q,
		"comment_id":"122131676912594941_%s","created_time":1742667604,"item":"comment","parent_id":%q,"verb":%q}}`,
		msg, post, commentID, post, verb)
}

func metaBody(entries ...string) string {
	return `{"object":"page","entry":[` + strings.Join(entries, ",") + `]}`
}

func entry(page string, changes ...string) string {
	return fmt.Sprintf(`{"id":%q,"time":1742667607,"changes":[%s]}`, page, strings.Join(changes, ","))
}

func (e *env) hook(t *testing.T, method, target, sigHeader, sig, body string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	if sig != "" {
		req.Header.Set(sigHeader, sig)
	}
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	return rec
}

func TestMeta_Handshake(t *testing.T) {
	e := hookEnv(t)
	for _, tc := range []struct {
		name, query string
		status      int
		body        string
	}{
		{"right token", "hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=" + metaToken, 200, "1158201444"},
		{"wrong token", "hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=nope", 403, ""},
		{"no challenge", "hub.mode=subscribe&hub.verify_token=" + metaToken, 400, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := e.hook(t, "GET", "/v1/hooks/meta?"+tc.query, "", "", "")
			if rec.Code != tc.status || (tc.body != "" && rec.Body.String() != tc.body) {
				t.Errorf("%d %q, want %d %q", rec.Code, rec.Body.String(), tc.status, tc.body)
			}
			if tc.status == 200 && !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/plain") {
				t.Errorf("content type %q", rec.Header().Get("Content-Type"))
			}
		})
	}
	if strings.Contains(e.logs.String(), metaToken) {
		t.Error("the verify token shows in the logs")
	}
}

func TestMeta_Deliveries(t *testing.T) {
	e := hookEnv(t)
	ctx := context.Background()
	body := metaBody(
		entry(acmePage, feedChange(acmePage, "1", "add", "Où acheter la lampe ?"), feedChange(acmePage, "2", "add", "Superbe !"),
			`{"field":"feed","value":{"item":"reaction","verb":"add","reaction_type":"like","post_id":"`+acmePage+`_1","from":{"id":"1"}}}`),
		entry(globexPage, feedChange(globexPage, "3", "add", "Bonjour Globex")),
		entry(unknownPage, feedChange(unknownPage, "4", "add", "Hello")),
	)
	for _, tc := range []struct {
		name, sig, body string
		status          int
	}{
		{"unsigned", "", body, 401},
		{"wrong signature", metaSign(body + " "), body, 401},
		{"signed with another secret", "sha256=" + strings.Repeat("0", 64), body, 401},
		{"malformed", metaSign(`{"object":"page","entry":[{`), `{"object":"page","entry":[{`, 400},
		{"oversized", metaSign(strings.Repeat(" ", 1<<20+1)), strings.Repeat(" ", 1<<20+1), 413},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := e.hook(t, "POST", "/v1/hooks/meta", "X-Hub-Signature-256", tc.sig, tc.body)
			if rec.Code != tc.status {
				t.Errorf("status %d, want %d: %s", rec.Code, tc.status, rec.Body.String())
			}
		})
	}
	if len(e.bus.events) != 0 || e.store.writes != 0 {
		t.Fatalf("refused deliveries wrote %d mentions and %d events", e.store.writes, len(e.bus.events))
	}

	rec := e.hook(t, "POST", "/v1/hooks/meta", "X-Hub-Signature-256", metaSign(body), body)
	if rec.Code != 200 {
		t.Fatalf("delivery: %d %s", rec.Code, rec.Body.String())
	}
	for _, want := range []string{`"created":3`, `"unrouted":1`, `"ignored":1`} {
		if !strings.Contains(rec.Body.String(), want) {
			t.Errorf("answer %s lacks %s", rec.Body.String(), want)
		}
	}
	for ws, ids := range map[string][]string{"acme": {"1", "2"}, "globex": {"3"}} {
		for _, id := range ids {
			m, err := e.store.GetMention(ctx, ws, vigie.MentionID(platform.Facebook, "122131676912594941_"+id))
			if err != nil {
				t.Errorf("%s comment %s: %v", ws, id, err)
				continue
			}
			if m.Channel == "" || m.Kind != vigie.KindComment || m.Analysis == nil {
				t.Errorf("stored %+v", m)
			}
		}
	}
	if _, err := e.store.GetMention(ctx, "globex", vigie.MentionID(platform.Facebook, "122131676912594941_1")); !vigie.IsKind(err, vigie.KindNotFound) {
		t.Error("acme's comment reached globex")
	}
	if !strings.Contains(e.logs.String(), `"UnroutedChanges":1`) {
		t.Error("the unrouted change is not counted in a metric")
	}

	// Redelivered whole: nothing new.
	events := len(e.bus.events)
	rec = e.hook(t, "POST", "/v1/hooks/meta", "X-Hub-Signature-256", metaSign(body), body)
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"created":0`) || len(e.bus.events) != events {
		t.Errorf("redelivery: %s, %d new events", rec.Body.String(), len(e.bus.events)-events)
	}

	// Edited, then removed.
	edit := metaBody(entry(acmePage, feedChange(acmePage, "1", "edited", "Où acheter la lampe Lumen ?")))
	e.hook(t, "POST", "/v1/hooks/meta", "X-Hub-Signature-256", metaSign(edit), edit)
	remove := metaBody(entry(acmePage, feedChange(acmePage, "2", "remove", "")))
	e.hook(t, "POST", "/v1/hooks/meta", "X-Hub-Signature-256", metaSign(remove), remove)
	m1, _ := e.store.GetMention(ctx, "acme", vigie.MentionID(platform.Facebook, "122131676912594941_1"))
	m2, _ := e.store.GetMention(ctx, "acme", vigie.MentionID(platform.Facebook, "122131676912594941_2"))
	if m1 == nil || m1.Text != "Où acheter la lampe Lumen ?" || m1.EditedAt == nil || m2 == nil || m2.RemovedAt == nil || m2.Text != "Superbe !" {
		t.Errorf("after edit and removal: %+v / %+v", m1, m2)
	}
	if got := e.types()[events:]; strings.Join(got, ",") != "mention.edited,mention.removed" {
		t.Errorf("events = %v", got)
	}

	// A paused channel's changes are acknowledged and dropped.
	ch, _ := e.store.GetChannel(ctx, "globex", "ch_00000000000000b1")
	ch.Status = vigie.StatusPaused
	if err := e.store.UpdateChannel(ctx, ch); err != nil {
		t.Fatal(err)
	}
	paused := metaBody(entry(globexPage, feedChange(globexPage, "5", "add", "encore")))
	rec = e.hook(t, "POST", "/v1/hooks/meta", "X-Hub-Signature-256", metaSign(paused), paused)
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"paused":1`) {
		t.Errorf("paused channel: %d %s", rec.Code, rec.Body.String())
	}
	if strings.Contains(e.logs.String(), metaSecret) {
		t.Error("the app secret shows in the logs")
	}
}

func TestMeta_NotConfigured(t *testing.T) {
	e := setup(t) // no app-level secrets
	rec := e.hook(t, "POST", "/v1/hooks/meta", "X-Hub-Signature-256", metaSign("{}"), "{}")
	// The caller (Meta) gets a plain 503; the operator finds the missing
	// secret's name in the logs.
	if rec.Code != http.StatusServiceUnavailable {
		t.Errorf("%d %s", rec.Code, rec.Body.String())
	}
	if !strings.Contains(e.logs.String(), "meta-app-secret") {
		t.Errorf("the log does not name the missing secret: %s", e.logs.String())
	}
}

func TestX(t *testing.T) {
	e := hookEnv(t)
	rec := e.hook(t, "GET", "/v1/hooks/x?crc_token=challenge_string", "", "", "")
	if rec.Code != 200 || strings.TrimSpace(rec.Body.String()) != `{"response_token":"sha256=32NI0l/z6YlrlwsVUWzOxxRQWJIEV7/aHnkOEbQUuK4="}` {
		t.Errorf("CRC: %d %s", rec.Code, rec.Body.String())
	}
	tweet := func(id, userID, screen, text, replyTo string) string {
		return fmt.Sprintf(`{"created_at":"Mon May 19 14:01:46 +0000 2025","id_str":%q,"text":%q,"truncated":false,
			"in_reply_to_user_id_str":%q,"user":{"id_str":%q,"name":"Sam","screen_name":%q},
			"entities":{"hashtags":[],"urls":[],"user_mentions":[{"screen_name":"BrandCo","id_str":%q}]},"timestamp_ms":"1747663306000"}`,
			id, text, replyTo, userID, screen, acmeXUser)
	}
	body := fmt.Sprintf(`{"for_user_id":%q,"user_has_blocked":"false","tweet_create_events":[%s,%s]}`, acmeXUser,
		tweet("1924465506158878979", "6253282", "sam_example", "@BrandCo my order never arrived", acmeXUser),
		tweet("1924465506158878980", acmeXUser, "BrandCo", "@sam_example sorry, DM us", ""))
	rec = e.hook(t, "POST", "/v1/hooks/x", "x-twitter-webhooks-signature", xSign(body+"x"), body)
	if rec.Code != 401 {
		t.Errorf("bad signature: %d", rec.Code)
	}
	rec = e.hook(t, "POST", "/v1/hooks/x", "x-twitter-webhooks-signature", xSign(body), body)
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"created":1`) {
		t.Fatalf("delivery: %d %s", rec.Code, rec.Body.String())
	}
	m, err := e.store.GetMention(context.Background(), "acme", vigie.MentionID(platform.X, "1924465506158878979"))
	if err != nil || m.Author.Handle != "sam_example" || m.Channel != "ch_00000000000000a2" {
		t.Errorf("stored %+v, %v", m, err)
	}
	if _, err := e.store.GetMention(context.Background(), "acme", vigie.MentionID(platform.X, "1924465506158878980")); !vigie.IsKind(err, vigie.KindNotFound) {
		t.Error("the account's own post was stored as a mention")
	}
}

func TestMeta_InstagramThinMentions(t *testing.T) {
	e := hookEnv(t)
	ctx := context.Background()
	const igUser = "17841405726653026"
	f := metafake.New(t)
	f.AddMentionedComments(metafake.MentionedComment{IGUserID: igUser, ID: "17894227972186120",
		Text: "@acme.lighting la lampe Lumen est parfaite", Username: "julie.designs",
		Timestamp: t0.Add(-time.Hour), LikeCount: 4, MediaID: "17918195224117851",
		Permalink: "https://www.instagram.com/p/DJk2mXqNq3a/"})
	// The mentioned media (17920238422030506) is not seeded: the fake
	// answers it with Graph's "does not exist" error.
	ig := &vigie.Channel{Workspace: "acme", ID: "ch_00000000000000a3", Platform: platform.Instagram, AccountID: igUser,
		Name: "Acme IG", Status: vigie.StatusActive, CreatedAt: t0}
	if err := e.store.CreateChannel(ctx, ig); err != nil {
		t.Fatal(err)
	}
	if err := e.deps.Secrets.(secrets.File).Set(secrets.ChannelSecret("acme", ig.ID), `{"access_token":"`+metafake.Token+`"}`); err != nil {
		t.Fatal(err)
	}
	e.deps.Platforms.MetaGraphURL = f.URL()
	e.h = NewHandler(e.deps)

	body, err := os.ReadFile(filepath.Join("..", "..", "events", "platforms", "meta", "instagram-mention.json"))
	if err != nil {
		t.Fatal(err)
	}
	rec := e.hook(t, "POST", "/v1/hooks/meta", "X-Hub-Signature-256", metaSign(string(body)), string(body))
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"created":2`) {
		t.Fatalf("delivery: %d %s", rec.Code, rec.Body.String())
	}
	m, err := e.store.GetMention(ctx, "acme", vigie.MentionID(platform.Instagram, "17894227972186120"))
	if err != nil {
		t.Fatal(err)
	}
	if m.Text != "@acme.lighting la lampe Lumen est parfaite" || m.Author.Handle != "julie.designs" || m.Kind != vigie.KindMention ||
		m.Channel != ig.ID || m.Analysis == nil || m.URL == "" {
		t.Errorf("completed mention: %+v", m)
	}
	// What could not be completed is kept with its ids rather than lost.
	thin, err := e.store.GetMention(ctx, "acme", vigie.MentionID(platform.Instagram, "17920238422030506"))
	if err != nil {
		t.Fatal(err)
	}
	if thin.Text != "" || thin.Channel != ig.ID {
		t.Errorf("thin mention: %+v", thin)
	}
	if strings.Contains(e.logs.String(), metafake.Token) {
		t.Error("the access token shows in the logs")
	}
	if !strings.Contains(e.logs.String(), "could not complete a thin change") {
		t.Error("the failed completion is not logged")
	}
}
