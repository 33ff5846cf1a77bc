package analysis

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"vigie/internal/analysis/dataset"
)

func analyzer(t testing.TB) *Analyzer {
	t.Helper()
	a, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestAnalyze_Examples(t *testing.T) {
	a := analyzer(t)
	tests := []struct {
		text            string
		lang, sentiment string
		toxic, spam     bool
		skipToxic       bool // a known weakness: see the model card
	}{
		{"I love this phone, the camera is amazing!", "en", "positive", false, false, false},
		{"Worst customer service ever, still waiting for my refund. Never again.", "en", "negative", false, false, false},
		{"Franchement j'adore ce produit, livraison rapide et service au top !", "fr", "positive", false, false, false},
		{"Nul, cassé au bout de deux jours, horrible. Très déçu, je déteste.", "fr", "negative", false, false, true},
		{"Check out my channel and subscribe!!! Free gift cards at www.example.com", "en", "", false, true, false},
		{"shut up you stupid bitch", "en", "", true, false, false},
	}
	for _, tt := range tests {
		r := a.Analyze(tt.text, Hints{})
		if r.Lang != tt.lang || (tt.sentiment != "" && r.Sentiment != tt.sentiment) || (!tt.skipToxic && r.Toxic != tt.toxic) || r.Spam != tt.spam {
			t.Errorf("Analyze(%q) = %+v; want lang %s sentiment %s toxic %v spam %v", tt.text, r, tt.lang, tt.sentiment, tt.toxic, tt.spam)
		}
	}
}

func TestTokens(t *testing.T) {
	tests := map[string]string{
		"@marie Soooo GOOD!!! #Love http://x.co": "<user> <elong> soo <caps> good <!> <!> <!> <hashtag> love <url>",
		"c'est pas terrible, vraiment":           "est pas neg_terrible vraiment",
		"L'élection n'était pas prévue":          "election ne neg_etait pas neg_prevue",
		"not bad :) 😀":                           "not neg_bad <smile> 😀",
		"I don't like it":                        "i dont neg_like neg_it",
		"visit Incmedia.org now":                 "visit <url> now",
	}
	for in, want := range tests {
		if got := strings.Join(tokens(in, nil), " "); got != want {
			t.Errorf("tokens(%q) = %q, want %q", in, got, want)
		}
	}
}

// Bad input never panics and gets a defined answer.
func TestAnalyze_BadInput(t *testing.T) {
	a := analyzer(t)
	neutral := Result{Lang: "other", Sentiment: "neutral"}
	for name, text := range map[string]string{
		"empty": "", "whitespace": " \t\n ", "emoji only": "😀😀🔥",
		"invalid utf8": "\xff\xfe\xfd", "handles only": "@a @b",
	} {
		if got := a.Analyze(text, Hints{}); got != neutral {
			t.Errorf("%s: Analyze = %+v, want %+v", name, got, neutral)
		}
	}
	// A bare link has no language, mood or insult to read, but is what
	// much spam is: it is scored for spam only.
	for _, h := range []Hints{{}, {Platform: "youtube"}} {
		got := a.Analyze("http://shhort.com/a?r=G8iX5cTKd\ufeff", h)
		if got.Lang != "other" || got.Sentiment != "neutral" || got.Toxic || got.Toxicity != 0 || !got.Spam {
			t.Errorf("url only, %+v: Analyze = %+v, want neutral and spam", h, got)
		}
	}
	big := strings.Repeat("great product, love it. ", 50_000) // > 1 MB
	r := a.Analyze(big, Hints{})
	if r.Lang != "en" || r.Sentiment != "positive" {
		t.Errorf("1 MB text: %+v", r)
	}
	mixed := a.Analyze("Super produit, I love it, vraiment génial", Hints{})
	if mixed.Sentiment != "positive" || mixed.LangConfidence < 0 || mixed.LangConfidence > 1 {
		t.Errorf("mixed languages: %+v", mixed)
	}
	if r := a.Analyze("bonjour", Hints{Lang: "EN"}); r.Lang != "en" || r.LangConfidence != 1 {
		t.Errorf("declared language ignored: %+v", r)
	}
}

func TestAnalyze_DeterministicAndConcurrent(t *testing.T) {
	a := analyzer(t)
	texts := []string{"I love it", "je déteste ça", "buy followers now", "meh"}
	want := make([]Result, len(texts))
	for i, s := range texts {
		want[i] = a.Analyze(s, Hints{})
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 200 {
				for i, s := range texts {
					if got := a.Analyze(s, Hints{}); got != want[i] {
						t.Errorf("Analyze(%q) = %+v, then %+v", s, want[i], got)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
}

func TestWeights_Corrupt(t *testing.T) {
	for name, data := range map[string][]byte{"empty": nil, "magic only": []byte(magic), "cut": weights[:len(weights)/2]} {
		if _, err := load(data); err == nil {
			t.Errorf("%s: load accepted it", name)
		}
	}
}

func FuzzAnalyze(f *testing.F) {
	for _, s := range []string{"", "I love it", "pas terrible", "\xff", "😀", "@u http://x #t", strings.Repeat("a", 5000),
		"http://shhort.com/a?r=x\ufeff", "www.x.com/y?z a.com b.org", "https://", "http://?/", "go to .com. now"} {
		f.Add(s, false)
		f.Add(s, true)
	}
	a := analyzer(f)
	f.Fuzz(func(t *testing.T, s string, youtube bool) {
		h := Hints{}
		if youtube {
			h.Platform = "youtube"
		}
		r := a.Analyze(s, h)
		if r.SentimentScore < -1 || r.SentimentScore > 1 || r.Toxicity < 0 || r.Toxicity > 1 || r.SpamScore < 0 || r.SpamScore > 1 {
			t.Fatalf("out of range: %+v", r)
		}
		switch r.Lang {
		case "fr", "en", "other":
		default:
			t.Fatalf("lang %q", r.Lang)
		}
		if again := a.Analyze(s, h); again != r {
			t.Fatalf("not deterministic: %+v then %+v", r, again)
		}
	})
}

func BenchmarkAnalyze(b *testing.B) {
	a := analyzer(b)
	text := "Franchement le nouveau modèle est top, mais la livraison a pris 3 semaines :( #déçu @support"
	b.ReportAllocs()
	for b.Loop() {
		a.Analyze(text, Hints{})
	}
}

// The demo's ordinary mentions (events/ingest) are neither toxic nor spam:
// a model that flags everyday posts would make moderation useless.
func TestAnalyze_OrdinaryMentions(t *testing.T) {
	a := analyzer(t)
	data, err := os.ReadFile("../../events/ingest/generic-batch.json")
	if err != nil {
		t.Fatal(err)
	}
	var d struct{ Mentions []struct{ Text string } }
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatal(err)
	}
	for _, m := range d.Mentions {
		if r := a.Analyze(m.Text, Hints{}); r.Toxic || r.Spam {
			t.Errorf("Analyze(%q) = %+v: flags an ordinary post", m.Text, r)
		}
	}
}

// YouTube comments are scored by their own spam model: channel promotion
// is spam, ordinary comments (French ones too) are not, and the hint is
// what selects it.
func TestAnalyze_YouTubeSpam(t *testing.T) {
	a := analyzer(t)
	yt := Hints{Platform: "youtube"}
	for text, want := range map[string]bool{
		"Check out my channel, I make covers! Subscribe please":             true,
		"Hey guys please subscribe to my channel http://www.youtube.com/x":  true,
		"Love this song, brings back memories":                              false,
		"Superbe vidéo, merci !":                                            false,
		"J'adore cette chanson, elle me rappelle mon enfance":               false,
		"Où peut-on acheter ce modèle ? La lampe Lumen est superbe en noir": false,
	} {
		if got := a.Analyze(text, yt); got.Spam != want {
			t.Errorf("Analyze(%q, youtube).Spam = %v (%.3f), want %v", text, got.Spam, got.SpamScore, want)
		}
	}
	text := "Abonnez-vous à ma chaîne pour plus de vidéos !"
	if a.Analyze(text, yt).SpamScore == a.Analyze(text, Hints{}).SpamScore {
		t.Error("the YouTube hint does not change the spam model")
	}
}

// Short French posts are not toxic for being short and French, and
// common French insults are toxic.
func TestAnalyze_FrenchToxicityShortTexts(t *testing.T) {
	a := analyzer(t)
	for text, want := range map[string]bool{
		"La lampe Lumen":                    false,
		"La Lumen #design":                  false,
		"lampe lumen noire":                 false,
		"Bonjour à tous":                    false,
		"Le service client ne répond pas":   false,
		"Produit cassé à la livraison, nul": false,
		"Ta gueule connard":                 true,
		"t'es vraiment un idiot":            true,
		"va te faire foutre":                true,
		"Les migrants dehors !":             true,
	} {
		if r := a.Analyze(text, Hints{Lang: "fr"}); r.Toxic != want {
			t.Errorf("Analyze(%q).Toxic = %v (%.3f), want %v", text, r.Toxic, r.Toxicity, want)
		}
	}
	// Fragments of one to four words of the ordinary French tweets of the
	// validation split (unseen in training): hardly any is toxic.
	s, err := dataset.Dir(filepath.Join("..", "..", "..", "shared", "data")).SentimentFR()
	if err != nil {
		t.Fatal(err)
	}
	n, flagged := 0, 0
	for k := 1; k <= 4; k++ {
		for _, it := range s.Val {
			w := strings.Fields(it.Text)
			for j := 0; j+k <= len(w); j += 3 * k {
				n++
				if a.Analyze(strings.Join(w[j:j+k], " "), Hints{Lang: "fr"}).Toxic {
					flagged++
				}
			}
		}
	}
	if flagged*100 > n {
		t.Errorf("%d of %d short French fragments called toxic, want at most 1%%", flagged, n)
	}
}
