// Package testsrv starts the servers that tests need (a DynamoDB-compatible
// server, moto for EventBridge, SQS and SSM) on loopback, on a free port, and
// stops them when the test ends.
//
// A missing binary skips the test, unless VIGIE_REQUIRE_SERVERS=1 (set by
// `make test`), in which case it fails: CI must never pass by skipping.
package testsrv

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// Region and credentials that tests give the AWS SDK when talking to the
// local servers.
const (
	Region    = "us-east-1"
	AccessKey = "test"
	SecretKey = "test"
)

// Dynoxide starts a fresh in-memory dynoxide server and returns its endpoint
// URL. The binary comes from VIGIE_DYNOXIDE, else from the module's .tools
// folder where `make tools` installs it.
func Dynoxide(t testing.TB) string {
	t.Helper()
	bin := os.Getenv("VIGIE_DYNOXIDE")
	if bin == "" {
		bin = filepath.Join(ModuleRoot(t), ".tools", "node_modules", "@dynoxide", "linux-x64", "dynoxide")
	}
	if _, err := os.Stat(bin); err != nil {
		missing(t, "dynoxide", "run `make tools` (installs @dynoxide/linux-x64 with npm into .tools/)")
	}
	port := FreePort(t)
	return start(t, "dynoxide", port, bin, "serve", "--host", "127.0.0.1", "--port", fmt.Sprint(port))
}

var (
	motoOnce sync.Once
	motoURL  string
	motoErr  error
	motoCmd  *exec.Cmd
)

// Moto starts moto_server on loopback and returns its endpoint URL. Moto is
// slow to start, so one server is shared by all tests of a package run; tests
// must use unique resource names. Packages that use it run their tests through Main.
func Moto(t testing.TB) string {
	t.Helper()
	bin, err := exec.LookPath("moto_server")
	if err != nil {
		missing(t, "moto_server", "install moto with its server extra (pip install 'moto[server]')")
	}
	motoOnce.Do(func() {
		port := FreePort(t)
		motoCmd = exec.Command(bin, "-H", "127.0.0.1", "-p", fmt.Sprint(port))
		var out bytes.Buffer
		motoCmd.Stdout, motoCmd.Stderr = &out, &out
		if motoErr = motoCmd.Start(); motoErr != nil {
			return
		}
		motoURL = fmt.Sprintf("http://127.0.0.1:%d", port)
		if motoErr = waitHTTP(motoURL, 60*time.Second); motoErr != nil {
			_ = motoCmd.Process.Kill()
			_ = motoCmd.Wait()
			motoErr = fmt.Errorf("%w; output: %s", motoErr, out.String())
		}
	})
	if motoErr != nil {
		t.Fatalf("start moto_server: %v", motoErr)
	}
	return motoURL
}

// StopMoto stops the shared moto server, if one was started.
func StopMoto() {
	if motoCmd != nil && motoCmd.Process != nil {
		_ = motoCmd.Process.Kill()
		_ = motoCmd.Wait()
	}
}

func start(t testing.TB, name string, port int, bin string, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	if err := waitHTTP(url, 20*time.Second); err != nil {
		t.Fatalf("%s did not start: %v; output: %s", name, err, out.String())
	}
	return url
}

// waitHTTP waits until something answers HTTP at url, whatever the status.
func waitHTTP(url string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	c := &http.Client{Timeout: time.Second}
	for {
		resp, err := c.Get(url)
		if err == nil {
			resp.Body.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// ModuleRoot returns the directory holding go.mod, searching up from the
// test's working directory.
func ModuleRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the working directory")
		}
		dir = parent
	}
}

func missing(t testing.TB, what, how string) {
	t.Helper()
	if os.Getenv("VIGIE_REQUIRE_SERVERS") == "1" {
		t.Fatalf("%s is required (VIGIE_REQUIRE_SERVERS=1) but not found: %s", what, how)
	}
	t.Skipf("%s not found, skipping: %s", what, how)
}

// AWSConfig is the SDK configuration for a local server at endpoint.
func AWSConfig(endpoint string) aws.Config {
	return aws.Config{
		Region:       Region,
		Credentials:  credentials.NewStaticCredentialsProvider(AccessKey, SecretKey, ""),
		BaseEndpoint: aws.String(endpoint),
	}
}

// Main runs a package's tests and then stops the shared moto server:
// `func TestMain(m *testing.M) { testsrv.Main(m) }`.
func Main(m *testing.M) {
	code := m.Run()
	StopMoto()
	os.Exit(code)
}
