package mastodon_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"vigie/internal/platform"
	"vigie/internal/platform/mastodon"
	"vigie/internal/platform/mastodon/mastodonfake"
	"vigie/internal/vigie"
)

var t0 = time.Date(2025, 5, 20, 9, 1, 30, 0, time.UTC)

// setup returns a fake and a client on it with the fake's token.
func setup(t *testing.T) (*mastodonfake.Server, *mastodon.Client) {
	t.Helper()
	fake := mastodonfake.New(t)
	fake.SetClock(func() time.Time { return t0 })
	return fake, &mastodon.Client{BaseURL: fake.URL(), Token: mastodonfake.Token, HTTP: http.DefaultClient, Now: func() time.Time { return t0 }}
}

func host(fake *mastodonfake.Server) string {
	u, _ := url.Parse(fake.URL())
	return u.Host
}

// statuses makes n statuses whose text is prefix and their number.
func statuses(prefix string, n int) []mastodonfake.Status {
	var sts []mastodonfake.Status
	for i := range n {
		sts = append(sts, mastodonfake.Status{
			Account:   mastodonfake.Account{Username: "zsc", DisplayName: "ZSC", Followers: 118},
			Content:   fmt.Sprintf(`<p><span class="h-card"><a href="https://mastodon.social/@acme" class="u-url mention">@<span>acme</span></a></span> %s %d</p>`, prefix, i),
			CreatedAt: t0.Add(-time.Hour + time.Duration(i)*time.Second),
		})
	}
	return sts
}

func notifications(t *testing.T, c *mastodon.Client, cursor string, l platform.Limits) platform.PollResult {
	t.Helper()
	res, err := c.Notifications(context.Background(), cursor, l)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func texts(cs []platform.Change) []string {
	var out []string
	for _, c := range cs {
		out = append(out, strings.TrimPrefix(c.Mention.Text, "@acme "))
	}
	return out
}

func seq(prefix string, from, to int) []string {
	var out []string
	for i := from; i < to; i++ {
		out = append(out, fmt.Sprintf("%s %d", prefix, i))
	}
	return out
}

func TestNotifications_FirstPollTakesTheNewestPage(t *testing.T) {
	fake, c := setup(t)
	fake.AddNotification("follow", mastodonfake.Account{Username: "fan"})
	fake.AddMentions(statuses("old", 50)...)
	l := platform.Limits{MaxPages: 5, PageSize: 20}
	res := notifications(t, c, "", l)
	if res.Requests != 1 || res.More {
		t.Errorf("Requests %d, More %v; want 1, false", res.Requests, res.More)
	}
	if diff := cmp.Diff(seq("old", 30, 50), texts(res.Changes)); diff != "" {
		t.Errorf("first poll (-want +got):\n%s", diff)
	}
	q := url.Values(fake.Requests()[0].Query)
	if q.Get("limit") != "20" || q.Has("min_id") || !slices.Equal(q["types[]"], []string{"mention"}) {
		t.Errorf("first request query %v", q)
	}
	if got := fake.Requests()[0].Header.Get("Authorization"); got != "Bearer "+mastodonfake.Token {
		t.Errorf("Authorization %q", got)
	}

	again := notifications(t, c, res.Cursor, l)
	if len(again.Changes) != 0 || again.More || again.Cursor != res.Cursor || again.Requests != 1 {
		t.Errorf("second poll: %v, More %v, cursor %q → %q, %d requests", texts(again.Changes), again.More, res.Cursor, again.Cursor, again.Requests)
	}
	if got := url.Values(fake.Requests()[1].Query).Get("min_id"); got != res.Cursor {
		t.Errorf("min_id %q, want the cursor %q", got, res.Cursor)
	}
}

func TestNotifications_FirstPollOfAnEmptyAccount(t *testing.T) {
	fake, c := setup(t)
	res := notifications(t, c, "", platform.Limits{})
	if res.Cursor != "" || len(res.Changes) != 0 || res.Requests != 1 {
		t.Fatalf("empty account: %+v", res)
	}
	if got := url.Values(fake.Requests()[0].Query).Get("limit"); got != "80" {
		t.Errorf("limit %q, want the maximum, 80", got)
	}
	fake.AddMentions(statuses("new", 3)...)
	res = notifications(t, c, res.Cursor, platform.Limits{})
	if diff := cmp.Diff(seq("new", 0, 3), texts(res.Changes)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestNotifications_Backlog reads a backlog larger than one poll's pages,
// with mentions arriving meanwhile and ids crossing a power of ten:
// nothing is returned twice, nothing is skipped, More says when to go on.
func TestNotifications_Backlog(t *testing.T) {
	fake, c := setup(t)
	fake.StartIDs(990, 99990)
	fake.AddMentions(statuses("old", 2)...)
	l := platform.Limits{MaxPages: 2, PageSize: 10}
	cursor := notifications(t, c, "", l).Cursor

	for i, st := range statuses("new", 45) {
		fake.AddMentions(st)
		if i%7 == 0 {
			fake.AddNotification("favourite", mastodonfake.Account{Username: "fan", Domain: "other.example"})
		}
	}
	var got []string
	var polls []platform.PollResult
	for i := 0; ; i++ {
		if i == 10 {
			t.Fatal("no end after 10 polls")
		}
		if i == 1 {
			fake.AddMentions(statuses("late", 4)...)
		}
		res := notifications(t, c, cursor, l)
		got = append(got, texts(res.Changes)...)
		polls = append(polls, res)
		cursor = res.Cursor
		if !res.More {
			break
		}
	}
	want := append(seq("new", 0, 45), seq("late", 0, 4)...)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("mentions across polls (-want +got):\n%s", diff)
	}
	// 49 mentions, 20 a poll: 20 (More), 20 (More), 9 and an empty page.
	var shape []string
	for _, p := range polls {
		shape = append(shape, fmt.Sprintf("%d/%d/%v", len(p.Changes), p.Requests, p.More))
	}
	if diff := cmp.Diff([]string{"20/2/true", "20/2/true", "9/2/false"}, shape); diff != "" {
		t.Errorf("polls changes/requests/More (-want +got):\n%s", diff)
	}
	if res := notifications(t, c, cursor, l); len(res.Changes) != 0 {
		t.Errorf("after the end: %v", texts(res.Changes))
	}
	if len(cursor) != 4 {
		t.Errorf("cursor %q: the ids should have crossed 999", cursor)
	}
}

func TestNotifications_Mention(t *testing.T) {
	fake, c := setup(t)
	sts := fake.AddMentions(
		mastodonfake.Status{Account: mastodonfake.Account{Username: "claire", Domain: "piaille.fr", DisplayName: "Claire", Followers: 2304},
			Content:     `<p><span class="h-card"><a href="https://mastodon.social/@acme" class="u-url mention">@<span>acme</span></a></span> n&#39;est pas arrivée &amp; <br>voilà</p><p>#<span>SAV</span></p>`,
			InReplyToID: "114537990209478945", InReplyToAccountID: "14715", Favourites: 3, Reblogs: 2, Replies: 1, CreatedAt: t0.Add(-time.Minute)},
		mastodonfake.Status{Account: mastodonfake.Account{Username: "zsc"}, Content: "<p>hello</p>", SpoilerText: "CW", CreatedAt: t0})
	res := notifications(t, c, "", platform.Limits{})
	h := host(fake)
	want := []platform.Change{
		{Op: platform.OpNew, Mention: &vigie.Mention{
			Platform: platform.Mastodon, Kind: vigie.KindReply,
			ExternalID: h + "/" + sts[0].ID, ParentID: h + "/114537990209478945",
			Author:    vigie.Author{ID: sts[0].Account.ID, Handle: "claire@piaille.fr", Name: "Claire", Followers: ptr[int64](2304)},
			Text:      "@acme n'est pas arrivée &\nvoilà\n\n#SAV",
			URL:       "https://piaille.fr/@claire/" + sts[0].ID,
			CreatedAt: t0.Add(-time.Minute),
			Metrics:   map[string]int64{"likes": 3, "reposts": 2, "replies": 1},
		}},
		{Op: platform.OpNew, Mention: &vigie.Mention{
			Platform: platform.Mastodon, Kind: vigie.KindMention,
			ExternalID: h + "/" + sts[1].ID, ThreadID: h + "/" + sts[1].ID,
			Author:    vigie.Author{ID: sts[1].Account.ID, Handle: "zsc", Name: "zsc", Followers: ptr[int64](0)},
			Text:      "CW\n\nhello",
			URL:       fake.URL() + "/@zsc/" + sts[1].ID,
			CreatedAt: t0,
			Metrics:   map[string]int64{"likes": 0, "reposts": 0, "replies": 0},
		}},
	}
	if diff := cmp.Diff(want, res.Changes); diff != "" {
		t.Errorf("changes (-want +got):\n%s", diff)
	}
}

func TestNotifications_RateLimit(t *testing.T) {
	fake, c := setup(t)
	fake.AddMentions(statuses("a", 3)...)
	reset := time.Date(2025, 5, 20, 9, 5, 0, 123456000, time.UTC)
	fake.RateLimit(reset)
	res, err := c.Notifications(context.Background(), "", platform.Limits{})
	var rl *platform.RateLimitError
	if !errors.As(err, &rl) || !rl.Reset.Equal(reset) || rl.Platform != platform.Mastodon {
		t.Fatalf("err = %v, want a rate limit until %v", err, reset)
	}
	if res.Requests != 1 {
		t.Errorf("Requests %d", res.Requests)
	}
	if res := notifications(t, c, "", platform.Limits{}); len(res.Changes) != 3 {
		t.Errorf("after the reset: %d changes", len(res.Changes))
	}
}

// TestNotifications_RateLimitBudget: when the headers say no request is
// left, the poll stops with what it read; the next one is refused until
// the period ends.
func TestNotifications_RateLimitBudget(t *testing.T) {
	fake, c := setup(t)
	fake.AddMentions(statuses("old", 1)...)
	fake.SetRateLimit(3)
	l := platform.Limits{MaxPages: 5, PageSize: 5}
	cursor := notifications(t, c, "", l).Cursor
	fake.AddMentions(statuses("new", 30)...)
	res := notifications(t, c, cursor, l)
	if res.Requests != 2 || !res.More || len(res.Changes) != 10 {
		t.Fatalf("Requests %d, More %v, %d changes; want 2, true, 10", res.Requests, res.More, len(res.Changes))
	}
	_, err := c.Notifications(context.Background(), res.Cursor, l)
	var rl *platform.RateLimitError
	// The 5-minute period of 09:01:30 ends at 09:05.
	if want := time.Date(2025, 5, 20, 9, 5, 0, 0, time.UTC); !errors.As(err, &rl) || !rl.Reset.Equal(want) {
		t.Fatalf("err = %v, want a rate limit until %v", err, want)
	}
}

func TestNotifications_RateLimitWithoutReset(t *testing.T) {
	for _, tt := range []struct {
		name       string
		retryAfter string
		want       time.Time
	}{
		{"Retry-After", "30", t0.Add(30 * time.Second)},
		{"nothing", "", t0.Add(mastodon.DefaultRateLimitWait)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			fake, c := setup(t)
			fake.FailAfter(0, func(w http.ResponseWriter) {
				w.Header().Del("X-RateLimit-Reset")
				if tt.retryAfter != "" {
					w.Header().Set("Retry-After", tt.retryAfter)
				}
				w.WriteHeader(http.StatusTooManyRequests)
			})
			_, err := c.Notifications(context.Background(), "", platform.Limits{})
			var rl *platform.RateLimitError
			if !errors.As(err, &rl) || !rl.Reset.Equal(tt.want) {
				t.Fatalf("err = %v, want a rate limit until %v", err, tt.want)
			}
		})
	}
}

func TestNotifications_Errors(t *testing.T) {
	tests := []struct {
		name string
		fail func(*mastodonfake.Server)
		want *platform.APIError
	}{
		{"revoked token", func(f *mastodonfake.Server) { f.SetToken("another") },
			&platform.APIError{Status: 401, Message: "The access token is invalid", Auth: true}},
		{"missing scope", func(f *mastodonfake.Server) { f.Fail(403, "This action is outside the authorized scopes") },
			&platform.APIError{Status: 403, Message: "This action is outside the authorized scopes", Auth: true}},
		{"disabled", func(f *mastodonfake.Server) { f.Fail(403, "Your login is currently disabled") },
			&platform.APIError{Status: 403, Message: "Your login is currently disabled", Auth: true}},
		{"unavailable", func(f *mastodonfake.Server) { f.Fail(503, "Remote data could not be fetched") },
			&platform.APIError{Status: 503, Message: "Remote data could not be fetched", Retryable: true}},
		{"proxy page", func(f *mastodonfake.Server) {
			f.FailBody(502, "text/html", "<html><body>502 Bad Gateway</body></html>")
		},
			&platform.APIError{Status: 502, Retryable: true}},
		{"not found", func(f *mastodonfake.Server) { f.Fail(404, "Record not found") },
			&platform.APIError{Status: 404, Message: "Record not found"}},
		{"oauth error", func(f *mastodonfake.Server) {
			f.FailBody(400, "application/json", `{"error":"invalid_request","error_description":"The request is missing a required parameter"}`)
		}, &platform.APIError{Status: 400, Message: "invalid_request: The request is missing a required parameter"}},
		{"echoed token", func(f *mastodonfake.Server) { f.Fail(400, "bad token "+mastodonfake.Token) },
			&platform.APIError{Status: 400, Message: "bad token [token]"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake, c := setup(t)
			fake.AddMentions(statuses("a", 2)...)
			tt.fail(fake)
			_, err := c.Notifications(context.Background(), "", platform.Limits{})
			var ae *platform.APIError
			if !errors.As(err, &ae) {
				t.Fatalf("err = %v, want an APIError", err)
			}
			tt.want.Platform = platform.Mastodon
			if diff := cmp.Diff(tt.want, ae); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
			if strings.Contains(err.Error(), mastodonfake.Token) {
				t.Errorf("error %q shows the token", err)
			}
		})
	}
}

func TestNotifications_MalformedBody(t *testing.T) {
	for _, body := range []string{`[{"id":"1","type":"mention"`, `{"error":"surprise"}`, `<html></html>`} {
		fake, c := setup(t)
		fake.FailBody(200, "application/json", body)
		_, err := c.Notifications(context.Background(), "", platform.Limits{})
		var ae *platform.APIError
		if !errors.As(err, &ae) || !ae.Retryable || ae.Status != 200 || !strings.Contains(ae.Message, "malformed JSON") {
			t.Errorf("body %s: err = %v, want a retryable malformed JSON error", body, err)
		}
	}
}

// A failure in the middle of a poll returns an error and no cursor: the
// next poll reads the same mentions again rather than skip them.
func TestNotifications_FailureMidPoll(t *testing.T) {
	fake, c := setup(t)
	fake.AddMentions(statuses("old", 1)...)
	l := platform.Limits{MaxPages: 5, PageSize: 5}
	cursor := notifications(t, c, "", l).Cursor
	fake.AddMentions(statuses("new", 12)...)
	fake.FailAfter(1, func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(500)
		_, _ = w.Write([]byte(`{"error":"We're sorry, but something went wrong on our end."}`))
	})
	res, err := c.Notifications(context.Background(), cursor, l)
	if ae := (*platform.APIError)(nil); !errors.As(err, &ae) || !ae.Retryable || res.Requests != 2 || res.Cursor != "" || len(res.Changes) != 0 {
		t.Fatalf("res %+v, err %v", res, err)
	}
	res = notifications(t, c, cursor, l)
	if diff := cmp.Diff(seq("new", 0, 12), texts(res.Changes)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestNotifications_InvalidInput(t *testing.T) {
	fake, _ := setup(t)
	for _, tt := range []struct {
		name, base, token, cursor, field string
		auth                             bool
	}{
		{name: "no instance", token: "t", field: "instance"},
		{name: "no instance nor token", field: "instance"},
		{name: "plain http", base: "http://mastodon.social", token: "t", field: "instance"},
		{name: "other scheme", base: "ftp://mastodon.social", token: "t", field: "instance"},
		{name: "no host", base: "https://", token: "t", field: "instance"},
		{name: "query", base: "https://mastodon.social/?x=1", token: "t", field: "instance"},
		{name: "user info", base: "https://me:pw@mastodon.social", token: "t", field: "instance"},
		{name: "bad cursor", base: fake.URL(), token: "t", cursor: "12&limit=1", field: "cursor"},
		{name: "no token", base: fake.URL(), auth: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := &mastodon.Client{BaseURL: tt.base, Token: tt.token}
			_, err := c.Notifications(context.Background(), tt.cursor, platform.Limits{})
			if tt.auth {
				if !platform.IsAuth(err) {
					t.Fatalf("err = %v, want an auth error", err)
				}
				return
			}
			if e, ok := vigie.AsError(err); !ok || e.Kind != vigie.KindInvalid || e.Field != tt.field {
				t.Fatalf("err = %v, want Invalid on %s", err, tt.field)
			}
		})
	}
	if n := len(fake.Requests()); n != 0 {
		t.Errorf("%d requests for invalid input", n)
	}
}

// TestNotifications_ServerIgnoresMinID: a server that answers the newest
// page whatever min_id says must not make the poll return old mentions
// again, nor loop.
func TestNotifications_ServerIgnoresMinID(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`[
			{"id":"12","type":"mention","status":{"id":"112","created_at":"2025-05-20T08:00:02Z","content":"two","account":{"id":"1","acct":"a"}}},
			{"id":"11","type":"mention","status":{"id":"111","created_at":"2025-05-20T08:00:01Z","content":"one","account":{"id":"1","acct":"a"}}}]`))
	}))
	defer srv.Close()
	c := &mastodon.Client{BaseURL: srv.URL, Token: "t"}
	res, err := c.Notifications(context.Background(), "11", platform.Limits{MaxPages: 5})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"two"}, texts(res.Changes)); diff != "" || res.Cursor != "12" || res.More || res.Requests != 2 {
		t.Errorf("changes (-want +got):\n%s; cursor %q, More %v, %d requests", diff, res.Cursor, res.More, res.Requests)
	}
}

func TestTagTimeline(t *testing.T) {
	fake, c := setup(t)
	c.Token = ""
	other := mastodonfake.Account{Username: "marc", Domain: "fosstodon.org", DisplayName: "Marc"}
	fake.AddTagStatuses("lumen", mastodonfake.Status{Account: other, Content: "<p>old #lumen</p>"})
	fake.AddTagStatuses("other", mastodonfake.Status{Account: other, Content: "<p>elsewhere</p>"})
	l := platform.Limits{MaxPages: 2, PageSize: 100}
	first, err := c.TagTimeline(context.Background(), "#Lumen", "", l)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"old #lumen"}, texts(first.Changes)); diff != "" {
		t.Errorf("first poll (-want +got):\n%s", diff)
	}
	r := fake.Requests()[0]
	if r.Path != "/api/v1/timelines/tag/Lumen" || url.Values(r.Query).Get("limit") != "40" || r.Header.Get("Authorization") != "" {
		t.Errorf("request %s %v Authorization %q", r.Path, r.Query, r.Header.Get("Authorization"))
	}

	var sts []mastodonfake.Status
	for i := range 90 {
		st := mastodonfake.Status{Account: other, Content: fmt.Sprintf("<p>post %d</p>", i)}
		if i%10 == 0 {
			st.InReplyToID = "114538090012345678"
		}
		if i%30 == 1 {
			st.Visibility = "unlisted" // not on public timelines
		}
		sts = append(sts, st)
	}
	added := fake.AddTagStatuses("LUMEN", sts...)
	var want []string
	for i, st := range added {
		if st.Visibility == "public" {
			want = append(want, fmt.Sprintf("post %d", i))
		}
	}
	var got []string
	cursor := first.Cursor
	for i := 0; ; i++ {
		if i == 5 {
			t.Fatal("no end after 5 polls")
		}
		res, err := c.TagTimeline(context.Background(), "lumen", cursor, l)
		if err != nil {
			t.Fatal(err)
		}
		for _, ch := range res.Changes {
			m := ch.Mention
			got = append(got, m.Text)
			wantKind := vigie.KindPost
			if strings.HasSuffix(m.Text, "0") {
				wantKind = vigie.KindReply
			}
			if m.Kind != wantKind || m.Author.Handle != "marc@fosstodon.org" {
				t.Errorf("%q: kind %s, author %+v", m.Text, m.Kind, m.Author)
			}
		}
		cursor = res.Cursor
		if !res.More {
			break
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("tag timeline across polls (-want +got):\n%s", diff)
	}
}

func TestTagTimeline_Auth(t *testing.T) {
	fake, c := setup(t)
	fake.AddTagStatuses("lumen", statuses("a", 2)...)
	res, err := c.TagTimeline(context.Background(), "lumen", "", platform.Limits{})
	if err != nil || len(res.Changes) != 2 {
		t.Fatalf("with a token: %d changes, %v", len(res.Changes), err)
	}
	if got := fake.Requests()[0].Header.Get("Authorization"); got != "Bearer "+mastodonfake.Token {
		t.Errorf("Authorization %q", got)
	}
	fake.RequireAuthForTags()
	anon := &mastodon.Client{BaseURL: fake.URL()}
	_, err = anon.TagTimeline(context.Background(), "lumen", "", platform.Limits{})
	var ae *platform.APIError
	if !errors.As(err, &ae) || !ae.Auth || ae.Status != 422 {
		t.Errorf("anonymous on a closed instance: err = %v, want an auth error", err)
	}
}

func TestTagTimeline_Tags(t *testing.T) {
	fake, c := setup(t)
	fake.AddTagStatuses("café_2025", statuses("a", 1)...)
	res, err := c.TagTimeline(context.Background(), "#café_2025", "", platform.Limits{})
	if err != nil || len(res.Changes) != 1 {
		t.Fatalf("%d changes, %v", len(res.Changes), err)
	}
	for _, tag := range []string{"", "#", "two words", "a/b", "x?y", "%41", "#a#b", strings.Repeat("a", 101)} {
		if _, err := c.TagTimeline(context.Background(), tag, "", platform.Limits{}); !vigie.IsKind(err, vigie.KindInvalid) {
			t.Errorf("tag %q: err = %v, want Invalid", tag, err)
		}
	}
	if n := len(fake.Requests()); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
}
