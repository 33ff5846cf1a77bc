package bluesky_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"vigie/internal/platform"
	"vigie/internal/platform/bluesky"
	"vigie/internal/vigie"
)

func sample(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "events", "platforms", "bluesky", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func ts(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

const acmePost = "at://did:plc:acme7ruh4vg3xqb2fkm6dz5o/app.bsky.feed.post/3lo4jacme2222"

func TestParseNotifications_Sample(t *testing.T) {
	page, err := bluesky.ParseNotifications(sample(t, "notifications.json"))
	if err != nil {
		t.Fatal(err)
	}
	want := &bluesky.Page{
		Cursor: "2025-05-01T11:58:40.310Z",
		Items: []bluesky.Item{
			{
				URI: "at://did:plc:bob2gq7dqeb3oq5jrsmnxkfh/app.bsky.feed.post/3lo4kxyzbob33", SortAt: ts(t, "2025-05-01T12:00:05.123Z"), Reason: "reply",
				Mention: &vigie.Mention{
					Platform: platform.Bluesky, Kind: vigie.KindReply,
					ExternalID: "at://did:plc:bob2gq7dqeb3oq5jrsmnxkfh/app.bsky.feed.post/3lo4kxyzbob33",
					ParentID:   acmePost, ThreadID: acmePost,
					Author: vigie.Author{ID: "did:plc:bob2gq7dqeb3oq5jrsmnxkfh", Handle: "bob.bsky.social", Name: "Bob"},
					Text:   "Is this available in blue?",
					URL:    "https://bsky.app/profile/bob.bsky.social/post/3lo4kxyzbob33", CreatedAt: ts(t, "2025-05-01T12:00:04Z"),
				},
			},
			{
				URI: "at://did:plc:claire5m2w7zq4yqk3vd8rnt/app.bsky.feed.post/3lo4kclaire44", SortAt: ts(t, "2025-05-01T11:59:59.020Z"), Reason: "mention",
				Mention: &vigie.Mention{
					Platform: platform.Bluesky, Kind: vigie.KindMention,
					ExternalID: "at://did:plc:claire5m2w7zq4yqk3vd8rnt/app.bsky.feed.post/3lo4kclaire44",
					ThreadID:   "at://did:plc:claire5m2w7zq4yqk3vd8rnt/app.bsky.feed.post/3lo4kclaire44",
					Author:     vigie.Author{ID: "did:plc:claire5m2w7zq4yqk3vd8rnt", Handle: "claire.example.fr", Name: "Claire Martin"},
					Text:       "Ma commande @acme.bsky.social n'est toujours pas arrivée 😤",
					URL:        "https://bsky.app/profile/claire.example.fr/post/3lo4kclaire44", CreatedAt: ts(t, "2025-05-01T11:59:58.512Z"),
				},
			},
			{
				URI: "at://did:plc:dan7xk2f5qpl3mrv6tnz4c2w/app.bsky.feed.post/3lo4kdanquote", SortAt: ts(t, "2025-05-01T11:59:31.777Z"), Reason: "quote",
				Mention: &vigie.Mention{
					Platform: platform.Bluesky, Kind: vigie.KindMention,
					ExternalID: "at://did:plc:dan7xk2f5qpl3mrv6tnz4c2w/app.bsky.feed.post/3lo4kdanquote",
					ThreadID:   "at://did:plc:dan7xk2f5qpl3mrv6tnz4c2w/app.bsky.feed.post/3lo4kdanquote",
					// handle.invalid: the URL goes by DID.
					Author:    vigie.Author{ID: "did:plc:dan7xk2f5qpl3mrv6tnz4c2w"},
					Text:      "Finally a brand that listens.",
					URL:       "https://bsky.app/profile/did:plc:dan7xk2f5qpl3mrv6tnz4c2w/post/3lo4kdanquote",
					CreatedAt: ts(t, "2025-05-01T11:59:30Z"),
				},
			},
			{URI: "at://did:plc:eve3rj8nq2m6xkb4fw7tyl5d/app.bsky.feed.like/3lo4keveliked", SortAt: ts(t, "2025-05-01T11:58:50.402Z"), Reason: "like"},
			{URI: "at://did:plc:frank4tq8zc2m5yv3kx7nr6p/app.bsky.graph.follow/3lo4kfrankfol", SortAt: ts(t, "2025-05-01T11:58:40.310Z"), Reason: "follow"},
		},
	}
	if diff := cmp.Diff(want, page); diff != "" {
		t.Errorf("page (-want +got):\n%s", diff)
	}
}

func TestParseSearchPosts_Sample(t *testing.T) {
	page, err := bluesky.ParseSearchPosts(sample(t, "search-posts.json"))
	if err != nil {
		t.Fatal(err)
	}
	gina := "at://did:plc:gina6vw3kq9xz2bt5mr7ny4c/app.bsky.feed.post/3lo4kginapost"
	hugo := "at://did:plc:hugo2p8rx5kc7wq3zn6mt4vd/app.bsky.feed.post/3lo4khugoreply"
	want := &bluesky.Page{
		Cursor: "25",
		Items: []bluesky.Item{
			{
				// Sorted by creation time, the earlier.
				URI: gina, SortAt: ts(t, "2025-05-01T12:01:10.250Z"),
				Mention: &vigie.Mention{
					Platform: platform.Bluesky, Kind: vigie.KindPost, ExternalID: gina, ThreadID: gina,
					Author:    vigie.Author{ID: "did:plc:gina6vw3kq9xz2bt5mr7ny4c", Handle: "gina.example.com", Name: "Gina ☕"},
					Text:      "Just tried the new Acme espresso machine. Loud, but the coffee is great.",
					URL:       "https://bsky.app/profile/gina.example.com/post/3lo4kginapost",
					CreatedAt: ts(t, "2025-05-01T12:01:10.250Z"),
					Metrics:   map[string]int64{"likes": 14, "reposts": 1, "replies": 2, "quotes": 0},
				},
			},
			{
				URI: hugo, SortAt: ts(t, "2025-05-01T12:00:45Z"),
				Mention: &vigie.Mention{
					Platform: platform.Bluesky, Kind: vigie.KindReply, ExternalID: hugo,
					ParentID: gina, ThreadID: "at://did:plc:gina6vw3kq9xz2bt5mr7ny4c/app.bsky.feed.post/3lo4kginaroot",
					Author:    vigie.Author{ID: "did:plc:hugo2p8rx5kc7wq3zn6mt4vd", Handle: "hugo.bsky.social", Name: "Hugo"},
					Text:      "@gina.example.com mine from Acme broke after a week.",
					URL:       "https://bsky.app/profile/hugo.bsky.social/post/3lo4khugoreply",
					CreatedAt: ts(t, "2025-05-01T12:00:45Z"),
					Metrics:   map[string]int64{"likes": 1, "reposts": 0, "replies": 0, "quotes": 0},
				},
			},
		},
	}
	if diff := cmp.Diff(want, page); diff != "" {
		t.Errorf("page (-want +got):\n%s", diff)
	}
}

func TestParseSearchPosts_FutureCreatedAt(t *testing.T) {
	body := `{"posts":[{"uri":"at://did:plc:a/app.bsky.feed.post/b","author":{"did":"did:plc:a","handle":"a.test"},
		"record":{"text":"hi","createdAt":"2030-01-01T00:00:00Z"},"indexedAt":"2025-05-01T12:00:00.000Z"}]}`
	page, err := bluesky.ParseSearchPosts([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	it := page.Items[0]
	if want := ts(t, "2025-05-01T12:00:00Z"); !it.SortAt.Equal(want) {
		t.Errorf("SortAt = %v, want the indexing time %v", it.SortAt, want)
	}
	if it.Mention.Metrics != nil {
		t.Errorf("Metrics = %v, want none when the counts are absent", it.Mention.Metrics)
	}
}

func TestParseNotifications_BadCreatedAt(t *testing.T) {
	body := `{"notifications":[{"uri":"at://did:plc:a/app.bsky.feed.post/b","reason":"mention","author":{"did":"did:plc:a"},
		"record":{"text":"hi","createdAt":"yesterday"},"indexedAt":"2025-05-01T12:00:00.000Z"}]}`
	page, err := bluesky.ParseNotifications([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	m := page.Items[0].Mention
	if want := ts(t, "2025-05-01T12:00:00Z"); !m.CreatedAt.Equal(want) {
		t.Errorf("CreatedAt = %v, want indexedAt %v", m.CreatedAt, want)
	}
	if m.URL != "https://bsky.app/profile/did:plc:a/post/b" {
		t.Errorf("URL = %q", m.URL)
	}
}

func TestParse_Errors(t *testing.T) {
	tests := []struct {
		name  string
		parse func([]byte) (*bluesky.Page, error)
		body  string
		field string
	}{
		{"notifications not json", bluesky.ParseNotifications, `<html>`, "body"},
		{"notifications missing", bluesky.ParseNotifications, `{"cursor":"x"}`, "notifications"},
		{"notification without uri", bluesky.ParseNotifications, `{"notifications":[{"reason":"like","indexedAt":"2025-05-01T12:00:00Z"}]}`, "notifications[0].uri"},
		{"notification bad indexedAt", bluesky.ParseNotifications, `{"notifications":[{"uri":"at://a/b/c","reason":"like","indexedAt":"noon"}]}`, "notifications[0].indexedAt"},
		{"mention without record", bluesky.ParseNotifications, `{"notifications":[{"uri":"at://a/b/c","reason":"mention","indexedAt":"2025-05-01T12:00:00Z"}]}`, "notifications[0].record"},
		{"mention with bad record", bluesky.ParseNotifications, `{"notifications":[{"uri":"at://a/b/c","reason":"reply","record":{"text":3},"indexedAt":"2025-05-01T12:00:00Z"}]}`, "notifications[0].record"},
		{"wrong type", bluesky.ParseNotifications, `{"notifications":{}}`, "body"},
		{"posts not json", bluesky.ParseSearchPosts, `{"posts":[`, "body"},
		{"posts missing", bluesky.ParseSearchPosts, `{"hitsTotal":0}`, "posts"},
		{"post without uri", bluesky.ParseSearchPosts, `{"posts":[{"indexedAt":"2025-05-01T12:00:00Z","record":{}}]}`, "posts[0].uri"},
		{"post bad indexedAt", bluesky.ParseSearchPosts, `{"posts":[{"uri":"at://a/b/c","record":{}}]}`, "posts[0].indexedAt"},
		{"post without record", bluesky.ParseSearchPosts, `{"posts":[{"uri":"at://a/b/c","indexedAt":"2025-05-01T12:00:00Z","record":null}]}`, "posts[0].record"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.parse([]byte(tt.body))
			e, ok := vigie.AsError(err)
			if !ok || e.Kind != vigie.KindInvalid || e.Field != tt.field {
				t.Fatalf("err = %#v, want Invalid on %s", err, tt.field)
			}
		})
	}
}
