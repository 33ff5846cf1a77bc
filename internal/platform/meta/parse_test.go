package meta_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"vigie/internal/platform"
	"vigie/internal/platform/meta"
	"vigie/internal/vigie"
)

const (
	page   = "448242228374517"
	post   = page + "_122131676912594941"
	igUser = "17841405726653026"
)

func sample(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "events", "platforms", "meta", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func unix(s int64) time.Time { return time.Unix(s, 0).UTC() }

func fb(op platform.Op, account, kind, id, parent, thread string, a vigie.Author, text, url string, at int64) platform.Change {
	return platform.Change{Op: op, Account: account, Mention: &vigie.Mention{Platform: platform.Facebook, Kind: kind,
		ExternalID: id, ParentID: parent, ThreadID: thread, Author: a, Text: text, URL: url, CreatedAt: unix(at)}}
}

const postURL = "https://www.facebook.com/448242228374517/posts/122131676912594941"

var jane = vigie.Author{ID: "6512345678901234", Name: "Jane Doe"}

func TestParseDelivery_Samples(t *testing.T) {
	tests := []struct {
		file    string
		object  string
		want    []platform.Change
		ignored int
	}{
		{"page-comment-add.json", "page", []platform.Change{
			fb(platform.OpNew, page, vigie.KindComment, "122131676912594941_1213590066982748", post, post, jane,
				"Where can I buy this? The Lumen lamp looks great & I need one.", postURL+"?comment_id=1213590066982748", 1742667604),
		}, 0},
		{"page-comment-reply.json", "page", []platform.Change{
			fb(platform.OpNew, page, vigie.KindReply, "122131676912594941_542072878449250", "122131676912594941_1213590066982748", post,
				vigie.Author{ID: "7034567890123456", Name: "Marc Lefèvre"}, "Same question, is it sold in Lyon?", postURL+"?comment_id=542072878449250", 1742668198),
		}, 0},
		{"page-comment-edited.json", "page", []platform.Change{
			fb(platform.OpEdit, page, vigie.KindComment, "122131676912594941_1213590066982748", post, post, jane,
				"Where can I buy this in Paris?", postURL+"?comment_id=1213590066982748", 1742667604),
		}, 0},
		{"page-comment-remove.json", "page", []platform.Change{
			fb(platform.OpRemove, page, vigie.KindComment, "122131676912594941_1213590066982748", post, post, jane, "", "", 1742668000),
		}, 0},
		{"page-many.json", "page", []platform.Change{
			fb(platform.OpNew, page, vigie.KindComment, "122131676912594941_1100000000000001", post, post, jane,
				"Ordered mine yesterday!", postURL+"?comment_id=1100000000000001", 1742669990),
			fb(platform.OpNew, page, vigie.KindReply, "122131676912594941_1100000000000002", "122131676912594941_1100000000000001", post,
				vigie.Author{ID: page, Name: "Acme Lighting"}, "Thanks Jane! Enjoy it.", "", 1742669995),
			fb(platform.OpNew, page, vigie.KindMention, page+"_122131677000000001", "", page+"_122131677000000001",
				vigie.Author{ID: "9012345678901234", Name: "Paul Martin"}, "My Lumen lamp stopped working after a week. Who do I contact?",
				"https://www.facebook.com/448242228374517/posts/122131677000000001", 1742669998),
			fb(platform.OpNew, "531870980123456", vigie.KindComment, "987650000000001_2200000000000001", "531870980123456_987650000000001",
				"531870980123456_987650000000001", vigie.Author{ID: "6612345678901299", Name: "Luc Bernard"}, "Bonjour, livrez-vous en Belgique ?", "", 1742669900),
			fb(platform.OpRemove, "531870980123456", vigie.KindComment, "987650000000001_2200000000000000", "531870980123456_987650000000001",
				"531870980123456_987650000000001", vigie.Author{ID: "6612345678901299", Name: "Luc Bernard"}, "", "", 1742669950),
		}, 4}, // a reaction, a hide, the Page's own post, a message
		{"instagram-comment.json", "instagram", []platform.Change{
			{Op: platform.OpNew, Account: "17841405309211844", Mention: &vigie.Mention{Platform: platform.Instagram, Kind: vigie.KindComment,
				ExternalID: "17865799348089039", ThreadID: "17918195224117851", Author: vigie.Author{ID: "232323232", Handle: "some_user"},
				Text: "Love this colour!", CreatedAt: unix(1747000000)}},
			{Op: platform.OpNew, Account: "17841405309211844", Mention: &vigie.Mention{Platform: platform.Instagram, Kind: vigie.KindReply,
				ExternalID: "17865799348089101", ParentID: "17865799348089039", ThreadID: "17918195224117851",
				Author: vigie.Author{ID: "454545454", Handle: "claire.m"}, Text: "@some_user same, I ordered the green one", CreatedAt: unix(1747000000)}},
		}, 0},
		{"instagram-mention.json", "instagram", []platform.Change{
			{Op: platform.OpNew, Account: igUser, Thin: true, Mention: &vigie.Mention{Platform: platform.Instagram, Kind: vigie.KindMention,
				ExternalID: "17894227972186120", ThreadID: "17918195224117851", CreatedAt: unix(1520622968)}},
			{Op: platform.OpNew, Account: igUser, Thin: true, Mention: &vigie.Mention{Platform: platform.Instagram, Kind: vigie.KindMention,
				ExternalID: "17920238422030506", ThreadID: "17920238422030506", CreatedAt: unix(1520622968)}},
		}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			d, err := meta.ParseDelivery(sample(t, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			want := meta.Delivery{Object: tc.object, Changes: tc.want, Ignored: tc.ignored}
			if diff := cmp.Diff(want, d); diff != "" {
				t.Errorf("ParseDelivery (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseDelivery_Shapes(t *testing.T) {
	comment := func(extra string) string {
		return `{"from":{"id":"65","name":"Jane"},"post_id":"` + post + `","comment_id":"1_2","parent_id":"` + post + `","item":"comment","message":"hi"` + extra + `}`
	}
	tests := []struct {
		name    string
		body    string
		ops     []platform.Op
		ignored int
		check   func(t *testing.T, cs []platform.Change)
	}{
		{"empty entry list", `{"object":"page","entry":[]}`, nil, 0, nil},
		{"no entry", `{"object":"page"}`, nil, 0, nil},
		{"verb edit", `{"object":"page","entry":[{"id":"` + page + `","changes":[{"field":"feed","value":` + comment(`,"verb":"edit"`) + `}]}]}`,
			[]platform.Op{platform.OpEdit}, 0, nil},
		{"verb delete", `{"object":"page","entry":[{"id":"` + page + `","changes":[{"field":"feed","value":` + comment(`,"verb":"delete"`) + `}]}]}`,
			[]platform.Op{platform.OpRemove}, 0, nil},
		{"hide and unhide", `{"object":"page","entry":[{"id":"` + page + `","changes":[{"field":"feed","value":` + comment(`,"verb":"hide"`) + `},{"field":"feed","value":` + comment(`,"verb":"unhide"`) + `}]}]}`,
			nil, 2, nil},
		{"created_time missing: entry time", `{"object":"page","entry":[{"id":"` + page + `","time":1742667607,"changes":[{"field":"feed","value":` + comment(`,"verb":"add"`) + `}]}]}`,
			[]platform.Op{platform.OpNew}, 0, func(t *testing.T, cs []platform.Change) {
				if !cs[0].Mention.CreatedAt.Equal(unix(1742667607)) {
					t.Errorf("CreatedAt = %v", cs[0].Mention.CreatedAt)
				}
			}},
		{"created_time as ISO string", `{"object":"page","entry":[{"id":"` + page + `","changes":[{"field":"feed","value":` + comment(`,"verb":"add","created_time":"2025-03-22T18:20:04+0000"`) + `}]}]}`,
			[]platform.Op{platform.OpNew}, 0, func(t *testing.T, cs []platform.Change) {
				if !cs[0].Mention.CreatedAt.Equal(time.Date(2025, 3, 22, 18, 20, 4, 0, time.UTC)) {
					t.Errorf("CreatedAt = %v", cs[0].Mention.CreatedAt)
				}
			}},
		{"numeric ids and post as id", `{"object":"page","entry":[{"id":448242228374517,"changes":[{"field":"feed","value":{"sender_id":65,"sender_name":"Old","post":"` + post + `","comment_id":"1_2","item":"comment","verb":"add"}}]}]}`,
			[]platform.Op{platform.OpNew}, 0, func(t *testing.T, cs []platform.Change) {
				m := cs[0].Mention
				if cs[0].Account != page || m.Author.ID != "65" || m.Author.Name != "Old" || m.ThreadID != post || m.Kind != vigie.KindComment {
					t.Errorf("change %+v %+v", cs[0], m)
				}
			}},
		{"visitor post edited then removed", `{"object":"page","entry":[{"id":"` + page + `","changes":[
			{"field":"feed","value":{"from":{"id":"9"},"post_id":"` + page + `_7","item":"post","verb":"edited","message":"new"}},
			{"field":"feed","value":{"from":{"id":"9"},"post_id":"` + page + `_7","item":"post","verb":"remove"}}]}]}`,
			[]platform.Op{platform.OpEdit, platform.OpRemove}, 0, func(t *testing.T, cs []platform.Change) {
				if cs[0].Mention.Kind != vigie.KindMention || cs[0].Mention.ExternalID != page+"_7" || cs[0].Mention.Text != "new" {
					t.Errorf("mention %+v", cs[0].Mention)
				}
			}},
		{"post without author", `{"object":"page","entry":[{"id":"` + page + `","changes":[{"field":"feed","value":{"post_id":"` + page + `_7","item":"status","verb":"add"}}]}]}`,
			nil, 1, nil},
		{"other page fields", `{"object":"page","entry":[{"id":"` + page + `","changes":[{"field":"ratings","value":{"item":"rating","verb":"add"}},{"field":"mention","value":{}}]}]}`,
			nil, 2, nil},
		{"messaging", `{"object":"page","entry":[{"id":"` + page + `","time":1742670003512,"messaging":[{"sender":{"id":"1"}},{"sender":{"id":"2"}}]}]}`,
			nil, 2, nil},
		{"changed fields only", `{"object":"page","entry":[{"id":"` + page + `","time":1,"changed_fields":["feed","ratings"]}]}`,
			nil, 2, nil},
		{"other object", `{"object":"user","entry":[{"id":"1","changes":[{"field":"feed","value":{}}]}]}`, nil, 1, nil},
		{"instagram flat shape", `{"object":"instagram","entry":[{"id":"178","time":1747000000,"field":"comments","value":{"from":{"id":"2","username":"u"},"media":{"id":"m1"},"id":"c1","text":"hey"}}]}`,
			[]platform.Op{platform.OpNew}, 0, func(t *testing.T, cs []platform.Change) {
				m := cs[0].Mention
				if cs[0].Account != "178" || m.ExternalID != "c1" || m.ThreadID != "m1" || m.Author.Handle != "u" || m.Platform != platform.Instagram {
					t.Errorf("change %+v %+v", cs[0], m)
				}
			}},
		{"instagram live comment with comment_id", `{"object":"instagram","entry":[{"id":"178","changes":[{"field":"live_comments","value":{"comment_id":"c9","text":"live!"}}]}]}`,
			[]platform.Op{platform.OpNew}, 0, func(t *testing.T, cs []platform.Change) {
				if cs[0].Mention.ExternalID != "c9" || cs[0].Mention.Kind != vigie.KindComment {
					t.Errorf("mention %+v", cs[0].Mention)
				}
			}},
		{"instagram mention in a comment without media", `{"object":"instagram","entry":[{"id":"178","changes":[{"field":"mentions","value":{"comment_id":"c9"}}]}]}`,
			[]platform.Op{platform.OpNew}, 0, func(t *testing.T, cs []platform.Change) {
				if !cs[0].Thin || cs[0].Mention.ExternalID != "c9" || cs[0].Mention.ThreadID != "" {
					t.Errorf("change %+v %+v", cs[0], cs[0].Mention)
				}
			}},
		{"instagram other fields", `{"object":"instagram","entry":[{"id":"178","changes":[{"field":"story_insights","value":{}},{"field":"messages","value":{}}]}]}`,
			nil, 2, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := meta.ParseDelivery([]byte(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			var ops []platform.Op
			for _, c := range d.Changes {
				ops = append(ops, c.Op)
			}
			if diff := cmp.Diff(tc.ops, ops); diff != "" {
				t.Errorf("ops (-want +got):\n%s", diff)
			}
			if d.Ignored != tc.ignored {
				t.Errorf("Ignored = %d, want %d", d.Ignored, tc.ignored)
			}
			if tc.check != nil && len(d.Changes) == len(tc.ops) {
				tc.check(t, d.Changes)
			}
		})
	}
}

func TestParseDelivery_Errors(t *testing.T) {
	tests := []struct {
		name, body, field string
	}{
		{"not json", `<html>`, "body"},
		{"truncated", `{"object":"page","entry":[{`, "body"},
		{"array body", `[]`, "body"},
		{"no object", `{"entry":[]}`, "object"},
		{"entry not an array", `{"object":"page","entry":{}}`, "entry"},
		{"entry not an object", `{"object":"page","entry":[1]}`, "entry[0]"},
		{"entry id an object", `{"object":"page","entry":[{"id":{}}]}`, "entry[0].id"},
		{"entry time a word", `{"object":"page","entry":[{"id":"1","time":"soon"}]}`, "entry[0].time"},
		{"changes not an array", `{"object":"page","entry":[{"id":"1","changes":{}}]}`, "entry[0].changes"},
		{"change not an object", `{"object":"page","entry":[{"id":"1","changes":["x"]}]}`, "entry[0].changes[0]"},
		{"value not an object", `{"object":"page","entry":[{"id":"1","changes":[{"field":"feed","value":[]}]}]}`, "entry[0].changes[0].value"},
		{"from a string", `{"object":"page","entry":[{"id":"1","changes":[{"field":"feed","value":{"from":"x","item":"comment","verb":"add"}}]}]}`, "entry[0].changes[0].value.from"},
		{"from id an array", `{"object":"page","entry":[{"id":"1","changes":[{"field":"feed","value":{"from":{"id":[]}}}]}]}`, "entry[0].changes[0].value.from.id"},
		{"message a number", `{"object":"page","entry":[{"id":"1","changes":[{"field":"feed","value":{"message":3}}]}]}`, "entry[0].changes[0].value.message"},
		{"created_time negative", `{"object":"page","entry":[{"id":"1","changes":[{"field":"feed","value":{"created_time":-1}}]}]}`, "entry[0].changes[0].value.created_time"},
		{"comment without id", `{"object":"page","entry":[{"id":"1","changes":[{"field":"feed","value":{"item":"comment","verb":"add","post_id":"1_2"}}]}]}`, "entry[0].changes[0].value.comment_id"},
		{"entry without id", `{"object":"page","entry":[{"changes":[{"field":"feed","value":{"item":"comment","verb":"add","comment_id":"2_3"}}]}]}`, "entry[0].id"},
		{"visitor post without id", `{"object":"page","entry":[{"id":"1","changes":[{"field":"feed","value":{"from":{"id":"9"},"item":"post","verb":"add"}}]}]}`, "entry[0].changes[0].value.post_id"},
		{"second change bad", `{"object":"page","entry":[{"id":"1","changes":[{"field":"feed","value":{}},{"field":"feed","value":{"verb":1}}]}]}`, "entry[0].changes[1].value.verb"},
		{"ig comment without id", `{"object":"instagram","entry":[{"id":"1","changes":[{"field":"comments","value":{"text":"x"}}]}]}`, "entry[0].changes[0].value.id"},
		{"ig comment media a string", `{"object":"instagram","entry":[{"id":"1","changes":[{"field":"comments","value":{"id":"c","media":"m"}}]}]}`, "entry[0].changes[0].value.media"},
		{"ig mention without ids", `{"object":"instagram","entry":[{"id":"1","changes":[{"field":"mentions","value":{}}]}]}`, "entry[0].changes[0].value.media_id"},
		{"ig flat without entry id", `{"object":"instagram","entry":[{"field":"mentions","value":{"media_id":"5"}}]}`, "entry[0].id"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := meta.ParseDelivery([]byte(tc.body))
			e, ok := vigie.AsError(err)
			if !ok || e.Kind != vigie.KindInvalid {
				t.Fatalf("ParseDelivery = %+v, %v; want an invalid error", d, err)
			}
			if e.Field != tc.field {
				t.Errorf("Field = %q, want %q (%v)", e.Field, tc.field, err)
			}
		})
	}
}

// manyComments is a delivery of n comment changes, Meta's batch maximum
// being 1000.
func manyComments(n int) []byte {
	var b strings.Builder
	b.WriteString(`{"object":"page","entry":[{"id":"` + page + `","time":1742667607,"changes":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"field":"feed","value":{"from":{"id":"65%d","name":"User %d"},"post":{"id":%q,"permalink_url":%q},"message":"Comment %d","post_id":%q,"comment_id":"122131676912594941_%d","created_time":1742667604,"item":"comment","parent_id":%q,"verb":"add"}}`,
			i, i, post, postURL, i, post, i, post)
	}
	b.WriteString(`]}]}`)
	return []byte(b.String())
}

func TestParseDelivery_Thousand(t *testing.T) {
	d, err := meta.ParseDelivery(manyComments(1000))
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Changes) != 1000 || d.Ignored != 0 {
		t.Fatalf("%d changes, %d ignored", len(d.Changes), d.Ignored)
	}
	if got := d.Changes[999].Mention.ExternalID; got != "122131676912594941_999" {
		t.Errorf("last ExternalID = %q", got)
	}
}

func BenchmarkParseDelivery_Thousand(b *testing.B) {
	body := manyComments(1000)
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := meta.ParseDelivery(body); err != nil {
			b.Fatal(err)
		}
	}
}
