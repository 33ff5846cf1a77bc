package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
)

// lambdaTarget is what Lambda runs (template.yaml: provided.al2023, arm64).
const lambdaOS, lambdaArch = "linux", "arm64"

// build compiles pkg to out with the flags of `make build`: no cgo, no RPC
// mode, trimmed paths, no symbols, no build id. goos and goarch choose the
// target; the host's when empty.
func build(ctx context.Context, pkg, out, goos, goarch string) error {
	if goos == "" {
		goos, goarch = runtime.GOOS, runtime.GOARCH
	}
	cmd := exec.CommandContext(ctx, "go", "build", "-tags", "lambda.norpc", "-trimpath", "-ldflags=-s -w -buildid=", "-o", out, pkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+goos, "GOARCH="+goarch)
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("build %s for %s/%s: %v\n%s", pkg, goos, goarch, err, b)
	}
	return nil
}

// sizeRows builds every function under functions/ as `make build` does, and
// the hello-world reference, and reports their sizes.
func sizeRows(ctx context.Context, dir string) ([]row, error) {
	fns, err := filepath.Glob("functions/*")
	if err != nil || len(fns) == 0 {
		return nil, fmt.Errorf("no functions/* here: run the bench from the module root (make bench)")
	}
	pkgs := map[string]string{}
	var names []string
	for _, fn := range fns {
		name := filepath.Base(fn)
		pkgs[name] = "./" + filepath.ToSlash(fn)
		names = append(names, name)
	}
	rows := []row{{name: "Bootstrap size (" + lambdaOS + "/" + lambdaArch + ", flags of make build)"}}
	size := func(name, pkg string) (int64, error) {
		progress("building %s for %s/%s…", name, lambdaOS, lambdaArch)
		bin := filepath.Join(dir, lambdaArch, name, "bootstrap")
		if err := build(ctx, pkg, bin, lambdaOS, lambdaArch); err != nil {
			return 0, err
		}
		st, err := os.Stat(bin)
		if err != nil {
			return 0, err
		}
		return st.Size(), nil
	}
	for _, name := range names {
		n, err := size(name, pkgs[name])
		if err != nil {
			return nil, err
		}
		rows = append(rows, row{"  " + name, bytesMB(n), "< 15 MB", check(n < 15e6)})
	}
	n, err := size("hello-world", helloPkg)
	if err != nil {
		return nil, err
	}
	rows = append(rows, row{"  hello-world aws-lambda-go (reference)", bytesMB(n), "", ""})
	return rows, nil
}

// bytesMB reads "12,702,312 B = 12.7 MB" (MB = 10^6 bytes; the value is
// also under 15 MiB whenever it is under 15 MB).
func bytesMB(n int64) string {
	return fmt.Sprintf("%s B = %.1f MB", thousands(n), float64(n)/1e6)
}

func thousands(n int64) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
