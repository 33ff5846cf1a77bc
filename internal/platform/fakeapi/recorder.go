package fakeapi

import (
	"fmt"
	"slices"
	"sync"
)

// Recorder is a T that records failures instead of failing: for programs
// that run fakes outside a test (benchmarks) and for tests of the fakes
// themselves. Close runs the cleanups, last registered first.
type Recorder struct {
	mu    sync.Mutex
	errs  []string
	clean []func()
}

// Helper does nothing.
func (r *Recorder) Helper() {}

// Errorf records a failure.
func (r *Recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

// Cleanup registers f to run at Close.
func (r *Recorder) Cleanup(f func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.clean = append(r.clean, f)
}

// Errors returns the failures recorded so far.
func (r *Recorder) Errors() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.errs)
}

// Close runs the registered cleanups.
func (r *Recorder) Close() {
	r.mu.Lock()
	clean := r.clean
	r.clean = nil
	r.mu.Unlock()
	for i := len(clean) - 1; i >= 0; i-- {
		clean[i]()
	}
}
