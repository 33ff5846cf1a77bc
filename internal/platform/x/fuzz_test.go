package x_test

import (
	"testing"

	"vigie/internal/platform"
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
