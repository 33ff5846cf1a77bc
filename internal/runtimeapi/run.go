package runtimeapi

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"time"
)

// Process is a bootstrap running against a Server.
type Process struct {
	*Server
	Cmd     *exec.Cmd
	Started time.Time
	exited  chan error
}

// Run starts the bootstrap at path with env added to a minimal Lambda-like
// environment, pointed at a fresh Server. Its output goes to stderr (or the
// given writer in Cmd before start, for callers that build their own).
func Run(path string, env []string, output *os.File) (*Process, error) {
	s, err := Start()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(path)
	cmd.Env = append([]string{
		"AWS_LAMBDA_RUNTIME_API=" + s.Addr(),
		"AWS_LAMBDA_FUNCTION_NAME=test",
		"AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=256",
		"AWS_REGION=us-east-1",
		"PATH=" + os.Getenv("PATH"),
	}, env...)
	cmd.Stdout, cmd.Stderr = output, output
	p := &Process{Server: s, Cmd: cmd, exited: make(chan error, 1)}
	p.Started = time.Now()
	if err := cmd.Start(); err != nil {
		s.Close()
		return nil, err
	}
	go func() { p.exited <- cmd.Wait() }()
	return p, nil
}

// Invoke sends payload and waits for the answer, failing early if the
// process exits.
func (p *Process) Invoke(ctx context.Context, payload []byte) (Result, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type answer struct {
		r   Result
		err error
	}
	ch := make(chan answer, 1)
	go func() {
		r, err := p.Server.Invoke(ctx, payload)
		ch <- answer{r, err}
	}()
	select {
	case a := <-ch:
		return a.r, a.err
	case err := <-p.exited:
		p.exited <- err
		return Result{}, fmt.Errorf("%w (exit: %v)", ErrNoAnswer, err)
	}
}

// Stop kills the process and closes the server.
func (p *Process) Stop() {
	_ = p.Cmd.Process.Kill()
	<-p.exited
	p.exited <- nil
	_ = p.Server.Close()
}
