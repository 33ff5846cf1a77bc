package analysis

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxTextBytes bounds what is analysed: a longer text is cut at this many
// bytes (on a rune boundary). Social posts are far shorter; the bound keeps
// a 1 MB input from costing 1 MB of work.
const MaxTextBytes = 4096

// token kinds beyond plain words.
const (
	tokUser    = "<user>"
	tokURL     = "<url>"
	tokHashtag = "<hashtag>"
	tokNumber  = "<num>"
	tokCaps    = "<caps>"
	tokElong   = "<elong>"
	tokExcl    = "<!>"
	tokQuest   = "<?>"
)

var negators = map[string]bool{
	"not": true, "no": true, "never": true, "nothing": true, "nobody": true, "none": true, "nor": true,
	"cannot": true, "cant": true, "dont": true, "doesnt": true, "didnt": true, "isnt": true, "wasnt": true,
	"arent": true, "wont": true, "wouldnt": true, "shouldnt": true, "couldnt": true, "aint": true,
	"pas": true, "ne": true, "jamais": true, "rien": true, "aucun": true, "aucune": true, "personne": true, "ni": true, "sans": true,
}

var emoticons = map[string]string{
	":)": "<smile>", ":-)": "<smile>", ":d": "<smile>", ":-d": "<smile>", "=)": "<smile>", ";)": "<smile>", ";-)": "<smile>",
	":p": "<smile>", "xd": "<smile>", "<3": "<heart>", ":(": "<sad>", ":-(": "<sad>", ":'(": "<sad>", ":/": "<sad>",
	":-/": "<sad>", ">:(": "<angry>", ":@": "<angry>",
}

// cut returns at most MaxTextBytes of s, ending on a rune boundary, with
// invalid UTF-8 replaced.
func cut(s string) string {
	if len(s) > MaxTextBytes {
		s = s[:MaxTextBytes]
		for len(s) > 0 && !utf8.RuneStart(s[len(s)-1]) {
			s = s[:len(s)-1]
		}
		if len(s) > 0 {
			if r, size := utf8.DecodeLastRuneInString(s); r == utf8.RuneError && size <= 1 {
				s = s[:len(s)-1]
			}
		}
	}
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	return s
}

// fold lower-cases r and strips French accents, so that "élection" and
// "election" are one feature.
func fold(r rune) rune {
	r = unicode.ToLower(r)
	switch r {
	case 'à', 'â', 'ä', 'á', 'ã':
		return 'a'
	case 'é', 'è', 'ê', 'ë':
		return 'e'
	case 'î', 'ï', 'í', 'ì':
		return 'i'
	case 'ô', 'ö', 'ó', 'ò', 'õ':
		return 'o'
	case 'ù', 'û', 'ü', 'ú':
		return 'u'
	case 'ç':
		return 'c'
	case 'ÿ':
		return 'y'
	case 'œ':
		return 'o'
	case '’', '‘', '`':
		return '\''
	}
	return r
}

func isEmoji(r rune) bool {
	return r >= 0x1F300 && r <= 0x1FAFF || r >= 0x2600 && r <= 0x27BF || r >= 0x1F000 && r <= 0x1F2FF
}

// tokens splits social text into normalized tokens: words folded to lower
// case without accents, elongations cut to two letters ("soooo" → "soo" and
// <elong>), @handles → <user>, links → <url>, #tags → the word and
// <hashtag>, numbers → <num>, emoji as themselves, emoticons by mood, French
// elisions split ("l'avion" → "avion"), words in all caps add <caps>, and
// the words after a negator (up to the next punctuation, at most 3) are
// marked with a "neg_" prefix ("pas terrible" → "pas neg_terrible").
func tokens(s string, out []string) []string {
	s = cut(s)
	negLeft := 0
	var word []rune // reused across fields
	for _, field := range strings.Fields(s) {
		low := strings.ToLower(field)
		if mood, ok := emoticons[low]; ok {
			out = append(out, mood)
			continue
		}
		switch {
		case strings.HasPrefix(field, "@") && len(field) > 1:
			out = append(out, tokUser)
			continue
		case isLink(low):
			out = append(out, tokURL)
			continue
		case strings.HasPrefix(field, "#") && len(field) > 1:
			out = append(out, tokHashtag)
			field = field[1:]
		}
		if len(field) > 2 && isAllCaps(field) {
			out = append(out, tokCaps)
		}
		// Split the field into words, emoji and punctuation.
		word = word[:0]
		flush := func() {
			if len(word) == 0 {
				return
			}
			w, elong := squeeze(word)
			word = word[:0]
			if elong {
				out = append(out, tokElong)
			}
			if isNumber(w) {
				out = append(out, tokNumber)
				return
			}
			if negators[w] {
				out = append(out, w)
				negLeft = 3
				return
			}
			if negLeft > 0 {
				negLeft--
				out = append(out, "neg_"+w)
				return
			}
			out = append(out, w)
		}
		for _, r := range field {
			f := fold(r)
			switch {
			case unicode.IsLetter(f) || unicode.IsDigit(f):
				word = append(word, f)
			case f == '\'':
				// French elision: l', d', j', qu', n', s', c', m', t'
				w := string(word)
				switch w {
				case "l", "d", "j", "qu", "n", "s", "c", "m", "t":
					if w == "n" {
						out = append(out, "ne")
						negLeft = 3
					}
					word = word[:0]
				default:
					// English contraction: keep "don't" as "dont".
				}
			case isEmoji(r):
				flush()
				out = append(out, string(r))
			default:
				flush()
				switch f {
				case '!':
					out = append(out, tokExcl)
					negLeft = 0
				case '?':
					out = append(out, tokQuest)
					negLeft = 0
				case '.', ',', ';', ':':
					negLeft = 0
				}
			}
		}
		flush()
	}
	return out
}

// isLink reports whether a lower-cased word is a link: with a scheme,
// www., or a bare domain.
func isLink(low string) bool {
	return strings.HasPrefix(low, "http://") || strings.HasPrefix(low, "https://") || strings.HasPrefix(low, "www.") || isDomain(low)
}

// isDomain reports whether a word is a bare domain such as example.org
// (spam often writes links without a scheme).
func isDomain(s string) bool {
	s = strings.TrimRight(s, ".,!?;:)\ufeff")
	dot := strings.LastIndexByte(s, '.')
	if dot < 2 || dot == len(s)-1 {
		return false
	}
	switch tld := s[dot+1:]; tld {
	case "com", "org", "net", "fr", "io", "co", "ly", "tv", "info", "biz", "me", "uk", "de", "eu":
		return !strings.ContainsAny(s[:dot], " @")
	}
	return false
}

func isAllCaps(s string) bool {
	letters := 0
	for _, r := range s {
		if unicode.IsLower(r) {
			return false
		}
		if unicode.IsUpper(r) {
			letters++
		}
	}
	return letters >= 3
}

func isNumber(s string) bool {
	for _, r := range s {
		if !unicode.IsDigit(r) {
			return false
		}
	}
	return true
}

// squeeze cuts runs of one letter longer than two to two, in place.
func squeeze(w []rune) (string, bool) {
	n := 0
	for _, r := range w {
		if n >= 2 && r == w[n-1] && r == w[n-2] {
			continue
		}
		w[n] = r
		n++
	}
	return string(w[:n]), n < len(w)
}
