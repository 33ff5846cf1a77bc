package feeds_test

import (
	"net/url"
	"testing"

	"vigie/internal/platform"
	"vigie/internal/platform/feeds"
	"vigie/internal/vigie"
)

func FuzzParseFeed(f *testing.F) {
	for _, name := range []string{"google-alerts.xml", "talkwalker.xml"} {
		f.Add(sample(f, name))
	}
	f.Add([]byte(`<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"><item rdf:about="x"><title>t</title></item></rdf:RDF>`))
	f.Add([]byte("<?xml version=\"1.0\" encoding=\"windows-1252\"?><rss><channel><item><title>\x93q\x94</title><description>&lt;script&gt;x&lt;/SCRIPT&gt;</description></item></channel></rss>"))
	f.Add([]byte(`<feed><entry><content type="xhtml"><div>a<b>b</b></div></content><link href="https://www.google.com/url?q=https://a.example/"/></entry></feed>`))
	f.Add([]byte(`<!DOCTYPE html><html></html>`))
	base, _ := url.Parse("https://feeds.example/feed")
	f.Fuzz(func(t *testing.T, body []byte) {
		feed, err := feeds.Parse(body, base)
		if err != nil {
			if !vigie.IsKind(err, vigie.KindInvalid) {
				t.Fatalf("error of kind %s: %v", vigie.ErrorKind(err), err)
			}
			return
		}
		for _, c := range feed.Changes(now) {
			m := c.Mention
			if c.Op != platform.OpNew || m == nil || m.ExternalID == "" || m.Platform != platform.Web || m.Kind != vigie.KindArticle || m.CreatedAt.IsZero() {
				t.Fatalf("bad change %+v %+v", c, m)
			}
		}
	})
}
