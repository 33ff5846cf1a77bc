package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// server is a test server the bench started on loopback.
type server struct {
	URL  string
	stop func()
}

// startServer runs bin with args(port) on a free loopback port and waits
// until it answers HTTP. Its output goes to a log file in dir, quoted when
// it fails to start. The process dies with ctx (an interrupted bench leaves
// nothing running) and with Stop.
func startServer(ctx context.Context, dir, name, bin string, args func(port int) []string) (*server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	logPath := filepath.Join(dir, name+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logFile.Close() // the child holds its own descriptor
	cmd := exec.CommandContext(ctx, bin, args(port)...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		_ = cmd.Process.Kill()
		<-exited
	}
	fail := func(err error) (*server, error) {
		stop()
		out, _ := os.ReadFile(logPath)
		if len(out) > 2000 {
			out = out[len(out)-2000:]
		}
		return nil, fmt.Errorf("%s: %w; its output ends with:\n%s", name, err, out)
	}

	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	client := &http.Client{Timeout: time.Second}
	deadline := time.After(60 * time.Second) // moto takes a few seconds
	for {
		// Whatever the status, an answer means it is listening.
		if resp, err := client.Get(url); err == nil {
			resp.Body.Close()
			return &server{URL: url, stop: stop}, nil
		}
		select {
		case err := <-exited:
			exited <- err // for stop
			return fail(fmt.Errorf("exited before answering on %s: %v", url, err))
		case <-deadline:
			return fail(fmt.Errorf("did not answer on %s within 60s", url))
		case <-ctx.Done():
			return fail(ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Stop kills the server and waits for it to exit. It may be called twice.
func (s *server) Stop() { s.stop() }

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// dynoxideBin is VIGIE_DYNOXIDE, else where `make tools` installs it.
func dynoxideBin() (string, error) {
	bin := os.Getenv("VIGIE_DYNOXIDE")
	if bin == "" {
		bin = filepath.Join(".tools", "node_modules", "@dynoxide", "linux-x64", "dynoxide")
	}
	if _, err := os.Stat(bin); err != nil {
		return "", errors.New("dynoxide not found: run `make bench` (it installs it into .tools/) or set VIGIE_DYNOXIDE")
	}
	return bin, nil
}

const (
	awsRegion = "us-east-1"
	awsKey    = "test"
	awsSecret = "test"
)

// awsConfig points an SDK client at a loopback server.
func awsConfig(endpoint string) aws.Config {
	return aws.Config{
		Region:       awsRegion,
		Credentials:  credentials.NewStaticCredentialsProvider(awsKey, awsSecret, ""),
		BaseEndpoint: aws.String(endpoint),
	}
}
