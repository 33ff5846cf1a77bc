package platform

import (
	"html"
	"strings"
	"unicode"
	"unicode/utf8"
)

// blocks are the elements that stand apart as paragraphs. Mastodon's
// own statuses use <p> and <br>; remote ones and feeds may also hold
// lists, quotes and code.
var blocks = map[string]bool{
	"p": true, "div": true, "blockquote": true, "pre": true, "ul": true, "ol": true,
	"h1": true, "h2": true, "h3": true, "h4": true, "h5": true, "h6": true, "hr": true, "table": true,
}

// inline tags join the text around them without a space; any other tag
// is at least a word boundary.
var inline = map[string]bool{
	"a": true, "abbr": true, "b": true, "bdi": true, "cite": true, "code": true, "em": true, "font": true,
	"i": true, "mark": true, "q": true, "s": true, "small": true, "span": true, "strong": true, "sub": true,
	"sup": true, "time": true, "u": true,
}

// HTMLText makes HTML plain text, as Mastodon statuses and feed entries
// carry it: tags stripped (script and style with their content), entities
// unescaped, paragraphs separated by a blank line, <br> and list items on
// lines of their own, other whitespace collapsed. Mastodon cuts long link
// texts with <span class="invisible"> parts; keeping their text gives
// back the whole URL.
func HTMLText(s string) string {
	var w textWriter
	pre := 0
	for s != "" {
		i := strings.IndexByte(s, '<')
		if i < 0 {
			i = len(s)
		}
		if i > 0 {
			w.text(html.UnescapeString(s[:i]), pre > 0)
			s = s[i:]
			continue
		}
		if len(s) < 2 || !isTagStart(s[1]) {
			w.text("<", pre > 0) // a lone "<" is text ("a < b")
			s = s[1:]
			continue
		}
		if strings.HasPrefix(s, "<!--") {
			end := strings.Index(s, "-->")
			if end < 0 {
				break
			}
			s = s[end+3:]
			continue
		}
		end := tagEnd(s)
		if end < 0 {
			break // an unclosed tag: drop the rest
		}
		closing := s[1] == '/'
		name := tagName(s[1:end])
		s = s[end+1:]
		switch {
		case name == "br":
			w.lineBreak(1)
		case name == "li":
			w.breaks = max(w.breaks, 1)
		case blocks[name]:
			w.lineBreak(2)
			if name == "pre" {
				if closing {
					pre = max(pre-1, 0)
				} else {
					pre++
				}
			}
		case !closing && (name == "script" || name == "style"):
			if j := indexFold(s, "</"+name); j >= 0 {
				s = s[j:]
			} else {
				s = ""
			}
		case !inline[name]:
			w.wordBreak()
		}
	}
	return strings.TrimRightFunc(w.b.String(), unicode.IsSpace)
}

// textWriter writes text, holding back whitespace and line breaks until
// more text follows, so that none leads or trails and runs collapse.
type textWriter struct {
	b      strings.Builder
	breaks int  // newlines due before the next text
	space  bool // a space due before the next text
}

// lineBreak makes the next text start on a new line: one for <br> (two
// in a row make a blank line), a blank line for a paragraph.
func (w *textWriter) lineBreak(n int) {
	if n == 1 {
		w.breaks++
	} else {
		w.breaks = max(w.breaks, n)
	}
	w.breaks = min(w.breaks, 2)
	w.space = false
}

// wordBreak separates the text around a tag that is neither inline nor a
// line break (a table cell, an image).
func (w *textWriter) wordBreak() {
	if w.breaks == 0 {
		w.space = true
	}
}

func (w *textWriter) flush() {
	if w.b.Len() > 0 {
		if w.breaks > 0 {
			w.b.WriteString(strings.Repeat("\n", w.breaks))
		} else if w.space {
			w.b.WriteByte(' ')
		}
	}
	w.breaks, w.space = 0, false
}

func (w *textWriter) text(t string, pre bool) {
	if pre {
		if t != "" {
			w.flush()
			w.b.WriteString(t)
		}
		return
	}
	for t != "" {
		r, n := utf8.DecodeRuneInString(t)
		if unicode.IsSpace(r) {
			if w.breaks == 0 {
				w.space = true
			}
		} else {
			w.flush()
			w.b.WriteString(t[:n])
		}
		t = t[n:]
	}
}

func isTagStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '/' || c == '!' || c == '?'
}

// tagEnd returns the index of the '>' that closes the tag s starts with,
// skipping quoted attribute values; -1 when there is none.
func tagEnd(s string) int {
	var quote, prev byte // prev: the last byte before i that is not a space
	for i := 1; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '>':
			return i
		case (c == '"' || c == '\'') && prev == '=':
			// A quote opens a value only after '=': elsewhere it is
			// part of the tag, as browsers read it.
			quote = c
		}
		if c != ' ' && c != '\t' && c != '\r' && c != '\n' {
			prev = c
		}
	}
	return -1
}

func tagName(s string) string {
	s = strings.TrimPrefix(s, "/")
	if i := strings.IndexAny(s, " \t\r\n/"); i >= 0 {
		s = s[:i]
	}
	return strings.ToLower(s)
}

// indexFold is strings.Index ignoring ASCII case, on s's own offsets.
func indexFold(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(sub)], sub) {
			return i
		}
	}
	return -1
}
