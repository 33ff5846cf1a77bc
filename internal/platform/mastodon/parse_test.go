package mastodon_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"vigie/internal/platform"
	"vigie/internal/platform/mastodon"
	"vigie/internal/vigie"
)

func sample(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "events", "platforms", "mastodon", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func ptr[T any](v T) *T { return &v }

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestParseNotifications_Sample(t *testing.T) {
	got, err := mastodon.ParseNotifications(sample(t, "notifications.json"), "mastodon.social")
	if err != nil {
		t.Fatal(err)
	}
	want := []mastodon.Item{
		{ID: "34975861", Mention: &vigie.Mention{
			Platform: platform.Mastodon, Kind: vigie.KindReply,
			ExternalID: "mastodon.social/114538000268896492", ParentID: "mastodon.social/114537990209478945",
			Author:    vigie.Author{ID: "971724", Handle: "zsc", Name: "ZSC", Followers: ptr[int64](118)},
			Text:      "@acme sup! Is the Lumen lamp back in stock?",
			URL:       "https://mastodon.social/@zsc/114538000268896492",
			CreatedAt: at("2025-05-20T07:49:01.940Z"),
			Metrics:   map[string]int64{"likes": 4, "reposts": 1, "replies": 0},
		}},
		{ID: "34975855", Mention: &vigie.Mention{
			Platform: platform.Mastodon, Kind: vigie.KindMention,
			ExternalID: "mastodon.social/114537931126720038", ThreadID: "mastodon.social/114537931126720038",
			Author: vigie.Author{ID: "109348202465821371", Handle: "claire@piaille.fr", Name: "Claire Martin :verified_cat:", Followers: ptr[int64](2304)},
			Text: "@acme ma commande n'est jamais arrivée & le support ne répond pas.\n" +
				"Détails : https://piaille.fr/@claire/114537000000000000\n\n#SAV",
			URL:       "https://piaille.fr/@claire/114537930871002114",
			CreatedAt: at("2025-05-20T07:31:40Z"),
			Metrics:   map[string]int64{"likes": 15, "reposts": 7, "replies": 2},
		}},
		{ID: "34975790", Mention: &vigie.Mention{
			Platform: platform.Mastodon, Kind: vigie.KindMention,
			ExternalID: "mastodon.social/114537581213556012", ThreadID: "mastodon.social/114537581213556012",
			Author:    vigie.Author{ID: "110221304515207810", Handle: "statuswatch@bots.example", Name: "statuswatch@bots.example", Followers: ptr[int64](37)},
			Text:      "Outage report\n\n@acme your status page says \"all good\" but the API returns 503 <again>",
			URL:       "https://bots.example/users/statuswatch/statuses/114537581180001234", // url is null: the uri
			CreatedAt: at("2025-05-20T06:02:12Z"),
			Metrics:   map[string]int64{"likes": 0, "reposts": 0, "replies": 0},
		}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("items (-want +got):\n%s", diff)
	}
}

func TestParseStatuses_Sample(t *testing.T) {
	got, err := mastodon.ParseStatuses(sample(t, "tag-timeline.json"), "mastodon.social")
	if err != nil {
		t.Fatal(err)
	}
	want := []mastodon.Item{
		{ID: "114538102345678901", Mention: &vigie.Mention{
			Platform: platform.Mastodon, Kind: vigie.KindReply,
			ExternalID: "mastodon.social/114538102345678901", ParentID: "mastodon.social/114538090012345678",
			Author:    vigie.Author{ID: "109412345678901999", Handle: "marc@fosstodon.org", Name: "Marc D.", Followers: ptr[int64](512)},
			Text:      "Same here: my #Lumen flickers at 30 %.\n\nTried:\n\nanother bulb\nanother socket\n\nNo luck >_<",
			URL:       "https://fosstodon.org/@marc/114538102298765432",
			CreatedAt: at("2025-05-20T08:15:30Z"),
			Metrics:   map[string]int64{"likes": 2, "reposts": 0, "replies": 0},
		}},
		{ID: "114538060000000042", Mention: &vigie.Mention{
			Platform: platform.Mastodon, Kind: vigie.KindPost,
			ExternalID: "mastodon.social/114538060000000042", ThreadID: "mastodon.social/114538060000000042",
			Author: vigie.Author{ID: "110998877665544332", Handle: "lightnerd", Name: "Light Nerd 💡", Followers: ptr[int64](15230)},
			Text: "Review of the Acme #Lumen desk lamp, after a month 💡\nWarm light, smooth dimmer, short cable.\n\n" +
				"https://lightnerd.example/reviews/acme-lumen-desk-lamp-2025",
			URL:       "https://mastodon.social/@lightnerd/114538060000000042",
			CreatedAt: at("2025-05-20T08:04:51.228Z"),
			Metrics:   map[string]int64{"likes": 40, "reposts": 12, "replies": 3},
		}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("items (-want +got):\n%s", diff)
	}
}

func TestParse_ItemsWithoutMention(t *testing.T) {
	items, err := mastodon.ParseNotifications([]byte(`[
		{"id":"12","type":"mention","account":{"id":"1","acct":"a"}},
		{"id":"11","type":"follow","account":{"id":"2","acct":"b"}},
		{"id":"10","type":"favourite","account":{"id":"2","acct":"b"},"status":{"id":"5","created_at":"2025-05-20T08:00:00Z","content":"<p>ours</p>"}},
		{"id":"9","type":"mention","account":{"id":"3","acct":"c","display_name":"C"},"status":{"id":"6","created_at":"2025-05-20T08:00:00Z","content":"hi","account":null}}
	]`), "example.social")
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 4 || items[0].Mention != nil || items[1].Mention != nil || items[2].Mention != nil || items[3].Mention == nil {
		t.Fatalf("items = %+v", items)
	}
	// A status without its account is the notification's account's.
	if a := items[3].Mention.Author; a.ID != "3" || a.Handle != "c" || a.Name != "C" {
		t.Errorf("author = %+v", a)
	}
	statuses, err := mastodon.ParseStatuses([]byte(`[{"id":"8","created_at":"2025-05-20T08:00:00Z","content":"","reblog":{"id":"7"}},{"id":"7","created_at":"2025-05-20T08:00:00Z","content":"x","reblog":null}]`), "example.social")
	if err != nil {
		t.Fatal(err)
	}
	if statuses[0].Mention != nil || statuses[1].Mention == nil {
		t.Errorf("a boost is no mention, a status with reblog null is one: %+v", statuses)
	}
}

func TestParse_Errors(t *testing.T) {
	tests := []struct {
		name, body, field string
		statuses          bool
	}{
		{"not json", `<html>`, "body", false},
		{"an object", `{"error":"The access token is invalid"}`, "body", false},
		{"numeric id", `[{"id":12,"type":"mention"}]`, "body", false},
		{"no id", `[{"type":"mention"}]`, "[0].id", false},
		{"bad id", `[{"id":"1 2","type":"mention"}]`, "[0].id", false},
		{"status without id", `[{"id":"1","type":"mention","status":{"created_at":"2025-05-20T08:00:00Z"}}]`, "[0].status.id", false},
		{"bad date", `[{"id":"1","type":"mention","status":{"id":"2","created_at":"yesterday"}}]`, "[0].status.created_at", false},
		{"bad parent", `[{"id":"1","type":"mention","status":{"id":"2","created_at":"2025-05-20T08:00:00Z","in_reply_to_id":"../x"}}]`, "[0].status.in_reply_to_id", false},
		{"statuses not json", `nope`, "body", true},
		{"status no id", `[{"created_at":"2025-05-20T08:00:00Z"}]`, "[0].id", true},
		{"status bad date", `[{"id":"3"}]`, "[0].created_at", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parse := mastodon.ParseNotifications
			if tt.statuses {
				parse = mastodon.ParseStatuses
			}
			_, err := parse([]byte(tt.body), "example.social")
			e, ok := vigie.AsError(err)
			if !ok || e.Kind != vigie.KindInvalid || e.Field != tt.field {
				t.Fatalf("err = %#v, want Invalid on %s", err, tt.field)
			}
		})
	}
}

func TestExternalID(t *testing.T) {
	ext := mastodon.ExternalID("Mastodon.Social", "114538060000000042")
	if ext != "mastodon.social/114538060000000042" {
		t.Fatalf("ExternalID = %q", ext)
	}
	if inst, id, ok := mastodon.SplitExternalID(ext); !ok || inst != "mastodon.social" || id != "114538060000000042" {
		t.Errorf("SplitExternalID = %q %q %v", inst, id, ok)
	}
	for _, bad := range []string{"", "114538060000000042", "/1", "mastodon.social/", "a/b c"} {
		if _, _, ok := mastodon.SplitExternalID(bad); ok {
			t.Errorf("SplitExternalID(%q) ok", bad)
		}
	}
}

func TestNewer(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		want bool
	}{{"10", "9", true}, {"9", "10", false}, {"114538060000000042", "114538060000000041", true}, {"5", "5", false}} {
		if got := mastodon.Newer(tt.a, tt.b); got != tt.want {
			t.Errorf("Newer(%s, %s) = %v", tt.a, tt.b, got)
		}
	}
}
