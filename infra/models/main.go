// Command models trains every embedded analysis model from the labeled data
// in shared/data (read in place) and writes internal/analysis/weights.bin
// (`make models`). Training is single threaded with fixed seeds: the same
// data gives the same bytes.
package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"vigie/internal/analysis/dataset"
)

func main() {
	data := flag.String("data", "../shared/data", "folder laid out like shared/data")
	out := flag.String("out", "internal/analysis/weights.bin", "weights file to write")
	flag.Parse()
	start := time.Now()
	b, err := Build(dataset.Dir(*data), func(f string, a ...any) { fmt.Fprintf(os.Stderr, "models: "+f+"\n", a...) })
	if err != nil {
		fmt.Fprintln(os.Stderr, "models:", err)
		os.Exit(1)
	}
	if err := os.WriteFile(*out, b, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "models:", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "models: wrote %s (%d bytes) in %s\n", *out, len(b), time.Since(start).Round(time.Millisecond))
}
