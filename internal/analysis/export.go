package analysis

import (
	"math"
	"sort"
)

// Model is a trained classifier, for the trainer and the evaluation.
type Model struct{ m *model }

// Train fits a model (see train) on exs.
func Train(name string, classes []string, exs []Example, o TrainOptions) Model {
	return Model{train(name, classes, exs, o)}
}

// Calibrate sets a binary model's yes-threshold so that at most maxRate of
// ordinary, known-negative texts are flagged, never below 0.5. It returns
// the threshold.
func (m Model) Calibrate(negatives []string, maxRate float64) float64 {
	ps := make([]float64, 0, len(negatives))
	for _, s := range negatives {
		ps = append(ps, m.Predict(s)[1])
	}
	sort.Float64s(ps)
	t := 0.5
	if len(ps) > 0 {
		t = math.Max(t, ps[int(float64(len(ps)-1)*(1-maxRate))])
	}
	m.m.threshold = float32(t)
	return t
}

// Predict returns the class probabilities of text.
func (m Model) Predict(text string) []float64 {
	p := make([]float64, len(m.m.classes))
	toks := tokens(text, nil)
	m.m.probs(m.m.features(text, toks, featurize(toks, nil), nil), p)
	return p
}

// Marshal writes models in the embedded weights format.
func Marshal(ms ...Model) []byte {
	raw := make([]*model, len(ms))
	for i, m := range ms {
		raw[i] = m.m
	}
	return marshalModels(raw)
}

// Probs returns the class probabilities of one embedded model (lang,
// sentiment_en, sentiment_fr, toxic_en, toxic_fr, spam) for text, and the
// model's classes, for evaluation.
func (a *Analyzer) Probs(name, text string) ([]float64, []string) {
	var m *model
	switch name {
	case "lang":
		m = a.lang
	case "sentiment_en":
		m = a.sentEN
	case "sentiment_fr":
		m = a.sentFR
	case "toxic_en":
		m = a.toxEN
	case "toxic_fr":
		m = a.toxFR
	case "spam":
		m = a.spam
	case "spam_youtube":
		m = a.spamYouTube
	default:
		return nil, nil
	}
	p := make([]float64, len(m.classes))
	toks := tokens(text, nil)
	m.probs(m.features(text, toks, featurize(toks, nil), nil), p)
	return p, m.classes
}

// Load parses the embedded weights into a new Analyzer, as Default does
// once; benchmarks time it.
func Load() (*Analyzer, error) { return load(weights) }
