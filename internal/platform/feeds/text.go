package feeds

import (
	"bufio"
	"errors"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"vigie/internal/platform"
)

// htmlText makes HTML plain text on one line: alerts wrap the matched
// terms in <b>, and titles and summaries are read as one run of words.
func htmlText(s string) string { return collapse(platform.HTMLText(s)) }

// collapse trims s and turns each run of white space (non-breaking spaces
// included) into one space.
func collapse(s string) string { return strings.Join(strings.Fields(s), " ") }

// dateLayouts are the date forms feeds use: RFC 822/1123 and their common
// deviations (single-digit days, no weekday, no seconds, two-digit years),
// and RFC 3339 for Atom and dc:date.
var dateLayouts = []string{
	time.RFC1123Z,
	time.RFC1123,
	"Mon, 2 Jan 2006 15:04:05 -0700",
	"Mon, 2 Jan 2006 15:04:05 MST",
	"Mon, 02 Jan 2006 15:04 -0700",
	"Mon, 2 Jan 2006 15:04 MST",
	"Mon, 2 Jan 2006 15:04 -0700",
	"2 Jan 2006 15:04:05 -0700",
	"2 Jan 2006 15:04:05 MST",
	"Mon, 2 Jan 06 15:04:05 -0700",
	"Mon, 2 Jan 06 15:04:05 MST",
	"Mon, 2 January 2006 15:04:05 -0700",
	"Monday, 2 Jan 2006 15:04:05 -0700",
	"Monday, 02-Jan-06 15:04:05 MST",
	"Mon, 2 Jan 2006 15:04:05 Z",
	"Mon Jan 2 15:04:05 MST 2006",
	time.RFC3339Nano,
	"2006-01-02T15:04:05-0700",
	"2006-01-02T15:04:05",
	"2006-01-02 15:04:05 -0700",
	"2006-01-02 15:04:05",
	"2006-01-02",
}

// zones are the abbreviations RFC 822 names; time.Parse would give them
// a zero offset.
var zones = map[string]int{
	"UT": 0, "UTC": 0, "GMT": 0, "Z": 0,
	"EST": -5, "EDT": -4, "CST": -6, "CDT": -5, "MST": -7, "MDT": -6, "PST": -8, "PDT": -7,
	"CET": 1, "CEST": 2, "BST": 1,
}

// parseDate reads a feed date; the zero time when it cannot.
func parseDate(s string) time.Time {
	s = collapse(s)
	if s == "" {
		return time.Time{}
	}
	for _, layout := range dateLayouts {
		t, err := time.Parse(layout, s)
		if err != nil {
			continue
		}
		if name, off := t.Zone(); off == 0 {
			if h, ok := zones[strings.ToUpper(name)]; ok && h != 0 {
				t = time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.FixedZone(name, h*3600))
			}
		}
		return t.UTC()
	}
	return time.Time{}
}

var errCharset = errors.New("unsupported charset")

// charsetReader decodes the single-byte encodings feeds still declare;
// encoding/xml reads UTF-8 itself.
func charsetReader(label string, r io.Reader) (io.Reader, error) {
	switch strings.ToLower(strings.TrimSpace(label)) {
	case "utf-8", "utf8", "us-ascii", "ascii":
		return r, nil
	case "iso-8859-1", "iso8859-1", "latin1", "latin-1", "l1", "iso_8859-1":
		return &byteDecoder{r: bufio.NewReader(r), table: nil}, nil
	case "windows-1252", "cp1252", "x-cp1252":
		return &byteDecoder{r: bufio.NewReader(r), table: &cp1252}, nil
	}
	return nil, errCharset
}

// byteDecoder turns a single-byte encoding into UTF-8: bytes map to the
// same code point (ISO-8859-1), except 0x80–0x9F with a table.
type byteDecoder struct {
	r     *bufio.Reader
	table *[32]rune
	buf   []byte
}

func (d *byteDecoder) Read(p []byte) (int, error) {
	for len(d.buf) < len(p) {
		c, err := d.r.ReadByte()
		if err != nil {
			if len(d.buf) == 0 {
				return 0, err
			}
			break
		}
		r := rune(c)
		if d.table != nil && c >= 0x80 && c < 0xA0 {
			r = d.table[c-0x80]
		}
		d.buf = utf8.AppendRune(d.buf, r)
	}
	n := copy(p, d.buf)
	d.buf = d.buf[n:]
	return n, nil
}

// cp1252 is windows-1252's 0x80–0x9F; undefined bytes map to U+FFFD.
var cp1252 = [32]rune{
	'€', '\uFFFD', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\uFFFD', 'Ž', '\uFFFD',
	'\uFFFD', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\uFFFD', 'ž', 'Ÿ',
}
