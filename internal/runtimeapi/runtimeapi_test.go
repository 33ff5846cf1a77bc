package runtimeapi

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

func TestRun_HelloWorld(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "bootstrap")
	build := exec.Command("go", "build", "-tags", "lambda.norpc", "-o", bin, "./testdata/hello")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	p, err := Run(bin, nil, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Stop)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	r, err := p.Invoke(ctx, []byte(`{"name":"vigie"}`))
	if err != nil || r.Error != nil || string(r.Payload) != `"hello vigie"` {
		t.Fatalf("Invoke = %q, %v, %v; want \"hello vigie\"", r.Payload, r.Error, err)
	}
	r, err = p.Invoke(ctx, []byte(`{}`))
	if err != nil || r.Error == nil || r.Error.Message != "no name" {
		t.Fatalf("Invoke(error) = %q, %+v, %v; want function error 'no name'", r.Payload, r.Error, err)
	}
	select {
	case <-p.FirstNext:
	default:
		t.Error("FirstNext was not closed after the function asked for work")
	}
}

func TestRun_ExitWithoutAnswer(t *testing.T) {
	p, err := Run("/bin/true", nil, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Stop)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := p.Invoke(ctx, []byte(`{}`)); err == nil {
		t.Fatal("Invoke on an exited process succeeded")
	}
}
