// Command local runs the whole of Vigie on this machine (`make run`): the
// HTTP API on 127.0.0.1:8080, the local bus, the schedules and a bbolt store
// under .vigie/. Ctrl-C stops it cleanly.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"vigie/internal/config"
	"vigie/internal/localrun"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "vigie:", err)
		os.Exit(1)
	}
}

func run() error {
	cfg, err := config.Load(os.Getenv)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	r, err := localrun.Start(ctx, cfg, localrun.Options{Out: os.Stdout})
	if err != nil {
		return err
	}
	<-ctx.Done()
	fmt.Fprintln(os.Stdout, "stopping: finishing requests and deliveries in flight…")
	return r.Close()
}
