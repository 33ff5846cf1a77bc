package feeds_test

import (
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"vigie/internal/platform"
	"vigie/internal/platform/feeds"
	"vigie/internal/vigie"
)

var now = time.Date(2025, 5, 1, 20, 0, 0, 0, time.UTC)

func sample(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "events", "platforms", "feeds", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func date(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func article(id, link, text, author, at string) platform.Change {
	return platform.Change{Op: platform.OpNew, Mention: &vigie.Mention{
		Platform: platform.Web, Kind: vigie.KindArticle, ExternalID: id, URL: link, Text: text,
		Author: vigie.Author{Name: author}, CreatedAt: date(at),
	}}
}

func parse(t *testing.T, body []byte) []platform.Change {
	t.Helper()
	f, err := feeds.Parse(body, nil)
	if err != nil {
		t.Fatal(err)
	}
	return f.Changes(now)
}

func TestParse_GoogleAlertsSample(t *testing.T) {
	want := []platform.Change{
		article("tag:google.com,2013:googlealerts/feed:12501224780620368192",
			"https://www.theconcordinsider.com/2021/06/04/this-week-in-concord-history-502/",
			"This week in Concord history\nSamuel Bell, on horseback, from Boscawen to the new State House. ... fences to escape from the North State Street prison in Concord, Philip Dick, ...",
			"", "2021-06-04T14:26:15Z"),
		article("tag:google.com,2013:googlealerts/feed:8816451873226493127",
			"https://www.example-news.com/culture/2021/06/04/philip-k-dick-ubik-adaptation",
			"Philip K. Dick's \"Ubik\" gets a new screen adaptation\nThe studio confirmed on Friday a new series based on Philip K. Dick's 1969 novel, with filming to start in the autumn & a release planned for 2023 ...",
			"", "2021-06-04T11:02:48Z"),
		article("tag:google.com,2013:googlealerts/feed:4790386102541130254",
			"https://www.exemple-journal.fr/idees/2021/06/03/science-fiction-philip-dick-ecrans_6082710_3232.html",
			"Ce que la science-fiction de Philip Dick dit de nos écrans\nRelire Philip Dick aujourd'hui, c'est mesurer combien nos vies nouvelles sont passées derrière l'écran ...",
			"", "2021-06-03T19:40:02Z"),
	}
	if diff := cmp.Diff(want, parse(t, sample(t, "google-alerts.xml"))); diff != "" {
		t.Errorf("changes (-want +got):\n%s", diff)
	}
}

func TestParse_TalkwalkerSample(t *testing.T) {
	want := []platform.Change{
		article("talkwalker:8f6a2c91d4e7b035", "https://www.example-tech.com/2025/05/01/acme-robotics-warehouse-robot/",
			"Acme Robotics unveils a warehouse robot for small retailers\nAcme Robotics presented on Thursday a compact picking robot aimed at shops with fewer than 50 employees & a subscription price.",
			"Jane Doe", "2025-05-01T13:48:00Z"),
		article("talkwalker:13c07e5ab2f9d648", "https://www.exemple-eco.fr/entreprises/acme-robotics-france-20250501",
			"Les robots d'Acme Robotics arrivent en France\nLe fabricant Acme Robotics ouvre une filiale à Lyon et recrute 40 ingénieurs d'ici la fin de l'année.",
			"Pierre Martin", "2025-05-01T07:30:00Z"),
		article("talkwalker:e2b94f0c7a1d3586", "https://forum.example.org/t/acme-robotics-r2-arm/48213",
			"Forum: anyone tried the Acme Robotics R2 arm?\nThinking of buying the R2 for our lab but reviews about Acme Robotics support are mixed...",
			"", "2025-04-30T22:17:45Z"),
	}
	if diff := cmp.Diff(want, parse(t, sample(t, "talkwalker.xml"))); diff != "" {
		t.Errorf("changes (-want +got):\n%s", diff)
	}
}

func TestParse_Variants(t *testing.T) {
	base, _ := url.Parse("https://blog.example.com/feed/atom")
	tests := []struct {
		name string
		body string
		want []platform.Change
	}{
		{
			name: "RSS 1.0",
			body: `<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel rdf:about="https://x.example/"><title>X</title></channel>
<item rdf:about="https://x.example/a"><title>A post</title><link>https://x.example/a</link><description>Body</description><dc:date>2025-04-01T10:00:00+02:00</dc:date><dc:creator>Ann</dc:creator></item>
</rdf:RDF>`,
			want: []platform.Change{article("https://x.example/a", "https://x.example/a", "A post\nBody", "Ann", "2025-04-01T08:00:00Z")},
		},
		{
			name: "Atom xhtml, relative link, updated only, summary",
			body: `<feed xmlns="http://www.w3.org/2005/Atom"><entry><id>urn:uuid:1</id><title type="text">a &lt; b</title>
<link rel="self" href="/self"/><link rel="alternate" href="/2025/post"/><updated>2025-04-02T00:00:00Z</updated>
<summary type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>Hello &amp; <b>welcome</b></p><p>Two</p></div></summary>
<author><name> Bob </name></author></entry></feed>`,
			want: []platform.Change{article("urn:uuid:1", "https://blog.example.com/2025/post", "a < b\nHello & welcome Two", "Bob", "2025-04-02T00:00:00Z")},
		},
		{
			name: "RSS without guid or date, google q= link, odd dates elsewhere",
			body: `<rss version="2.0"><channel><item><title>T &amp;amp; co</title><link>https://www.google.fr/url?sa=t&amp;q=https%3A%2F%2Fnews.example%2Fa%3Fid%3D1&amp;ved=x</link></item>
<item><title>EST</title><link>https://news.example/b</link><pubDate>Tue, 1 Apr 2025 08:00 EST</pubDate></item>
<item><title>Bad date</title><link>https://news.example/c</link><pubDate>yesterday</pubDate><atom:updated xmlns:atom="http://www.w3.org/2005/Atom">2025-03-01T00:00:00Z</atom:updated></item>
<item><title>Not google</title><link>https://example.com/url?url=https://evil.example/</link><pubDate>Mon, 31 Mar 2025 23:59:59 GMT</pubDate></item>
<item><description>only a body</description></item></channel></rss>`,
			want: []platform.Change{
				article("https://news.example/a?id=1", "https://news.example/a?id=1", "T & co", "", "2025-05-01T20:00:00Z"),
				article("https://news.example/b", "https://news.example/b", "EST", "", "2025-04-01T13:00:00Z"),
				article("https://news.example/c", "https://news.example/c", "Bad date", "", "2025-03-01T00:00:00Z"),
				article("https://example.com/url?url=https://evil.example/", "https://example.com/url?url=https://evil.example/", "Not google", "", "2025-03-31T23:59:59Z"),
				article("sha256:1ee81e4ed351259ed5936b4c67adcedc", "", "only a body", "", "2025-05-01T20:00:00Z"),
			},
		},
		{
			name: "ISO-8859-1",
			body: "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><rss><channel><item><guid>g1</guid><title>Caf\xe9 cr\xe8me</title></item></channel></rss>",
			want: []platform.Change{article("g1", "", "Café crème", "", "2025-05-01T20:00:00Z")},
		},
		{
			name: "windows-1252",
			body: "<?xml version=\"1.0\" encoding=\"windows-1252\"?><rss><channel><item><guid>g2</guid><title>\x93Quoted\x94 \x80 5</title></item></channel></rss>",
			want: []platform.Change{article("g2", "", "“Quoted” € 5", "", "2025-05-01T20:00:00Z")},
		},
		{
			name: "HTML entities and script in description",
			body: `<rss><channel><item><guid>g3</guid><title>Caf&eacute;&nbsp;news</title><description><![CDATA[<script>alert(1)</script><p>Line<br/>two</p><!-- c -->]]></description></item></channel></rss>`,
			want: []platform.Change{article("g3", "", "Café news\nLine two", "", "2025-05-01T20:00:00Z")},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := feeds.Parse([]byte(tt.body), base)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, f.Changes(now)); diff != "" {
				t.Errorf("changes (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParse_NotAFeed(t *testing.T) {
	tests := []struct {
		name, body, field string
	}{
		{"html page", "\n<!DOCTYPE html><html><head><title>Google Alerts</title></head><body><div>Alerts</div></body></html>", "feed_url"},
		{"xhtml", `<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml"><body/></html>`, "feed_url"},
		{"other xml", `<?xml version="1.0"?><sitemap><url/></sitemap>`, "feed_url"},
		{"json", `{"items":[]}`, "feed_url"},
		{"empty", ``, "feed_url"},
		{"unsupported charset", `<?xml version="1.0" encoding="Shift_JIS"?><rss><channel></channel></rss>`, "encoding"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := feeds.Parse([]byte(tt.body), nil)
			e, ok := vigie.AsError(err)
			if !ok || e.Kind != vigie.KindInvalid || e.Field != tt.field {
				t.Fatalf("err = %#v, want Invalid on %s", err, tt.field)
			}
		})
	}
}
