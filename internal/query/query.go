// Package query parses and evaluates watch queries: the boolean search
// expressions with which a workspace says what to listen for.
//
// Grammar (operators in capitals; a space between two parts means AND):
//
//	query    = or
//	or       = and { "OR" and }
//	and      = unary { [ "AND" ] unary }
//	unary    = ( "NOT" | "-" ) unary | primary
//	primary  = "(" or ")" | phrase | hashtag | handle | term
//	phrase   = '"' words '"'          "service client" — the words in this order
//	hashtag  = "#" word               #soldes — only as a hashtag
//	handle   = "@" name               @acme — a mention of the account, or its author
//	term     = word [ "*" ]           vigie — a whole word; vigi* — any word starting so
//
// Matching ignores case and accents ("election" finds "Élection"); a term
// also finds the same word used as a hashtag. Lower-case and, or, not are
// plain words. A parse error names its position (in characters, from 1).
package query

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxLen bounds a query's length in bytes; MaxDepth its nesting.
const (
	MaxLen   = 2048
	MaxDepth = 20
)

// Error is a parse error at a position (1-based, in characters).
type Error struct {
	Pos int
	Msg string
}

func (e *Error) Error() string { return fmt.Sprintf("position %d: %s", e.Pos, e.Msg) }

// Query is a parsed query. It is immutable and safe for concurrent use.
type Query struct {
	src  string
	root node
}

// String returns the source text.
func (q *Query) String() string { return q.src }

type node interface {
	match(d *Doc) bool
	terms(add func(string))
}

type (
	orNode   []node
	andNode  []node
	notNode  struct{ n node }
	wordNode struct {
		w      string
		prefix bool
	}
	phraseNode []string
	tagNode    string
	handleNode string
)

func (n orNode) match(d *Doc) bool {
	for _, c := range n {
		if c.match(d) {
			return true
		}
	}
	return false
}

func (n andNode) match(d *Doc) bool {
	for _, c := range n {
		if !c.match(d) {
			return false
		}
	}
	return true
}

func (n notNode) match(d *Doc) bool { return !n.n.match(d) }

func (n wordNode) match(d *Doc) bool {
	if !n.prefix {
		return d.words[n.w] || d.tags[n.w]
	}
	for _, w := range d.seq {
		if strings.HasPrefix(w, n.w) {
			return true
		}
	}
	for t := range d.tags {
		if strings.HasPrefix(t, n.w) {
			return true
		}
	}
	return false
}

func (n phraseNode) match(d *Doc) bool {
	if len(n) == 0 {
		return false
	}
outer:
	for i := 0; i+len(n) <= len(d.seq); i++ {
		for j, w := range n {
			if d.seq[i+j] != w {
				continue outer
			}
		}
		return true
	}
	return false
}

func (n tagNode) match(d *Doc) bool    { return d.tags[string(n)] }
func (n handleNode) match(d *Doc) bool { return d.handles[string(n)] }

func (n orNode) terms(add func(string)) {
	for _, c := range n {
		c.terms(add)
	}
}
func (n andNode) terms(add func(string)) {
	for _, c := range n {
		c.terms(add)
	}
}
func (n notNode) terms(func(string)) {}
func (n wordNode) terms(add func(string)) {
	if !n.prefix {
		add(n.w)
	}
}
func (n phraseNode) terms(add func(string)) { add(`"` + strings.Join(n, " ") + `"`) }
func (n tagNode) terms(add func(string))    { add("#" + string(n)) }
func (n handleNode) terms(add func(string)) {}

// Terms returns the positive words, phrases and hashtags of the query (not
// those under NOT), for sources that search by keywords, such as Bluesky's
// searchPosts.
func (q *Query) Terms() []string {
	var out []string
	seen := map[string]bool{}
	q.root.terms(func(s string) {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	})
	return out
}

// Match reports whether the query matches d.
func (q *Query) Match(d *Doc) bool { return q.root.match(d) }

// Doc is a text prepared for matching against many queries.
type Doc struct {
	seq     []string
	words   map[string]bool
	tags    map[string]bool
	handles map[string]bool
}

// NewDoc prepares text, written by the author with the given handle
// (which may be empty), for matching.
func NewDoc(text, authorHandle string) *Doc {
	d := &Doc{words: map[string]bool{}, tags: map[string]bool{}, handles: map[string]bool{}}
	if h := normHandle(authorHandle); h != "" {
		d.handles[h] = true
	}
	if len(text) > 64<<10 {
		text = text[:64<<10]
	}
	rs := []rune(text)
	for i := 0; i < len(rs); {
		r := rs[i]
		switch {
		case (r == '#' || r == '@') && i+1 < len(rs) && isNameRune(rs[i+1], r == '@'):
			j := i + 1
			for j < len(rs) && isNameRune(rs[j], r == '@') {
				j++
			}
			name := string(rs[i+1 : j])
			if r == '#' {
				w := foldString(name)
				d.tags[w] = true
				// A hashtag's words also count in phrases ("#service client").
				d.seq = append(d.seq, w)
			} else {
				d.handles[normHandle(name)] = true
			}
			i = j
		case isWordRune(r):
			j := i
			for j < len(rs) && isWordRune(rs[j]) {
				j++
			}
			w := foldString(string(rs[i:j]))
			d.seq = append(d.seq, w)
			d.words[w] = true
			i = j
		default:
			i++
		}
	}
	return d
}

// normHandle lower-cases a handle and drops a leading @ and trailing
// punctuation: "@Acme." and "acme" are one handle.
func normHandle(h string) string {
	h = strings.TrimPrefix(strings.TrimSpace(h), "@")
	h = strings.TrimRight(h, ".-")
	return foldString(h)
}

func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r) }

// isNameRune: hashtags are words; handles also hold _ . - and the @ of a
// Mastodon account on another instance (@user@instance.social).
func isNameRune(r rune, handle bool) bool {
	if isWordRune(r) || r == '_' {
		return true
	}
	return handle && (r == '.' || r == '-' || r == '@')
}

// Parse parses a query.
func Parse(src string) (*Query, error) {
	if strings.TrimSpace(src) == "" {
		return nil, &Error{Pos: 1, Msg: "the query is empty"}
	}
	if len(src) > MaxLen {
		return nil, &Error{Pos: utf8.RuneCountInString(src[:MaxLen]), Msg: fmt.Sprintf("the query is longer than %d bytes", MaxLen)}
	}
	if !utf8.ValidString(src) {
		return nil, &Error{Pos: 1, Msg: "the query is not valid UTF-8"}
	}
	toks, err := lex(src)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	root, err := p.or(0)
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tEOF {
		if t.kind == tClose {
			return nil, &Error{Pos: t.pos, Msg: `")" without a matching "("`}
		}
		return nil, &Error{Pos: t.pos, Msg: fmt.Sprintf("unexpected %s", t)}
	}
	if onlyNegative(root) {
		return nil, &Error{Pos: 1, Msg: "the query only excludes: add something to look for"}
	}
	return &Query{src: src, root: root}, nil
}

// onlyNegative reports whether n can match only by what is absent, which
// would tag nearly every mention.
func onlyNegative(n node) bool {
	switch n := n.(type) {
	case notNode:
		return !onlyNegative(n.n)
	case andNode:
		for _, c := range n {
			if !onlyNegative(c) {
				return false
			}
		}
		return true
	case orNode:
		for _, c := range n {
			if onlyNegative(c) {
				return true
			}
		}
	}
	return false
}

type tokKind int

const (
	tEOF tokKind = iota
	tWord
	tPrefix
	tPhrase
	tTag
	tHandle
	tAnd
	tOr
	tNot
	tOpen
	tClose
)

type token struct {
	kind  tokKind
	pos   int // 1-based character position
	text  string
	words []string // for phrases
}

func (t token) String() string {
	switch t.kind {
	case tEOF:
		return "end of query"
	case tOpen:
		return `"("`
	case tClose:
		return `")"`
	case tAnd, tOr, tNot:
		return t.text
	}
	return fmt.Sprintf("%q", t.text)
}

func lex(src string) ([]token, error) {
	rs := []rune(src)
	var out []token
	for i := 0; i < len(rs); {
		r, pos := rs[i], i+1
		switch {
		case unicode.IsSpace(r):
			i++
		case r == '(':
			out = append(out, token{kind: tOpen, pos: pos})
			i++
		case r == ')':
			out = append(out, token{kind: tClose, pos: pos})
			i++
		case r == '"' || r == '“' || r == '”':
			j := i + 1
			for j < len(rs) && rs[j] != '"' && rs[j] != '”' && rs[j] != '“' {
				j++
			}
			if j == len(rs) {
				return nil, &Error{Pos: pos, Msg: "the phrase opened here is not closed by a quote"}
			}
			words := NewDoc(string(rs[i+1:j]), "").seq
			if len(words) == 0 {
				return nil, &Error{Pos: pos, Msg: "the phrase is empty"}
			}
			out = append(out, token{kind: tPhrase, pos: pos, text: string(rs[i : j+1]), words: words})
			i = j + 1
		case r == '-' && i+1 < len(rs) && !unicode.IsSpace(rs[i+1]) && (i == 0 || unicode.IsSpace(rs[i-1]) || rs[i-1] == '('):
			out = append(out, token{kind: tNot, pos: pos, text: "-"})
			i++
		case r == '#' || r == '@':
			j := i + 1
			for j < len(rs) && isNameRune(rs[j], r == '@') {
				j++
			}
			if j == i+1 {
				return nil, &Error{Pos: pos, Msg: fmt.Sprintf("%q must be followed by a name", string(r))}
			}
			kind, name := tTag, foldString(string(rs[i+1:j]))
			if r == '@' {
				kind, name = tHandle, normHandle(string(rs[i+1:j]))
			}
			out = append(out, token{kind: kind, pos: pos, text: name})
			i = j
		case isWordRune(r):
			j := i
			for j < len(rs) && (isWordRune(rs[j]) || rs[j] == '\'' || rs[j] == '’' || rs[j] == '-' || rs[j] == '_') {
				j++
			}
			raw := string(rs[i:j])
			switch raw {
			case "AND":
				out = append(out, token{kind: tAnd, pos: pos, text: raw})
			case "OR":
				out = append(out, token{kind: tOr, pos: pos, text: raw})
			case "NOT":
				out = append(out, token{kind: tNot, pos: pos, text: raw})
			default:
				words := NewDoc(raw, "").seq
				if j < len(rs) && rs[j] == '*' {
					if len(words) != 1 {
						return nil, &Error{Pos: pos, Msg: "a * ends a single word"}
					}
					out = append(out, token{kind: tPrefix, pos: pos, text: words[0]})
					j++
				} else if len(words) == 1 {
					out = append(out, token{kind: tWord, pos: pos, text: words[0]})
				} else {
					// "t-shirt", "aujourd'hui": a word with inner
					// punctuation is the phrase of its parts.
					out = append(out, token{kind: tPhrase, pos: pos, text: raw, words: words})
				}
			}
			i = j
		default:
			return nil, &Error{Pos: pos, Msg: fmt.Sprintf("unexpected character %q", string(r))}
		}
	}
	return append(out, token{kind: tEOF, pos: len(rs) + 1}), nil
}

type parser struct {
	toks []token
	i    int
}

func (p *parser) peek() token { return p.toks[p.i] }
func (p *parser) next() token { t := p.toks[p.i]; p.i++; return t }

func (p *parser) or(depth int) (node, error) {
	if depth > MaxDepth {
		return nil, &Error{Pos: p.peek().pos, Msg: fmt.Sprintf("the query nests deeper than %d levels", MaxDepth)}
	}
	first, err := p.and(depth)
	if err != nil {
		return nil, err
	}
	ns := orNode{first}
	for p.peek().kind == tOr {
		p.next()
		n, err := p.and(depth)
		if err != nil {
			return nil, err
		}
		ns = append(ns, n)
	}
	if len(ns) == 1 {
		return first, nil
	}
	return ns, nil
}

func (p *parser) and(depth int) (node, error) {
	first, err := p.unary(depth)
	if err != nil {
		return nil, err
	}
	ns := andNode{first}
	for {
		switch p.peek().kind {
		case tAnd:
			p.next()
		case tWord, tPrefix, tPhrase, tTag, tHandle, tNot, tOpen:
		default:
			if len(ns) == 1 {
				return first, nil
			}
			return ns, nil
		}
		n, err := p.unary(depth)
		if err != nil {
			return nil, err
		}
		ns = append(ns, n)
	}
}

func (p *parser) unary(depth int) (node, error) {
	if p.peek().kind == tNot {
		p.next()
		if depth+1 > MaxDepth {
			return nil, &Error{Pos: p.peek().pos, Msg: fmt.Sprintf("the query nests deeper than %d levels", MaxDepth)}
		}
		n, err := p.unary(depth + 1)
		if err != nil {
			return nil, err
		}
		return notNode{n}, nil
	}
	return p.primary(depth)
}

func (p *parser) primary(depth int) (node, error) {
	t := p.next()
	switch t.kind {
	case tWord:
		return wordNode{w: t.text}, nil
	case tPrefix:
		return wordNode{w: t.text, prefix: true}, nil
	case tPhrase:
		return phraseNode(t.words), nil
	case tTag:
		return tagNode(t.text), nil
	case tHandle:
		return handleNode(t.text), nil
	case tOpen:
		n, err := p.or(depth + 1)
		if err != nil {
			return nil, err
		}
		if c := p.next(); c.kind != tClose {
			return nil, &Error{Pos: c.pos, Msg: fmt.Sprintf(`expected ")" to close the "(" at position %d, found %s`, t.pos, c)}
		}
		return n, nil
	}
	return nil, &Error{Pos: t.pos, Msg: fmt.Sprintf("expected a word, phrase, #hashtag, @handle or \"(\", found %s", t)}
}
