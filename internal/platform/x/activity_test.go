package x_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"vigie/internal/platform"
	"vigie/internal/platform/x"
	"vigie/internal/vigie"
)

const brand = "2244994945"

func sample(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "events", "platforms", "x", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func i64(n int64) *int64 { return &n }
func boolp(b bool) *bool { return &b }

func TestParseActivity_Samples(t *testing.T) {
	tests := []struct {
		file    string
		want    []platform.Change
		ignored int
	}{
		{"mention.json", []platform.Change{{Op: platform.OpNew, Account: brand, Mention: &vigie.Mention{
			Platform: platform.X, Kind: vigie.KindMention, ExternalID: "1924465506158878979",
			Author: vigie.Author{ID: "6253282", Handle: "sam_example", Name: "Sam", Followers: i64(1532), Verified: boolp(false)},
			Text:   "Just tried the new Lumen lamp from @BrandCo & honestly it's great for late reading",
			URL:    "https://x.com/sam_example/status/1924465506158878979", CreatedAt: time.Date(2025, 5, 19, 14, 1, 46, 0, time.UTC),
			Metrics: map[string]int64{"likes": 0, "reposts": 0, "replies": 0, "quotes": 0},
		}}}, 0},
		{"reply.json", []platform.Change{{Op: platform.OpNew, Account: brand, Mention: &vigie.Mention{
			Platform: platform.X, Kind: vigie.KindReply, ExternalID: "1924466369989931010", ParentID: "1924460000000000000",
			Author: vigie.Author{ID: "98765432", Handle: "claire_m", Name: "Claire M.", Followers: i64(87), Verified: boolp(false)},
			Text:   "@BrandCo my order never arrived", URL: "https://x.com/claire_m/status/1924466369989931010",
			CreatedAt: time.Date(2025, 5, 19, 14, 5, 12, 0, time.UTC),
			Metrics:   map[string]int64{"likes": 0, "reposts": 0, "replies": 0, "quotes": 0},
		}}}, 0},
		{"own-post.json", nil, 1},
		{"delete.json", []platform.Change{{Op: platform.OpRemove, Account: brand, Mention: &vigie.Mention{
			Platform: platform.X, ExternalID: "1924466369989931010", Author: vigie.Author{ID: "98765432"},
		}}}, 0},
		{"extended.json", []platform.Change{{Op: platform.OpNew, Account: brand, Mention: &vigie.Mention{
			Platform: platform.X, Kind: vigie.KindMention, ExternalID: "1924743992345678912",
			Author: vigie.Author{ID: "1400000000000000001", Handle: "lea_studio", Name: "Léa Studio", Followers: i64(12840), Verified: boolp(true)},
			Text:   "Long thread on why I switched to @BrandCo lamps for my studio. The light is warm, the dimmer is smooth, and the base doesn't wobble on my desk. Only downside: the cable is short <1.5m> so plan for an extension. 9/10 would recommend.",
			URL:    "https://x.com/lea_studio/status/1924743992345678912", CreatedAt: time.Date(2025, 5, 20, 8, 30, 2, 0, time.UTC),
			Metrics: map[string]int64{"likes": 148, "reposts": 11, "replies": 5, "quotes": 2},
		}}}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			a, err := x.ParseActivity(sample(t, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			want := x.Activity{ForUserID: brand, Changes: tc.want, Ignored: tc.ignored}
			if diff := cmp.Diff(want, a); diff != "" {
				t.Errorf("ParseActivity (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseActivity_Shapes(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		ops     []platform.Op
		ignored int
		check   func(t *testing.T, m *vigie.Mention)
	}{
		{"empty", `{"for_user_id":"2244994945","tweet_create_events":[]}`, nil, 0, nil},
		{"numeric for_user_id and ids", `{"for_user_id":2244994945,"tweet_create_events":[{"id":123,"text":"hi @BrandCo","user":{"id":55,"screen_name":"a"}}]}`,
			[]platform.Op{platform.OpNew}, 0, func(t *testing.T, m *vigie.Mention) {
				if m.ExternalID != "123" || m.Author.ID != "55" || m.URL != "https://x.com/a/status/123" || !m.CreatedAt.IsZero() || m.Metrics != nil {
					t.Errorf("mention %+v", m)
				}
			}},
		{"own post by numeric id", `{"for_user_id":"2244994945","tweet_create_events":[{"id_str":"1","user":{"id":2244994945}}]}`, nil, 1, nil},
		{"timestamp_ms only", `{"for_user_id":"1","tweet_create_events":[{"id_str":"9","text":"x","timestamp_ms":"1747663306000","user":{"id_str":"2"}}]}`,
			[]platform.Op{platform.OpNew}, 0, func(t *testing.T, m *vigie.Mention) {
				if !m.CreatedAt.Equal(time.UnixMilli(1747663306000)) {
					t.Errorf("CreatedAt = %v", m.CreatedAt)
				}
			}},
		{"bad created_at, timestamp_ms used", `{"for_user_id":"1","tweet_create_events":[{"id_str":"9","created_at":"yesterday","timestamp_ms":1747663306000}]}`,
			[]platform.Op{platform.OpNew}, 0, func(t *testing.T, m *vigie.Mention) {
				if !m.CreatedAt.Equal(time.UnixMilli(1747663306000)) || m.URL != "https://x.com/i/status/9" {
					t.Errorf("mention %+v", m)
				}
			}},
		{"full_text", `{"for_user_id":"1","tweet_create_events":[{"id_str":"9","text":"short","full_text":"the full text"}]}`,
			[]platform.Op{platform.OpNew}, 0, func(t *testing.T, m *vigie.Mention) {
				if m.Text != "the full text" {
					t.Errorf("Text = %q", m.Text)
				}
			}},
		{"reply to account without status: mention", `{"for_user_id":"1","tweet_create_events":[{"id_str":"9","in_reply_to_user_id_str":"1","user":{"id_str":"2"}}]}`,
			[]platform.Op{platform.OpNew}, 0, func(t *testing.T, m *vigie.Mention) {
				if m.Kind != vigie.KindMention {
					t.Errorf("Kind = %s", m.Kind)
				}
			}},
		{"reply to someone else: mention", `{"for_user_id":"1","tweet_create_events":[{"id_str":"9","in_reply_to_user_id_str":"3","in_reply_to_status_id_str":"8","user":{"id_str":"2"}}]}`,
			[]platform.Op{platform.OpNew}, 0, func(t *testing.T, m *vigie.Mention) {
				if m.Kind != vigie.KindMention || m.ParentID != "8" {
					t.Errorf("mention %+v", m)
				}
			}},
		{"repost", `{"for_user_id":"1","tweet_create_events":[{"id_str":"9","text":"RT @BrandCo: hello","user":{"id_str":"2"},"retweeted_status":{"id_str":"7"}}]}`, nil, 1, nil},
		{"retweeted_status null", `{"for_user_id":"1","tweet_create_events":[{"id_str":"9","user":{"id_str":"2"},"retweeted_status":null}]}`, []platform.Op{platform.OpNew}, 0, nil},
		{"other events", `{"for_user_id":"1","favorite_events":[{},{}],"follow_events":[{}],"direct_message_events":[{}],"users":{"1":{}},"apps":{"2":{}},"user_event":{"revoke":{}},"user_has_blocked":"true"}`, nil, 5, nil},
		{"replay status", `{"for_user_id":"1","replay_job_status":{"job_state":"Complete"}}`, nil, 1, nil},
		{"creates and deletes", `{"for_user_id":"1","tweet_delete_events":[{"status":{"id":"5","user_id":"2"}}],"tweet_create_events":[{"id_str":"6","user":{"id_str":"2"}},{"id_str":"7","user":{"id_str":"1"}}]}`,
			[]platform.Op{platform.OpNew, platform.OpRemove}, 1, nil},
		{"delete with numeric id", `{"for_user_id":"1","tweet_delete_events":[{"status":{"id":5,"user_id":2},"timestamp_ms":"1"}]}`,
			[]platform.Op{platform.OpRemove}, 0, func(t *testing.T, m *vigie.Mention) {
				if m.ExternalID != "5" || m.Author.ID != "2" {
					t.Errorf("mention %+v", m)
				}
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, err := x.ParseActivity([]byte(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			var ops []platform.Op
			for _, c := range a.Changes {
				ops = append(ops, c.Op)
			}
			if diff := cmp.Diff(tc.ops, ops); diff != "" {
				t.Errorf("ops (-want +got):\n%s", diff)
			}
			if a.Ignored != tc.ignored {
				t.Errorf("Ignored = %d, want %d", a.Ignored, tc.ignored)
			}
			if tc.check != nil && len(a.Changes) > 0 {
				tc.check(t, a.Changes[0].Mention)
			}
		})
	}
}

func TestParseActivity_Errors(t *testing.T) {
	tests := []struct {
		name, body, field string
	}{
		{"not json", `<html>`, "body"},
		{"array", `[]`, "body"},
		{"no for_user_id", `{"tweet_create_events":[]}`, "for_user_id"},
		{"empty for_user_id", `{"for_user_id":"","tweet_create_events":[]}`, "for_user_id"},
		{"for_user_id an object", `{"for_user_id":{}}`, "for_user_id"},
		{"events not an array", `{"for_user_id":"1","tweet_create_events":{}}`, "tweet_create_events"},
		{"event not an object", `{"for_user_id":"1","tweet_create_events":[{"id_str":"1"},"x"]}`, "tweet_create_events[1]"},
		{"no id", `{"for_user_id":"1","tweet_create_events":[{"text":"x"}]}`, "tweet_create_events[0].id_str"},
		{"id an object", `{"for_user_id":"1","tweet_create_events":[{"id":{}}]}`, "tweet_create_events[0].id"},
		{"text a number", `{"for_user_id":"1","tweet_create_events":[{"id_str":"1","text":3}]}`, "tweet_create_events[0].text"},
		{"user a string", `{"for_user_id":"1","tweet_create_events":[{"id_str":"1","user":"x"}]}`, "tweet_create_events[0].user"},
		{"followers a string", `{"for_user_id":"1","tweet_create_events":[{"id_str":"1","user":{"followers_count":"many"}}]}`, "tweet_create_events[0].user.followers_count"},
		{"bad created_at", `{"for_user_id":"1","tweet_create_events":[{"id_str":"1","created_at":"2025-05-19"}]}`, "tweet_create_events[0].created_at"},
		{"delete without status", `{"for_user_id":"1","tweet_delete_events":[{"timestamp_ms":"1"}]}`, "tweet_delete_events[0].status.id"},
		{"delete status id an array", `{"for_user_id":"1","tweet_delete_events":[{"status":{"id":[]}}]}`, "tweet_delete_events[0].status.id"},
		{"other events not an array", `{"for_user_id":"1","favorite_events":3}`, "favorite_events"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, err := x.ParseActivity([]byte(tc.body))
			e, ok := vigie.AsError(err)
			if !ok || e.Kind != vigie.KindInvalid {
				t.Fatalf("ParseActivity = %+v, %v; want invalid", a, err)
			}
			if e.Field != tc.field {
				t.Errorf("Field = %q, want %q (%v)", e.Field, tc.field, err)
			}
		})
	}
}
