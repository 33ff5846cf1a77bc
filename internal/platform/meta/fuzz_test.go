package meta_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"vigie/internal/platform"
	"vigie/internal/platform/fakeapi"
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

// FuzzGraphResponse plays any Graph API answer to the completion of a thin
// Instagram mention: it ends in a completed change or an error, never in a
// panic, and the token never shows in the error.
func FuzzGraphResponse(f *testing.F) {
	for _, name := range []string{"graph-mentioned-comment.json", "graph-mentioned-media.json", "graph-error-rate-limit.json"} {
		f.Add(uint8(0), sample(f, name))
		f.Add(uint8(2), sample(f, name))
	}
	f.Add(uint8(0), []byte(`{"mentioned_comment":{"id":"1","text":7,"timestamp":"2025-05-12T09:41:07+0000"}}`))
	f.Add(uint8(1), []byte(`{"error":{"message":"x","type":"OAuthException","code":190,"error_subcode":463}}`))
	statuses := []int{200, 400, 403, 500}
	srv := fakeapi.NewCanned(f)
	d, err := meta.ParseDelivery(sample(f, "instagram-mention.json"))
	if err != nil || len(d.Changes) != 2 {
		f.Fatalf("sample: %v", err)
	}
	const token = "fuzz-secret-token"
	c := &meta.Client{BaseURL: srv.URL(), HTTP: srv.Client(), Now: func() time.Time { return time.Unix(1_700_000_000, 0) }}
	f.Fuzz(func(t *testing.T, status uint8, body []byte) {
		srv.Set(statuses[int(status)%len(statuses)], body)
		for _, thin := range d.Changes {
			got, err := c.CompleteMention(context.Background(), token, "", thin)
			if err != nil {
				if strings.Contains(err.Error(), token) {
					t.Fatalf("the token shows in %v", err)
				}
				continue
			}
			if got.Thin || got.Mention == nil || got.Mention.ExternalID != thin.Mention.ExternalID || got.Mention.Platform != platform.Instagram {
				t.Fatalf("completed %+v from %+v", got.Mention, thin.Mention)
			}
		}
	})
}
