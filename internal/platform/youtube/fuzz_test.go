package youtube_test

import (
	"os"
	"path/filepath"
	"testing"

	"vigie/internal/platform"
	"vigie/internal/platform/youtube"
	"vigie/internal/vigie"
)

func FuzzParseCommentThreads(f *testing.F) {
	for _, name := range []string{"comment-threads.json", "quota-exceeded.json"} {
		b, err := os.ReadFile(filepath.Join("..", "..", "..", "events", "platforms", "youtube", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"items":[{"id":"a","snippet":{"topLevelComment":{"id":"a","snippet":{"textDisplay":"<a href=x>hi</a><br","publishedAt":"2025-05-01T12:00:00Z"}}},"replies":{"comments":[{"id":"a.b","snippet":{"publishedAt":"2025-05-01T12:00:01.5+02:00"}}]}}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		page, err := youtube.ParseCommentThreads(body)
		if err != nil {
			if !vigie.IsKind(err, vigie.KindInvalid) {
				t.Fatalf("error of kind %s: %v", vigie.ErrorKind(err), err)
			}
			return
		}
		for _, th := range page.Threads {
			for _, c := range th.Changes("UCJrDMFOdv1I2k8n9oK_V21w") {
				m := c.Mention
				switch {
				case c.Op != platform.OpNew, m == nil:
					t.Fatalf("bad change %+v", c)
				case m.ExternalID == "" || m.Platform != platform.YouTube || m.ThreadID != th.ID:
					t.Fatalf("bad mention %+v", m)
				case m.Kind == vigie.KindReply && m.ParentID == "":
					t.Fatalf("reply without parent %+v", m)
				}
			}
		}
	})
}
