// Command eval measures the embedded analysis models on validation data
// (`make eval`): for each task the metrics its benchmark uses. With -json it
// adds one JSON object per line for scripts.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"

	"github.com/jonreiter/govader"

	"vigie/internal/analysis"
	"vigie/internal/analysis/dataset"
)

type metric struct {
	Task    string  `json:"task"`
	Dataset string  `json:"dataset"`
	Metric  string  `json:"metric"`
	Value   float64 `json:"value"`
}

func main() {
	data := flag.String("data", "../shared/data", "folder laid out like shared/data")
	asJSON := flag.Bool("json", os.Getenv("EVAL_JSON") == "1", "also print one JSON object per metric")
	flag.Parse()
	a, err := analysis.Default()
	if err != nil {
		fmt.Fprintln(os.Stderr, "eval:", err)
		os.Exit(1)
	}
	d := dataset.Dir(*data)
	var out []metric
	add := func(task, ds string, ms map[string]float64, order ...string) {
		for _, k := range order {
			out = append(out, metric{task, ds, k, ms[k]})
		}
	}
	run := func(task, model string, load func() (dataset.Split, error), order ...string) {
		s, err := load()
		if err != nil {
			fmt.Fprintf(os.Stderr, "eval: %s: %v\n", task, err)
			return
		}
		var gold, pred []int
		k := 0
		for _, it := range s.Val {
			p, classes := a.Probs(model, it.Text)
			k = len(classes)
			gold, pred = append(gold, it.Label), append(pred, argmax(p))
		}
		add(task, s.Name, scores(gold, pred, k), order...)
	}
	run("sentiment-en", "sentiment_en", d.SentimentEN, "macro_recall", "macro_f1", "accuracy")
	run("sentiment-fr", "sentiment_fr", d.SentimentFR, "macro_f1", "accuracy")
	// VADER on the same data, so that the gap is visible. (VADER is
	// English-only; its French score shows what an English lexicon gives.)
	vader := govader.NewSentimentIntensityAnalyzer()
	for _, v := range []struct {
		task  string
		load  func() (dataset.Split, error)
		order []string
	}{
		{"sentiment-en-vader", d.SentimentEN, []string{"macro_recall", "macro_f1", "accuracy"}},
		{"sentiment-fr-vader", d.SentimentFR, []string{"macro_f1", "accuracy"}},
	} {
		s, err := v.load()
		if err != nil {
			continue
		}
		var gold, pred []int
		for _, it := range s.Val {
			gold, pred = append(gold, it.Label), append(pred, VaderLabel(vader.PolarityScores(it.Text).Compound))
		}
		add(v.task, s.Name, scores(gold, pred, 3), v.order...)
	}
	// YouTube comments are scored by their own model, as the analysis
	// does given the platform hint; the general model's score on them is
	// shown for comparison.
	run("spam", "spam_youtube", d.YouTubeSpam, "accuracy", "f1_positive")
	run("spam-general", "spam", d.YouTubeSpam, "accuracy", "f1_positive")
	run("spam", "spam", d.SMSSpam, "accuracy", "f1_positive")
	run("toxicity-en", "toxic_en", d.OffensiveEN, "macro_f1")
	run("toxicity-en", "toxic_en", d.Davidson, "macro_f1")
	run("toxicity-fr", "toxic_fr", d.ToxicFR, "macro_f1")
	// Language identification on the French and English validation tweets.
	en, _ := d.SentimentEN()
	fr, _ := d.SentimentFR()
	ok, n := 0, 0
	for _, set := range []struct {
		items []dataset.Item
		want  string
	}{{en.Val, "en"}, {fr.Val, "fr"}} {
		for _, it := range set.items {
			if a.Analyze(it.Text, analysis.Hints{}).Lang == set.want {
				ok++
			}
			n++
		}
	}
	if n > 0 {
		out = append(out, metric{"language", "tweeteval-sentiment+xlmt-sentiment-fr", "accuracy", float64(ok) / float64(n)})
	}

	fmt.Printf("%-20s %-40s %-14s %s\n", "task", "dataset (validation)", "metric", "value")
	for _, m := range out {
		fmt.Printf("%-20s %-40s %-14s %.4f\n", m.Task, m.Dataset, m.Metric, m.Value)
	}
	if *asJSON {
		enc := json.NewEncoder(os.Stdout)
		for _, m := range out {
			_ = enc.Encode(m)
		}
	}
}

// VaderLabel maps VADER's compound score to a class with VADER's own
// cut-offs: ≥ 0.05 positive (2), ≤ −0.05 negative (0), else neutral (1).
func VaderLabel(compound float64) int {
	switch {
	case compound >= 0.05:
		return 2
	case compound <= -0.05:
		return 0
	}
	return 1
}

func argmax(p []float64) int {
	best := 0
	for i := range p {
		if p[i] > p[best] {
			best = i
		}
	}
	return best
}

// scores computes accuracy, macro recall, macro F1 and the F1 of class 1.
func scores(gold, pred []int, k int) map[string]float64 {
	tp, fp, fn := make([]float64, k), make([]float64, k), make([]float64, k)
	correct := 0.0
	for i := range gold {
		if gold[i] == pred[i] {
			correct++
			tp[gold[i]]++
		} else {
			fp[pred[i]]++
			fn[gold[i]]++
		}
	}
	f1 := func(c int) float64 {
		if 2*tp[c]+fp[c]+fn[c] == 0 {
			return 0
		}
		return 2 * tp[c] / (2*tp[c] + fp[c] + fn[c])
	}
	var rec, f float64
	for c := range k {
		if tp[c]+fn[c] > 0 {
			rec += tp[c] / (tp[c] + fn[c])
		}
		f += f1(c)
	}
	return map[string]float64{"accuracy": correct / float64(len(gold)), "macro_recall": rec / float64(k),
		"macro_f1": f / float64(k), "f1_positive": f1(1)}
}
