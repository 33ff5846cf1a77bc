package mastodon_test

import (
	"strings"
	"testing"

	"vigie/internal/platform"
	"vigie/internal/platform/mastodon"
	"vigie/internal/vigie"
)

var samples = []string{"notifications.json", "tag-timeline.json", "error-unauthorized.json", "rate-limited.json", "error-requires-auth.json"}

// checkItems checks what every parsed page must hold.
func checkItems(t *testing.T, items []mastodon.Item, kinds ...string) {
	t.Helper()
	for _, it := range items {
		if !mastodon.ValidID(it.ID) {
			t.Fatalf("item id %q", it.ID)
		}
		m := it.Mention
		if m == nil {
			continue
		}
		inst, id, ok := mastodon.SplitExternalID(m.ExternalID)
		switch {
		case m.Platform != platform.Mastodon || !ok || inst != "mastodon.social" || !mastodon.ValidID(id):
			t.Fatalf("bad mention %+v", m)
		case m.Kind != vigie.KindReply && m.Kind != kinds[0]:
			t.Fatalf("kind %q", m.Kind)
		case m.Kind == vigie.KindReply && (m.ParentID == "" || m.ThreadID != ""):
			t.Fatalf("reply %+v", m)
		case m.Kind != vigie.KindReply && (m.ParentID != "" || m.ThreadID != m.ExternalID):
			t.Fatalf("not a reply %+v", m)
		case m.CreatedAt.IsZero() || m.CreatedAt.Location().String() != "UTC":
			t.Fatalf("created at %v", m.CreatedAt)
		case m.Author.Followers != nil && *m.Author.Followers < 0:
			t.Fatalf("followers %d", *m.Author.Followers)
		case strings.HasSuffix(m.Text, " ") || strings.HasSuffix(m.Text, "\n"):
			t.Fatalf("text %q", m.Text)
		}
	}
}

func FuzzParseNotifications(f *testing.F) {
	for _, name := range samples {
		f.Add(sample(f, name))
	}
	f.Add([]byte(`[{"id":"2","type":"mention","account":{"id":"1","acct":"a","followers_count":-1},"status":{"id":"3","created_at":"2025-05-20T08:00:00+02:00","in_reply_to_id":"","content":"<p>a<br>b</p><b","spoiler_text":"cw","url":null}},{"id":"1","type":"follow"}]`))
	f.Add([]byte(`[{"id":"9","type":"mention","status":{"id":"4","created_at":"2025-05-20T08:00:00Z","reblog":{"id":"1"},"account":{}}}]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		items, err := mastodon.ParseNotifications(body, "mastodon.social")
		if err != nil {
			if !vigie.IsKind(err, vigie.KindInvalid) {
				t.Fatalf("error of kind %s: %v", vigie.ErrorKind(err), err)
			}
			return
		}
		checkItems(t, items, vigie.KindMention)
	})
}

func FuzzParseStatuses(f *testing.F) {
	for _, name := range samples {
		f.Add(sample(f, name))
	}
	f.Add([]byte(`[{"id":"3","created_at":"2025-05-20T08:00:00.123456789Z","in_reply_to_id":"2","content":"&amp;<p>x</p>","account":{"id":"1","username":"u"},"favourites_count":1},{"id":"4","created_at":"2025-05-20T08:00:00Z","reblog":null}]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		items, err := mastodon.ParseStatuses(body, "mastodon.social")
		if err != nil {
			if !vigie.IsKind(err, vigie.KindInvalid) {
				t.Fatalf("error of kind %s: %v", vigie.ErrorKind(err), err)
			}
			return
		}
		checkItems(t, items, vigie.KindPost)
	})
}
