package x_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"vigie/internal/platform"
	"vigie/internal/platform/fakeapi"
	"vigie/internal/platform/x"
	"vigie/internal/vigie"
)

func FuzzParseActivity(f *testing.F) {
	for _, name := range []string{"mention.json", "reply.json", "own-post.json", "delete.json", "extended.json"} {
		f.Add(sample(f, name))
	}
	f.Add([]byte(`{"for_user_id":1,"favorite_events":[{}],"user_event":{},"tweet_create_events":[{"id":5,"user":{"id":1},"retweeted_status":{}}]}`))
	f.Add([]byte(`{"for_user_id":"1","tweet_create_events":[{"id_str":"9","created_at":"x","timestamp_ms":"12","truncated":true,"extended_tweet":{"full_text":"&lt;b&gt;"}}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		a, err := x.ParseActivity(body)
		if err != nil {
			if !vigie.IsKind(err, vigie.KindInvalid) {
				t.Fatalf("error of kind %s: %v", vigie.ErrorKind(err), err)
			}
			return
		}
		if a.ForUserID == "" || a.Ignored < 0 {
			t.Fatalf("activity %+v", a)
		}
		for _, c := range a.Changes {
			m := c.Mention
			switch {
			case m == nil:
				t.Fatalf("change without mention %+v", c)
			case c.Account != a.ForUserID || m.ExternalID == "" || m.Platform != platform.X:
				t.Fatalf("bad change %+v %+v", c, m)
			case c.Op == platform.OpNew && (m.Author.ID == a.ForUserID && m.Author.ID != "" || m.URL == ""):
				t.Fatalf("bad mention %+v", m)
			case m.Kind == vigie.KindReply && m.ParentID == "":
				t.Fatalf("reply without parent %+v", m)
			case c.Op != platform.OpNew && c.Op != platform.OpRemove:
				t.Fatalf("bad op %+v", c)
			}
		}
	})
}

// FuzzMentionsResponse plays any answer of the mentions endpoint to a
// poll: it ends in changes or in an error the watch can act on, never in
// a panic, and the token never shows in the error.
func FuzzMentionsResponse(f *testing.F) {
	for _, name := range []string{"mentions-page.json", "rate-limited.json"} {
		f.Add(uint8(0), sample(f, name))
		f.Add(uint8(3), sample(f, name))
	}
	f.Add(uint8(0), []byte(`{"data":[{"id":"1","text":"x","author_id":"9"}],"meta":{"next_token":"n","newest_id":"1"}}`))
	f.Add(uint8(0), []byte(`{"errors":[{"title":"Not Found Error","type":"https://api.twitter.com/2/problems/resource-not-found"}]}`))
	f.Add(uint8(1), []byte(`{"errors":[{"parameters":{"pagination_token":["x"]},"message":"bad"}]}`))
	statuses := []int{200, 400, 401, 429, 503}
	srv := fakeapi.NewCanned(f)
	const token = "fuzz-secret-token"
	c := &x.Client{BaseURL: srv.URL(), Token: token, HTTP: srv.Client(), Now: func() time.Time { return time.Unix(1_700_000_000, 0) }}
	f.Fuzz(func(t *testing.T, status uint8, body []byte) {
		srv.Set(statuses[int(status)%len(statuses)], body)
		res, err := c.Mentions(context.Background(), "2244994945", "", platform.Limits{MaxPages: 2})
		if err != nil {
			if strings.Contains(err.Error(), token) {
				t.Fatalf("the token shows in %v", err)
			}
			return
		}
		for _, ch := range res.Changes {
			if ch.Mention == nil || ch.Mention.ExternalID == "" || ch.Mention.Platform != platform.X {
				t.Fatalf("bad change %+v", ch)
			}
		}
	})
}
