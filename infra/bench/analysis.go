package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/jonreiter/govader"

	"vigie/internal/analysis"
	"vigie/internal/analysis/dataset"
)

// analysisRows measures the embedded analysis on one goroutine (one core)
// over the validation tweets, against VADER on the same texts.
func analysisRows(ctx context.Context, dir string) ([]row, error) {
	d := dataset.Dir("../shared/data")
	en, err := d.SentimentEN()
	if err != nil {
		return nil, fmt.Errorf("analysis bench needs ../shared/data: %w", err)
	}
	fr, err := d.SentimentFR()
	if err != nil {
		return nil, err
	}
	var texts []string
	for _, it := range append(en.Val, fr.Val...) {
		texts = append(texts, it.Text)
	}

	loadStart := time.Now()
	a, err := analysis.Load()
	if err != nil {
		return nil, err
	}
	loadTime := time.Since(loadStart)

	prev := runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(prev)
	rate := func(f func(string)) (perSec, allocs float64) {
		for _, t := range texts[:200] { // warm up
			f(t)
		}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		n := 0
		start := time.Now()
		for time.Since(start) < 2*time.Second {
			for _, t := range texts {
				f(t)
			}
			n += len(texts)
		}
		el := time.Since(start)
		runtime.ReadMemStats(&after)
		return float64(n) / el.Seconds(), float64(after.Mallocs-before.Mallocs) / float64(n)
	}
	ours, ourAllocs := rate(func(t string) { a.Analyze(t, analysis.Hints{}) })
	vader := govader.NewSentimentIntensityAnalyzer()
	theirs, _ := rate(func(t string) { vader.PolarityScores(t) })

	with, without := filepath.Join(dir, "probe", "with"), filepath.Join(dir, "probe", "without")
	if err := build(ctx, "./internal/analysis/testdata/withanalysis", with, lambdaOS, lambdaArch); err != nil {
		return nil, err
	}
	if err := build(ctx, "./internal/analysis/testdata/without", without, lambdaOS, lambdaArch); err != nil {
		return nil, err
	}
	sw, _ := os.Stat(with)
	so, _ := os.Stat(without)
	wst, _ := os.Stat("internal/analysis/weights.bin")
	added := float64(sw.Size()-so.Size()) / 1e6
	return []row{
		{name: "Embedded analysis (one goroutine, GOMAXPROCS=1)"},
		{fmt.Sprintf("  analysis: texts/s, one core (%d validation tweets)", len(texts)), fmt.Sprintf("%.0f", ours), "≥ 50000", check(ours >= 50000)},
		{"  VADER (govader): texts/s, one core", fmt.Sprintf("%.0f", theirs), "", ""},
		{"  ratio analysis / VADER", fmt.Sprintf("%.2f×", ours/theirs), "≥ 1×", check(ours >= theirs)},
		{"  analysis: allocations per text", fmt.Sprintf("%.1f", ourAllocs), "", ""},
		{"  analysis: weights load at start", loadTime.Round(10 * time.Microsecond).String(), "≤ 50 ms", check(loadTime <= 50*time.Millisecond)},
		{"  analysis: embedded weights", fmt.Sprintf("%.1f MB", float64(wst.Size())/1e6), "≤ 20 MB", check(wst.Size() <= 20e6)},
		{"  analysis: binary size added (linux/arm64)", fmt.Sprintf("%.1f MB", added), "", ""},
	}, nil
}
