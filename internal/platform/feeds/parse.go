package feeds

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"vigie/internal/platform"
	"vigie/internal/vigie"
)

// Feed formats.
const (
	RSS  = "rss"  // RSS 2.0 (and 0.9x)
	RDF  = "rdf"  // RSS 1.0
	Atom = "atom" // Atom 1.0
)

// Feed is a parsed RSS or Atom document.
type Feed struct {
	Format  string
	Entries []Entry
}

// Entry is one feed entry, its text made plain and its link canonical.
type Entry struct {
	ID        string // Atom id or RSS guid; may be empty
	Title     string
	Link      string // the article's URL, Google redirects unwrapped
	Content   string
	Author    string
	Published time.Time // zero when the feed gave none (or none readable)
	Updated   time.Time
}

// Namespaces the parser reads fields from.
const (
	nsAtom = "http://www.w3.org/2005/Atom"
	nsDC   = "http://purl.org/dc/elements/1.1/"
	nsRSS1 = "http://purl.org/rss/1.0/"
	nsCont = "http://purl.org/rss/1.0/modules/content/"
)

// notFeed is the error for a document that is not a feed.
func notFeed(format string, args ...any) error {
	return vigie.Invalidf("feed_url", "not an RSS or Atom feed: "+format, args...)
}

// Parse reads an RSS 2.0, RSS 1.0 or Atom 1.0 document. Relative links
// are resolved against base when it is given. A document that is not a
// feed (an HTML page, another XML document) is a vigie Invalid error on
// feed_url; an encoding other than UTF-8, ISO-8859-1 or windows-1252 one
// on encoding.
func Parse(body []byte, base *url.URL) (*Feed, error) {
	body = bytes.TrimPrefix(body, []byte("\xef\xbb\xbf"))
	if looksLikeHTML(body) {
		return nil, notFeed("the URL answers an HTML page (for Google Alerts, use the alert's RSS feed link)")
	}
	var badCharset string
	d := xml.NewDecoder(bytes.NewReader(body))
	// Feeds in the wild hold HTML entities and sloppy markup: read them
	// leniently rather than lose the whole feed.
	d.Strict = false
	d.Entity = xml.HTMLEntity
	d.CharsetReader = func(label string, r io.Reader) (io.Reader, error) {
		cr, err := charsetReader(label, r)
		if err != nil {
			badCharset = label
		}
		return cr, err
	}
	f := &Feed{}
	item := ""
	for {
		tok, err := d.Token()
		if err != nil {
			if badCharset != "" {
				return nil, vigie.Invalidf("encoding", "feed encoding %q is not supported (UTF-8, ISO-8859-1 and windows-1252 are)", badCharset)
			}
			if errors.Is(err, io.EOF) {
				if item == "" {
					return nil, notFeed("the document is empty or not XML")
				}
				return f, nil
			}
			if item == "" {
				return nil, notFeed("malformed XML: %v", err)
			}
			return nil, vigie.Invalidf("feed", "malformed feed after %d entries: %v", len(f.Entries), err)
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		if item == "" {
			switch strings.ToLower(se.Name.Local) {
			case "rss":
				f.Format, item = RSS, "item"
			case "rdf":
				f.Format, item = RDF, "item"
			case "feed":
				f.Format, item = Atom, "entry"
			case "html":
				return nil, notFeed("the URL answers an HTML page")
			default:
				return nil, notFeed("the document's root element is <%s>", se.Name.Local)
			}
			continue
		}
		if se.Name.Local != item {
			continue
		}
		var n node
		if err := d.DecodeElement(&n, &se); err != nil {
			if badCharset != "" {
				continue // reported by the next Token
			}
			return nil, vigie.Invalidf(fmt.Sprintf("%s[%d]", item, len(f.Entries)), "malformed feed %s: %v", item, err)
		}
		var e Entry
		if f.Format == Atom {
			e = n.atom(base)
		} else {
			e = n.rss(base)
		}
		f.Entries = append(f.Entries, e)
	}
}

// looksLikeHTML reports whether the document starts as an HTML page: they
// are rarely well-formed XML, so say so before the XML parser fails.
func looksLikeHTML(b []byte) bool {
	b = bytes.TrimLeft(b, " \t\r\n")
	if len(b) > 64 {
		b = b[:64]
	}
	s := strings.ToLower(string(b))
	return strings.HasPrefix(s, "<!doctype html") || strings.HasPrefix(s, "<html")
}

type node struct {
	Fields []field `xml:",any"`
}

type field struct {
	XMLName  xml.Name
	Attrs    []xml.Attr `xml:",any,attr"`
	Text     string     `xml:",chardata"`
	Inner    string     `xml:",innerxml"`
	Children []leaf     `xml:",any"`
}

type leaf struct {
	XMLName xml.Name
	Text    string `xml:",chardata"`
}

func (f *field) attr(name string) string {
	for _, a := range f.Attrs {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// get returns the first field named local in one of spaces ("" matches
// the no-namespace fields), or nil.
func (n *node) get(local string, spaces ...string) *field {
	for i := range n.Fields {
		f := &n.Fields[i]
		if f.XMLName.Local != local {
			continue
		}
		for _, s := range spaces {
			if f.XMLName.Space == s {
				return f
			}
		}
	}
	return nil
}

func (n *node) text(local string, spaces ...string) string {
	if f := n.get(local, spaces...); f != nil {
		return strings.TrimSpace(f.Text)
	}
	return ""
}

func (n *node) rss(base *url.URL) Entry {
	// RSS 2.0 items have no namespace, RSS 1.0 ones the RSS 1.0 one.
	plain := []string{"", nsRSS1}
	e := Entry{
		ID:    n.text("guid", plain...),
		Title: htmlText(n.text("title", plain...)),
	}
	if e.ID == "" {
		e.ID = n.text("about", "http://www.w3.org/1999/02/22-rdf-syntax-ns#")
	}
	e.Link = n.text("link", plain...)
	if e.Link == "" {
		e.Link = n.atomLink()
	}
	if e.Link == "" && strings.HasPrefix(e.ID, "http") {
		if g := n.get("guid", plain...); g == nil || !strings.EqualFold(g.attr("isPermaLink"), "false") {
			e.Link = e.ID // a permalink guid is the item's URL
		}
	}
	e.Link = canonical(e.Link, base)
	content := n.text("description", plain...)
	if content == "" {
		content = n.text("encoded", nsCont)
	}
	e.Content = htmlText(content)
	if a := n.text("creator", nsDC); a != "" {
		e.Author = a
	} else {
		e.Author = rssAuthor(n.text("author", plain...))
	}
	e.Published = parseDate(n.text("pubDate", plain...))
	if e.Published.IsZero() {
		e.Published = parseDate(n.text("date", nsDC))
	}
	e.Updated = parseDate(n.text("updated", nsAtom))
	return e
}

func (n *node) atom(base *url.URL) Entry {
	e := Entry{
		ID:        n.text("id", nsAtom, ""),
		Title:     atomText(n.get("title", nsAtom, "")),
		Link:      canonical(n.atomLink(), base),
		Published: parseDate(n.text("published", nsAtom, "")),
		Updated:   parseDate(n.text("updated", nsAtom, "")),
	}
	c := n.get("content", nsAtom, "")
	if c == nil || strings.TrimSpace(c.Text) == "" && strings.TrimSpace(c.Inner) == "" {
		c = n.get("summary", nsAtom, "")
	}
	e.Content = atomText(c)
	if a := n.get("author", nsAtom, ""); a != nil {
		for _, ch := range a.Children {
			if ch.XMLName.Local == "name" {
				e.Author = strings.TrimSpace(ch.Text)
				break
			}
		}
	}
	return e
}

// atomLink returns the href of the entry's alternate link (rel alternate
// or none), else of its first link that is not self, edit or an enclosure.
func (n *node) atomLink() string {
	var fallback string
	for i := range n.Fields {
		f := &n.Fields[i]
		if f.XMLName.Local != "link" || f.XMLName.Space != nsAtom && f.XMLName.Space != "" {
			continue
		}
		href := strings.TrimSpace(f.attr("href"))
		if href == "" {
			continue
		}
		switch f.attr("rel") {
		case "", "alternate":
			return href
		case "self", "edit", "enclosure", "replies", "hub":
		default:
			if fallback == "" {
				fallback = href
			}
		}
	}
	return fallback
}

// atomText reads an Atom text construct by its type.
func atomText(f *field) string {
	if f == nil {
		return ""
	}
	switch strings.ToLower(f.attr("type")) {
	case "html", "text/html":
		return htmlText(f.Text)
	case "xhtml", "application/xhtml+xml":
		return htmlText(f.Inner)
	default:
		return collapse(f.Text)
	}
}

// rssAuthor reads RSS's "email (Name)" author form.
func rssAuthor(s string) string {
	if i := strings.IndexByte(s, '('); i > 0 && strings.HasSuffix(s, ")") {
		if name := strings.TrimSpace(s[i+1 : len(s)-1]); name != "" {
			return name
		}
	}
	return s
}

// canonical resolves link against base and unwraps Google's redirects.
func canonical(link string, base *url.URL) string {
	link = strings.TrimSpace(link)
	if link == "" {
		return ""
	}
	u, err := url.Parse(link)
	if err != nil {
		return link
	}
	if base != nil && !u.IsAbs() {
		u = base.ResolveReference(u)
	}
	if real := googleTarget(u); real != "" {
		return real
	}
	return u.String()
}

// googleTarget returns where a Google redirect link
// (https://www.google.com/url?...&url=<real>) leads, or "".
func googleTarget(u *url.URL) string {
	host := strings.ToLower(u.Hostname())
	if u.Path != "/url" || !(host == "google.com" || strings.HasPrefix(host, "www.google.") || strings.HasPrefix(host, "google.")) {
		return ""
	}
	q := u.Query()
	for _, k := range []string{"url", "q"} {
		v := q.Get(k)
		if t, err := url.Parse(v); err == nil && (t.Scheme == "http" || t.Scheme == "https") && t.Host != "" {
			return v
		}
	}
	return ""
}

// Changes turns the feed's entries into new article mentions. Entries
// without an id take their link as id, and without a link a digest of
// their text.
func (f *Feed) Changes(now time.Time) []platform.Change {
	cs := make([]platform.Change, 0, len(f.Entries))
	for _, e := range f.Entries {
		cs = append(cs, platform.Change{Op: platform.OpNew, Mention: e.mention(now)})
	}
	return cs
}

func (e Entry) mention(now time.Time) *vigie.Mention {
	text := e.Title
	if e.Content != "" {
		if text != "" {
			text += "\n"
		}
		text += e.Content
	}
	at := e.Published
	if at.IsZero() {
		at = e.Updated
	}
	if at.IsZero() {
		at = now
	}
	return &vigie.Mention{
		Platform:   platform.Web,
		Kind:       vigie.KindArticle,
		ExternalID: e.key(),
		Author:     vigie.Author{Name: e.Author},
		Text:       text,
		URL:        e.Link,
		CreatedAt:  at.UTC(),
	}
}

// key is the entry's stable id.
func (e Entry) key() string {
	switch {
	case e.ID != "":
		return e.ID
	case e.Link != "":
		return e.Link
	}
	sum := sha256.Sum256([]byte(e.Title + "\x00" + e.Content))
	return "sha256:" + hex.EncodeToString(sum[:16])
}
