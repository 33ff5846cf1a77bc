package meta_test

import (
	"testing"

	"vigie/internal/platform"
	"vigie/internal/platform/meta"
	"vigie/internal/vigie"
)

func FuzzParseDelivery(f *testing.F) {
	for _, name := range []string{"page-comment-add.json", "page-comment-reply.json", "page-comment-edited.json",
		"page-comment-remove.json", "page-many.json", "instagram-comment.json", "instagram-mention.json"} {
		f.Add(sample(f, name))
	}
	f.Add([]byte(`{"object":"instagram","entry":[{"id":178,"time":"2025-03-22T18:20:04+0000","field":"mentions","value":{"comment_id":5}}]}`))
	f.Add([]byte(`{"object":"page","entry":[{"id":"1","time":1742670003512,"messaging":[{}],"changed_fields":["feed"]}]}`))
	f.Add([]byte(`{"object":"page","entry":[{"id":"1","changes":[{"field":"feed","value":{"sender_id":2,"post":"1_2","item":"status","verb":"edit"}}]}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		d, err := meta.ParseDelivery(body)
		if err != nil {
			if !vigie.IsKind(err, vigie.KindInvalid) {
				t.Fatalf("error of kind %s: %v", vigie.ErrorKind(err), err)
			}
			return
		}
		if d.Object == "" || d.Ignored < 0 {
			t.Fatalf("delivery %+v", d)
		}
		for _, c := range d.Changes {
			m := c.Mention
			switch {
			case m == nil:
				t.Fatalf("change without mention %+v", c)
			case c.Op != platform.OpNew && c.Op != platform.OpEdit && c.Op != platform.OpRemove:
				t.Fatalf("bad op %+v", c)
			case c.Account == "" || m.ExternalID == "":
				t.Fatalf("change without ids %+v %+v", c, m)
			case m.Platform != platform.Facebook && m.Platform != platform.Instagram:
				t.Fatalf("bad platform %+v", m)
			case m.Kind == vigie.KindReply && m.ParentID == "":
				t.Fatalf("reply without parent %+v", m)
			case c.Thin && (m.Platform != platform.Instagram || m.Kind != vigie.KindMention):
				t.Fatalf("thin change %+v %+v", c, m)
			}
		}
	})
}
