package youtube_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"vigie/internal/platform"
	"vigie/internal/platform/youtube"
	"vigie/internal/platform/youtube/youtubefake"
	"vigie/internal/vigie"
)

const channel = "UCJrDMFOdv1I2k8n9oK_V21w"

var t0 = time.Date(2025, 5, 1, 20, 0, 0, 0, time.UTC)

func sample(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "events", "platforms", "youtube", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseCommentThreads_Sample(t *testing.T) {
	page, err := youtube.ParseCommentThreads(sample(t, "comment-threads.json"))
	if err != nil {
		t.Fatal(err)
	}
	var got []platform.Change
	for _, th := range page.Threads {
		got = append(got, th.Changes(channel)...)
	}
	m := func(kind, id, parent, thread, video string, a vigie.Author, text string, at string, metrics map[string]int64) platform.Change {
		ts, _ := time.Parse(time.RFC3339, at)
		return platform.Change{Op: platform.OpNew, Account: channel, Mention: &vigie.Mention{
			Platform: platform.YouTube, Kind: kind, ExternalID: id, ParentID: parent, ThreadID: thread, Author: a, Text: text,
			URL: "https://www.youtube.com/watch?v=" + video + "&lc=" + id, CreatedAt: ts, Metrics: metrics,
		}}
	}
	want := []platform.Change{
		m(vigie.KindComment, "UgxD7msptSaPXG9Xqt14AaABAg", "", "UgxD7msptSaPXG9Xqt14AaABAg", "axepn8QqxRk",
			vigie.Author{ID: "UCYFydhhHbFNXnSGwjhGucGA", Handle: "viewer123", Name: "@viewer123"},
			"Great video! Is the new model available in France yet?", "2025-05-01T12:00:00Z", map[string]int64{"likes": 3, "replies": 1}),
		m(vigie.KindReply, "UgxD7msptSaPXG9Xqt14AaABAg.AH3kq9xZbYcAH3l0d2vQ1m", "UgxD7msptSaPXG9Xqt14AaABAg", "UgxD7msptSaPXG9Xqt14AaABAg", "axepn8QqxRk",
			vigie.Author{ID: "UCJrDMFOdv1I2k8n9oK_V21w", Handle: "acmeofficial", Name: "@acmeofficial"},
			"Yes, since last week in all our stores. Thanks for watching!", "2025-05-01T12:42:10Z", map[string]int64{"likes": 1}),
		m(vigie.KindComment, "UgzQm4n7Lr2Tk8Vb1XpJ4AaABAg", "", "UgzQm4n7Lr2Tk8Vb1XpJ4AaABAg", "axepn8QqxRk",
			vigie.Author{ID: "UC9xK3mL7qR2tV5wY8zA1bCd", Name: "Claire Martin"},
			"Mine broke after two days & support never answered. Très déçue.", "2025-05-01T09:15:31Z", map[string]int64{"likes": 12, "replies": 0}),
		m(vigie.KindComment, "UgwHn5o8Ms3Ul9Wc2YqK5AaABAg", "", "UgwHn5o8Ms3Ul9Wc2YqK5AaABAg", "Zp3Vx8kQm2A",
			vigie.Author{ID: "UCq7Wn2Xk9Lm4Pr6St8Uv0Yz", Handle: "night_owl-42", Name: "@night_owl-42"},
			"First! 🔥", "2025-04-30T18:03:07Z", map[string]int64{"likes": 0, "replies": 0}),
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("changes (-want +got):\n%s", diff)
	}
	if page.NextPageToken == "" {
		t.Error("NextPageToken is empty")
	}
}

func TestParseCommentThreads_Errors(t *testing.T) {
	tests := []struct {
		name, body, field string
	}{
		{"not json", `<html>`, "body"},
		{"wrong kind", `{"kind":"youtube#videoListResponse","items":[]}`, "kind"},
		{"no id", `{"items":[{"snippet":{"topLevelComment":{"id":"a","snippet":{"publishedAt":"2025-05-01T12:00:00Z"}}}}]}`, "items[0].id"},
		{"no top comment", `{"items":[{"id":"a","snippet":{}}]}`, "items[0].snippet.topLevelComment"},
		{"bad date", `{"items":[{"id":"a","snippet":{"topLevelComment":{"id":"a","snippet":{"publishedAt":"yesterday"}}}}]}`, "items[0].snippet.topLevelComment.snippet.publishedAt"},
		{"reply without id", `{"items":[{"id":"a","snippet":{"topLevelComment":{"id":"a","snippet":{"publishedAt":"2025-05-01T12:00:00Z"}}},"replies":{"comments":[{"snippet":{}}]}}]}`, "items[0].replies.comments[0].id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := youtube.ParseCommentThreads([]byte(tt.body))
			e, ok := vigie.AsError(err)
			if !ok || e.Kind != vigie.KindInvalid || e.Field != tt.field {
				t.Fatalf("err = %#v, want Invalid on %s", err, tt.field)
			}
		})
	}
}

func TestParseCommentThreads_TextDisplayFallback(t *testing.T) {
	body := `{"items":[{"id":"a","snippet":{"videoId":"v","topLevelComment":{"id":"a","snippet":{"textDisplay":"Nice &amp; <b>bold</b><br>next","authorDisplayName":"Old Name","authorChannelUrl":"http://www.youtube.com/@old.name","publishedAt":"2025-05-01T12:00:00Z"}}}}]}`
	page, err := youtube.ParseCommentThreads([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	c := page.Threads[0].Comment
	if c.Text != "Nice & bold\nnext" || c.Author.Handle != "old.name" {
		t.Errorf("text %q handle %q", c.Text, c.Author.Handle)
	}
}

// setup returns a fake and a client on it using the API key.
func setup(t *testing.T) (*youtubefake.Server, *youtube.Client) {
	t.Helper()
	fake := youtubefake.New(t)
	return fake, &youtube.Client{BaseURL: fake.URL(), APIKey: youtubefake.APIKey, HTTP: http.DefaultClient, Now: func() time.Time { return t0 }}
}

// threads makes n threads on one video, one a second from start, with ids
// prefixed by p.
func threads(p string, start time.Time, n int) []youtubefake.Thread {
	var ts []youtubefake.Thread
	for i := range n {
		ts = append(ts, youtubefake.Thread{VideoID: "axepn8QqxRk", Comment: youtubefake.Comment{
			ID: fmt.Sprintf("%s%04d", p, i), AuthorChannelID: "UCYFydhhHbFNXnSGwjhGucGA", AuthorName: "@viewer123",
			Text: fmt.Sprintf("comment %s %d", p, i), PublishedAt: start.Add(time.Duration(i) * time.Second),
		}})
	}
	return ts
}

// poll polls once and returns the result, failing on error.
func poll(t *testing.T, c *youtube.Client, cursor string, l platform.Limits) platform.PollResult {
	t.Helper()
	res, err := c.CommentThreads(context.Background(), channel, cursor, l)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// ids returns the changes' external ids.
func ids(cs []platform.Change) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Mention.ExternalID)
	}
	return out
}

func TestCommentThreads_FirstPollIsBounded(t *testing.T) {
	fake, c := setup(t)
	fake.AddThreads(channel, threads("old", t0.Add(-time.Hour), 30)...)
	res := poll(t, c, "", platform.Limits{MaxPages: 2, PageSize: 10})
	if len(res.Changes) != 20 || res.More || res.Requests != 2 {
		t.Fatalf("first poll: %d changes, More %v, %d requests; want 20, false, 2", len(res.Changes), res.More, res.Requests)
	}
	if got := res.Changes[0].Mention.ExternalID; got != "old0029" {
		t.Errorf("first change %s, want the newest, old0029", got)
	}
	res = poll(t, c, res.Cursor, platform.Limits{MaxPages: 2, PageSize: 10})
	if len(res.Changes) != 0 || res.More {
		t.Errorf("second poll: %v, More %v; want nothing", ids(res.Changes), res.More)
	}
}

func TestCommentThreads_BacklogAcrossPolls(t *testing.T) {
	for _, offset := range []bool{false, true} {
		t.Run(fmt.Sprintf("offset tokens %v", offset), func(t *testing.T) {
			fake, c := setup(t)
			if offset {
				fake.OffsetTokens()
			}
			fake.AddThreads(channel, threads("old", t0.Add(-time.Hour), 5)...)
			l := platform.Limits{MaxPages: 1, PageSize: 7}
			cursor := poll(t, c, "", l).Cursor

			// A backlog of 40 threads, several sharing a second with
			// the boundary, and more arriving while the sweep runs.
			backlog := threads("new", t0.Add(-time.Hour+4*time.Second), 40)
			for i := range 3 {
				backlog[i].Comment.PublishedAt = t0.Add(-time.Hour + 4*time.Second) // the old newest's second
			}
			fake.AddThreads(channel, backlog...)
			want := map[string]bool{}
			for _, th := range backlog {
				want[th.Comment.ID] = true
			}
			seen := map[string]int{}
			for i := 0; ; i++ {
				if i == 30 {
					t.Fatal("no end after 30 polls")
				}
				if i == 2 {
					late := threads("late", t0.Add(-time.Hour+50*time.Second), 6)
					fake.AddThreads(channel, late...)
					for _, th := range late {
						want[th.Comment.ID] = true
					}
				}
				res := poll(t, c, cursor, l)
				for _, id := range ids(res.Changes) {
					seen[id]++
				}
				cursor = res.Cursor
				// Threads that arrived during a sweep come with the next.
				if !res.More && i > 2 && len(res.Changes) == 0 {
					break
				}
			}
			// One more poll: everything was read.
			if res := poll(t, c, cursor, l); len(res.Changes) != 0 {
				t.Errorf("after the end: %v", ids(res.Changes))
			}
			for id, n := range seen {
				if n != 1 {
					t.Errorf("%s returned %d times", id, n)
				}
				if !want[id] {
					t.Errorf("%s returned, not new", id)
				}
			}
			for id := range want {
				if seen[id] == 0 {
					t.Errorf("%s skipped", id)
				}
			}
		})
	}
}

func TestCommentThreads_Replies(t *testing.T) {
	fake, c := setup(t)
	fake.AddThreads(channel, threads("old", t0.Add(-time.Hour), 2)...)
	cursor := poll(t, c, "", platform.Limits{}).Cursor
	th := threads("new", t0.Add(-time.Minute), 1)[0]
	th.Replies = []youtubefake.Comment{{ID: "new0000.r1", AuthorChannelID: channel, AuthorName: "@acmeofficial", Text: "Thanks!", Likes: 2, PublishedAt: t0.Add(-30 * time.Second)}}
	fake.AddThreads(channel, th)
	res := poll(t, c, cursor, platform.Limits{})
	if diff := cmp.Diff([]string{"new0000", "new0000.r1"}, ids(res.Changes)); diff != "" {
		t.Fatalf("ids (-want +got):\n%s", diff)
	}
	r := res.Changes[1].Mention
	if r.Kind != vigie.KindReply || r.ParentID != "new0000" || r.ThreadID != "new0000" || r.Metrics["likes"] != 2 {
		t.Errorf("reply = %+v", r)
	}
	if res.Changes[0].Mention.Metrics["replies"] != 1 {
		t.Errorf("comment metrics = %v", res.Changes[0].Mention.Metrics)
	}
}

func TestCommentThreads_Auth(t *testing.T) {
	tests := []struct {
		name       string
		key, token string
		wantAuth   bool
		header     string // wanted Authorization header
		wantKey    string // wanted key parameter
	}{
		{name: "key", key: youtubefake.APIKey, wantKey: youtubefake.APIKey},
		{name: "bearer preferred", key: youtubefake.APIKey, token: youtubefake.Token, header: "Bearer " + youtubefake.Token},
		{name: "bad key", key: "nope", wantAuth: true, wantKey: "nope"},
		{name: "bad token", token: "expired", wantAuth: true, header: "Bearer expired"},
		{name: "none", wantAuth: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := youtubefake.New(t)
			fake.AddThreads(channel, threads("a", t0.Add(-time.Hour), 3)...)
			c := &youtube.Client{BaseURL: fake.URL(), APIKey: tt.key, Token: tt.token, Now: func() time.Time { return t0 }}
			res, err := c.CommentThreads(context.Background(), channel, "", platform.Limits{})
			if got := platform.IsAuth(err); got != tt.wantAuth {
				t.Fatalf("IsAuth(%v) = %v, want %v", err, got, tt.wantAuth)
			}
			if !tt.wantAuth && len(res.Changes) != 3 {
				t.Errorf("%d changes, want 3", len(res.Changes))
			}
			for _, r := range fake.Requests() {
				if got := r.Header.Get("Authorization"); got != tt.header {
					t.Errorf("Authorization %q, want %q", got, tt.header)
				}
				if got := r.Query["key"]; len(got) > 0 && got[0] != tt.wantKey || len(got) == 0 && tt.wantKey != "" {
					t.Errorf("key %q, want %q", got, tt.wantKey)
				}
				if tt.key != "" && err != nil && strings.Contains(err.Error(), tt.key) {
					t.Errorf("error %q shows the key", err)
				}
			}
		})
	}
}

func TestCommentThreads_Quota(t *testing.T) {
	fake, c := setup(t)
	fake.AddThreads(channel, threads("a", t0.Add(-time.Hour), 30)...)
	fake.SetQuota(2)
	_, err := c.CommentThreads(context.Background(), channel, "", platform.Limits{MaxPages: 5, PageSize: 10})
	var rl *platform.RateLimitError
	if !errors.As(err, &rl) {
		t.Fatalf("err = %v, want a RateLimitError", err)
	}
	// 20:00 UTC on 1 May is 13:00 PDT: the quota resets at 07:00 UTC.
	if want := time.Date(2025, 5, 2, 7, 0, 0, 0, time.UTC); !rl.Reset.Equal(want) {
		t.Errorf("Reset = %v, want %v", rl.Reset, want)
	}
	if fake.QuotaUsed() != 2 {
		t.Errorf("quota used %d, want 2", fake.QuotaUsed())
	}
}

func TestFake_QuotaBodyIsTheSample(t *testing.T) {
	fake, _ := setup(t)
	fake.SetQuota(0)
	res, err := http.Get(fake.URL() + "/commentThreads?part=snippet,replies&allThreadsRelatedToChannelId=" + channel + "&order=time&textFormat=plainText&key=" + youtubefake.APIKey)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var got, want any
	if err := json.NewDecoder(res.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(sample(t, "quota-exceeded.json"), &want); err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusForbidden {
		t.Errorf("status %d", res.StatusCode)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("quota body (-sample +fake):\n%s", diff)
	}
}

func TestCommentThreads_Errors(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		reason     string
		retryAfter time.Duration
		wantReset  time.Time // for rate limits
		wantCode   string
		retryable  bool
		auth       bool
	}{
		{name: "rate limit", status: 403, reason: "rateLimitExceeded", wantReset: t0.Add(time.Minute)},
		{name: "user rate limit with Retry-After", status: 429, reason: "userRateLimitExceeded", retryAfter: 30 * time.Second, wantReset: t0.Add(30 * time.Second)},
		{name: "server", status: 503, reason: "backendError", wantCode: "backendError", retryable: true},
		{name: "channel not found", status: 404, reason: "channelNotFound", wantCode: "channelNotFound"},
		{name: "comments disabled", status: 403, reason: "commentsDisabled", wantCode: "commentsDisabled"},
		{name: "auth", status: 401, reason: "authError", wantCode: "authError", auth: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake, c := setup(t)
			fake.Fail(tt.status, tt.reason, "Something <b>went</b> wrong.", tt.retryAfter)
			_, err := c.CommentThreads(context.Background(), channel, "", platform.Limits{})
			if !tt.wantReset.IsZero() {
				var rl *platform.RateLimitError
				if !errors.As(err, &rl) || !rl.Reset.Equal(tt.wantReset) {
					t.Fatalf("err = %v, want a rate limit until %v", err, tt.wantReset)
				}
				return
			}
			var ae *platform.APIError
			if !errors.As(err, &ae) {
				t.Fatalf("err = %v, want an APIError", err)
			}
			want := &platform.APIError{Platform: platform.YouTube, Status: tt.status, Code: tt.wantCode, Message: "Something went wrong.", Retryable: tt.retryable, Auth: tt.auth}
			if diff := cmp.Diff(want, ae); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCommentThreads_InvalidInput(t *testing.T) {
	fake, c := setup(t)
	for _, id := range []string{"", "UCshort", "UCJrDMFOdv1I2k8n9oK_V21w/", "XXJrDMFOdv1I2k8n9oK_V21w", "UCJrDMFOdv1I2k8n9oK V21w"} {
		_, err := c.CommentThreads(context.Background(), id, "", platform.Limits{})
		if !vigie.IsKind(err, vigie.KindInvalid) {
			t.Errorf("channel %q: err = %v, want Invalid", id, err)
		}
	}
	if _, err := c.CommentThreads(context.Background(), channel, "{nope", platform.Limits{}); !vigie.IsKind(err, vigie.KindInvalid) {
		t.Errorf("bad cursor: err = %v, want Invalid", err)
	}
	if n := len(fake.Requests()); n != 0 {
		t.Errorf("%d requests for invalid input", n)
	}
}

func TestCommentThreads_ExpiredPageToken(t *testing.T) {
	fake, c := setup(t)
	fake.AddThreads(channel, threads("old", t0.Add(-time.Hour), 2)...)
	l := platform.Limits{MaxPages: 1, PageSize: 5}
	cursor := poll(t, c, "", l).Cursor
	fake.AddThreads(channel, threads("new", t0.Add(-time.Minute), 12)...)
	res := poll(t, c, cursor, l)
	if !res.More || len(res.Changes) != 5 {
		t.Fatalf("More %v, %d changes", res.More, len(res.Changes))
	}
	got := ids(res.Changes)
	fake.Fail(http.StatusBadRequest, "invalidPageToken", "The request specifies an invalid page token.", 0)
	for res.More {
		res = poll(t, c, res.Cursor, platform.Limits{MaxPages: 3, PageSize: 5})
		got = append(got, ids(res.Changes)...)
	}
	seen := map[string]bool{}
	for _, id := range got {
		if seen[id] {
			t.Errorf("%s twice", id)
		}
		seen[id] = true
	}
	if len(seen) != 12 {
		t.Errorf("%d distinct, want 12: %v", len(seen), got)
	}
}
