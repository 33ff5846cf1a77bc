package main

import (
	"bytes"
	"os"
	"testing"

	"vigie/internal/analysis/dataset"
)

// The committed weights are what `make models` produces, byte for byte.
func TestBuild_ReproducesCommittedWeights(t *testing.T) {
	data := "../../../shared/data"
	if _, err := os.Stat(data); err != nil {
		if os.Getenv("VIGIE_REQUIRE_SERVERS") == "1" {
			t.Fatalf("shared/data is required beside the repository: %v", err)
		}
		t.Skipf("no %s: %v", data, err)
	}
	if testing.Short() {
		t.Skip("trains every model")
	}
	got, err := Build(dataset.Dir(data), t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("../../internal/analysis/weights.bin")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("make models gives %d bytes that differ from the committed weights (%d bytes): run make models and commit", len(got), len(want))
	}
}
