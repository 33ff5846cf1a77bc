package query

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestMatch(t *testing.T) {
	for _, tc := range []struct {
		name, query, text, author string
		want                      bool
	}{
		{"term", "vigie", "J'adore Vigie !", "", true},
		{"whole words only", "vigie", "vigies et vigilance", "", false},
		{"accents and case", "election", "Les ÉLECTIONS, non: l'Élection", "", true},
		{"accent in the query", "élection", "election day", "", true},
		{"decomposed accent", "cafe", "un cafe\u0301 noir", "", true},
		{"implicit and", "lumen lampe", "la lampe Lumen", "", true},
		{"implicit and misses", "lumen lampe", "la lampe", "", false},
		{"or", "lumen OR lumière", "quelle lumière", "", true},
		{"not", "lumen NOT job", "Lumen recrute: job", "", false},
		{"minus", "lumen -job", "Lumen, super", "", true},
		{"parentheses", "(lumen OR lumière) AND (lampe OR applique)", "une applique Lumière", "", true},
		{"precedence: AND before OR", "a OR b c", "a", "", true},
		{"precedence: AND before OR, miss", "a OR b c", "b", "", false},
		{"phrase", `"service client"`, "Le SERVICE client est nul", "", true},
		{"phrase order", `"service client"`, "client du service", "", false},
		{"phrase across a hashtag", `"service client"`, "le service #client", "", true},
		{"hashtag", "#soldes", "C'est les #Soldes", "", true},
		{"hashtag is not a word", "#soldes", "les soldes", "", false},
		{"term finds hashtag", "soldes", "les #soldes", "", true},
		{"hashtag with accent", "#éte", "#ete2026 non, #ETÉ oui", "", true},
		{"handle in text", "@acme", "merci @ACME.", "", true},
		{"handle as author", "@acme", "merci", "@Acme", true},
		{"other handle", "@acme", "merci @acmeshop", "", false},
		{"mastodon handle", "@lumen@mastodon.social", "cc @lumen@mastodon.social", "", true},
		{"bluesky handle", "@lumen.bsky.social", "cc @lumen.bsky.social", "", true},
		{"prefix", "vigi*", "la vigilance", "", true},
		{"prefix miss", "vigi*", "la vie", "", false},
		{"word with apostrophe", "aujourd'hui", "Aujourd’hui il pleut", "", true},
		{"word with dash", "t-shirt", "un t shirt", "", true},
		{"lower-case or is a word", "lumen or", "lumen", "", false},
		{"nested not", "NOT NOT lumen", "lumen", "", true},
		{"curly quotes", "“service client”", "service client", "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q, err := Parse(tc.query)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tc.query, err)
			}
			if got := q.Match(NewDoc(tc.text, tc.author)); got != tc.want {
				t.Errorf("%q on %q = %v, want %v", tc.query, tc.text, got, tc.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		query string
		pos   int
		msg   string
	}{
		{"", 1, "empty"},
		{"   ", 1, "empty"},
		{"(lumen OR lampe", 16, `expected ")"`},
		{"lumen)", 6, `without a matching "("`},
		{`"service client`, 1, "not closed"},
		{`lumen AND`, 10, "expected a word"},
		{`OR lumen`, 1, "expected a word"},
		{`lumen OR OR lampe`, 10, "expected a word"},
		{`lumen # x`, 7, "followed by a name"},
		{`lumen @`, 7, "followed by a name"},
		{`""`, 1, "phrase is empty"},
		{`lumen $`, 7, "unexpected character"},
		{`NOT lumen`, 1, "only excludes"},
		{`-lumen -lampe`, 1, "only excludes"},
		{`élan )`, 6, "without a matching"},
		{strings.Repeat("(", 30) + "a" + strings.Repeat(")", 30), 22, "deeper"},
		{strings.Repeat("a ", MaxLen), MaxLen, "longer"},
		{"a \xff", 1, "UTF-8"},
	} {
		t.Run(tc.query, func(t *testing.T) {
			_, err := Parse(tc.query)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Parse(%q) = %v, want *Error", tc.query, err)
			}
			if e.Pos != tc.pos || !strings.Contains(e.Msg, tc.msg) {
				t.Errorf("Parse(%q) = %q at %d, want %q at %d", tc.query, e.Msg, e.Pos, tc.msg, tc.pos)
			}
			if !strings.HasPrefix(e.Error(), "position ") {
				t.Errorf("Error() = %q does not name the position", e.Error())
			}
		})
	}
}

func TestTerms(t *testing.T) {
	q, err := Parse(`(Lumen OR "lampe lumen" OR #Lumen) NOT job @acme lum*`)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"lumen", `"lampe lumen"`, "#lumen"}, q.Terms()); diff != "" {
		t.Errorf("Terms (-want +got):\n%s", diff)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{`(a OR "b c") NOT #d @e f*`, `-x y`, `"`, `((`, `a AND AND`, "élection -job"} {
		f.Add(s, "texte #d @e")
	}
	f.Fuzz(func(t *testing.T, src, text string) {
		q, err := Parse(src)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Pos < 1 || e.Pos > len([]rune(src))+1 {
				t.Fatalf("Parse(%q): error %v has no valid position", src, err)
			}
			return
		}
		_ = q.Match(NewDoc(text, ""))
		_ = q.Terms()
	})
}
