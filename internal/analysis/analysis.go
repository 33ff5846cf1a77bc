// Package analysis scores a text inline, in pure Go, with no network and no
// file read at run time: its language (fr, en or other), its sentiment, and
// its toxicity and spam probabilities. The models are linear classifiers
// over hashed word, word-pair and character n-gram features of normalized
// social text, trained by `make models` from shared/data and embedded
// with go:embed. See docs/model-card.md.
package analysis

import (
	_ "embed"
	"slices"
	"strings"
	"sync"
	"unicode"
)

//go:embed weights.bin
var weights []byte

// Toxic and spam labels are given above each model's threshold: 0.5, or,
// for French toxicity, calibrated at training (see docs/model-card.md).
const (
	// LangThreshold is the confidence under which a text's language is
	// "other": the language model only knows French and English.
	LangThreshold = 0.75
)

// Hints are what the caller may know of a text.
type Hints struct {
	Platform string
	Lang     string // declared language ("fr", "en"), trusted when given
}

// Result is a text's analysis.
type Result struct {
	Lang           string  `json:"lang"` // fr, en or other
	LangConfidence float64 `json:"lang_confidence"`
	Sentiment      string  `json:"sentiment"`       // negative, neutral or positive
	SentimentScore float64 `json:"sentiment_score"` // P(positive) − P(negative), in [-1, 1]
	Toxicity       float64 `json:"toxicity"`
	Toxic          bool    `json:"toxic"`
	SpamScore      float64 `json:"spam_score"`
	Spam           bool    `json:"spam"`
}

// Analyzer holds the loaded models. It is safe for concurrent use.
type Analyzer struct {
	lang, sentEN, sentFR, toxEN, toxFR, spam *model
	// spamYouTube scores YouTube comments, whose spam (channel promotion,
	// "check out my video") differs from SMS and tweet spam.
	spamYouTube *model
}

var (
	loadOnce sync.Once
	loaded   *Analyzer
	loadErr  error
)

// Default returns the analyzer of the embedded weights, loaded once.
func Default() (*Analyzer, error) {
	loadOnce.Do(func() { loaded, loadErr = load(weights) })
	return loaded, loadErr
}

func load(data []byte) (*Analyzer, error) {
	ms, err := unmarshalModels(data)
	if err != nil {
		return nil, err
	}
	a := &Analyzer{lang: ms["lang"], sentEN: ms["sentiment_en"], sentFR: ms["sentiment_fr"],
		toxEN: ms["toxic_en"], toxFR: ms["toxic_fr"], spam: ms["spam"], spamYouTube: ms["spam_youtube"]}
	for _, m := range []*model{a.lang, a.sentEN, a.sentFR, a.toxEN, a.toxFR, a.spam, a.spamYouTube} {
		if m == nil {
			return nil, errWeights
		}
	}
	return a, nil
}

var pool = sync.Pool{New: func() any { return &scratch{} }}

type scratch struct {
	toks         []string
	feats, extra []uint32
}

// Analyze scores text. Empty or meaningless input gets a defined answer:
// language other, neutral, not toxic, not spam.
func (a *Analyzer) Analyze(text string, h Hints) Result {
	s := pool.Get().(*scratch)
	defer pool.Put(s)
	s.toks = tokens(text, s.toks[:0])
	r := Result{Lang: "other", Sentiment: "neutral"}
	if !hasWords(s.toks) {
		// Nothing to read a language, a mood or an insult from; but a
		// bare link is what much spam is.
		if slices.Contains(s.toks, tokURL) {
			s.feats = featurize(s.toks, s.feats[:0])
			a.spamScore(text, h, s, &r)
		}
		return r
	}
	s.feats = featurize(s.toks, s.feats[:0])
	var p [8]float64
	a.lang.probs(s.feats, p[:2])
	r.Lang, r.LangConfidence = a.lang.classes[0], p[0]
	if p[1] > p[0] {
		r.Lang, r.LangConfidence = a.lang.classes[1], p[1]
	}
	switch d := strings.ToLower(h.Lang); d {
	case "fr", "en":
		r.Lang, r.LangConfidence = d, 1
	}
	sent, tox := a.sentEN, a.toxEN
	if r.Lang == "fr" {
		sent, tox = a.sentFR, a.toxFR
	}
	if r.LangConfidence < LangThreshold {
		r.Lang = "other"
	}
	sent.probs(s.feats, p[:3])
	best := 0
	for c := 1; c < 3; c++ {
		if p[c] > p[best] {
			best = c
		}
	}
	r.Sentiment, r.SentimentScore = sent.classes[best], p[2]-p[0]
	tox.probs(s.feats, p[:2])
	r.Toxicity, r.Toxic = p[1], p[1] >= float64(tox.threshold)
	a.spamScore(text, h, s, &r)
	return r
}

func (a *Analyzer) spamScore(text string, h Hints, s *scratch, r *Result) {
	m := a.spam
	if strings.EqualFold(h.Platform, "youtube") {
		m = a.spamYouTube
	}
	fs := m.features(text, s.toks, s.feats, s.extra)
	if m.links {
		s.extra = fs
	}
	var p [2]float64
	m.probs(fs, p[:])
	r.SpamScore, r.Spam = p[1], p[1] >= float64(m.threshold)
}

func hasWords(toks []string) bool {
	for _, t := range toks {
		if t[0] != '<' {
			for _, r := range t {
				if unicode.IsLetter(r) {
					return true
				}
			}
		}
	}
	return false
}
