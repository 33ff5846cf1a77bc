package analysis

import (
	"math"
	"math/rand/v2"
	"slices"
)

// Example is one labeled text for training.
type Example struct {
	Text  string
	Label int // index into the model's classes
}

// TrainOptions tune training. The zero value gives the defaults.
type TrainOptions struct {
	Epochs   int     // default 6
	Rate     float64 // AdaGrad learning rate, default 0.3
	L2       float64 // per-step L2 decay of touched weights, default 1e-6
	Balanced bool    // weight classes inversely to their frequency (for macro metrics)
	Links    bool    // add link features (see linkFeatures)
	// Average trains this many models, from seeds Seed, Seed+1…, and
	// averages their weights: one model of the same size, with less of
	// the variance a small dataset's shuffle order gives (default 1).
	Average int
	Seed    uint64
}

// train fits a multinomial logistic regression with AdaGrad, single
// threaded with a seeded shuffle, so the same data gives the same bytes.
func train(name string, classes []string, exs []Example, o TrainOptions) *model {
	if o.Epochs == 0 {
		o.Epochs = 6
	}
	if o.Rate == 0 {
		o.Rate = 0.3
	}
	if o.L2 == 0 {
		o.L2 = 1e-6
	}
	k := len(classes)
	feats := make([][]uint32, len(exs))
	var toks []string
	for i, e := range exs {
		toks = tokens(e.Text, toks[:0])
		feats[i] = featurize(toks, nil)
		if o.Links && slices.Contains(toks, tokURL) {
			feats[i] = linkFeatures(e.Text, feats[i])
		}
	}
	classW := make([]float64, k)
	for c := range classW {
		classW[c] = 1
	}
	if o.Balanced {
		count := make([]float64, k)
		for _, e := range exs {
			count[e.Label]++
		}
		for c := range classW {
			if count[c] > 0 {
				classW[c] = float64(len(exs)) / (float64(k) * count[c])
			}
		}
	}
	w := make([]float64, dim*k)
	bias := make([]float64, k)
	runs := max(o.Average, 1)
	for r := range runs {
		rw, rb := fit(feats, exs, classW, k, o, o.Seed+uint64(r))
		for i, x := range rw {
			w[i] += x / float64(runs)
		}
		for i, x := range rb {
			bias[i] += x / float64(runs)
		}
	}
	m := quantize(name, classes, w, bias)
	m.links = o.Links
	return m
}

func quantize(name string, classes []string, w, bias []float64) *model {
	maxAbs := 0.0
	for _, x := range w {
		maxAbs = math.Max(maxAbs, math.Abs(x))
	}
	scale := maxAbs / 127
	if scale == 0 {
		scale = 1
	}
	m := &model{name: name, classes: classes, scale: float32(scale), threshold: 0.5, q: make([]int8, len(w))}
	for i, x := range w {
		m.q[i] = int8(math.Round(x / scale))
	}
	for _, b := range bias {
		m.bias = append(m.bias, float32(b))
	}
	return m
}

// fit runs AdaGrad over the featurized examples from one seed's shuffle.
func fit(feats [][]uint32, exs []Example, classW []float64, k int, o TrainOptions, seed uint64) (w, bias []float64) {
	w = make([]float64, dim*k)
	g2 := make([]float64, dim*k)
	bias = make([]float64, k)
	bg2 := make([]float64, k)
	order := make([]int, len(exs))
	for i := range order {
		order[i] = i
	}
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	p := make([]float64, k)
	for range o.Epochs {
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		for _, i := range order {
			fs := feats[i]
			norm := 1 / math.Sqrt(float64(len(fs)))
			maxS := math.Inf(-1)
			for c := range k {
				s := bias[c]
				for _, f := range fs {
					s += w[int(f)*k+c] * norm
				}
				p[c] = s
				maxS = math.Max(maxS, s)
			}
			sum := 0.0
			for c := range k {
				p[c] = math.Exp(p[c] - maxS)
				sum += p[c]
			}
			for c := range k {
				grad := p[c] / sum
				if c == exs[i].Label {
					grad--
				}
				grad *= classW[exs[i].Label]
				bg2[c] += grad * grad
				bias[c] -= o.Rate * grad / (math.Sqrt(bg2[c]) + 1e-8)
				for _, f := range fs {
					j := int(f)*k + c
					gj := grad*norm + o.L2*w[j]
					g2[j] += gj * gj
					w[j] -= o.Rate * gj / (math.Sqrt(g2[j]) + 1e-8)
				}
			}
		}
	}
	return w, bias
}
