package secrets

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"vigie/internal/vigie"
)

// File is a Source backed by a JSON object of name → value in a local file,
// for `make run`. It lives outside the repository's tracked files (.vigie/ is
// git-ignored) with mode 0600.
type File struct {
	Path string
}

// Get reads the file at each call so that edits take effect at once.
func (f File) Get(_ context.Context, name string) (Value, error) {
	m, err := f.read()
	if err != nil {
		return "", err
	}
	v, ok := m[name]
	if !ok || v == "" {
		return "", vigie.Errorf(vigie.KindNotFound, "secret %q is not in the secrets file", name)
	}
	return Value(v), nil
}

func (f File) read() (map[string]string, error) {
	data, err := os.ReadFile(f.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]string{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("secrets: read %s: %w", f.Path, err)
	}
	m := map[string]string{}
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("secrets: %s is not a JSON object of strings: %w", f.Path, err)
	}
	return m, nil
}

// Set stores value under name, keeping the other secrets.
func (f File) Set(name, value string) error {
	m, err := f.read()
	if err != nil {
		return err
	}
	m[name] = value
	return f.write(m)
}

// Put implements Writer.
func (f File) Put(_ context.Context, name, value string) error { return f.Set(name, value) }

// Delete implements Writer.
func (f File) Delete(_ context.Context, name string) error {
	m, err := f.read()
	if err != nil {
		return err
	}
	if _, ok := m[name]; !ok {
		return nil
	}
	delete(m, name)
	return f.write(m)
}

// Ensure creates each named secret that the file lacks with a fresh random
// value, and reports which it created. Existing values are kept.
func (f File) Ensure(names ...string) (created []string, err error) {
	m, err := f.read()
	if err != nil {
		return nil, err
	}
	for _, n := range names {
		if m[n] == "" {
			b := make([]byte, 32)
			_, _ = rand.Read(b)
			m[n] = base64.RawURLEncoding.EncodeToString(b)
			created = append(created, n)
		}
	}
	if len(created) == 0 {
		return nil, nil
	}
	return created, f.write(m)
}

// write replaces the file atomically, readable by its owner only.
func (f File) write(m map[string]string) error {
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(f.Path), 0o700); err != nil {
		return fmt.Errorf("secrets: %w", err)
	}
	tmp := f.Path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return fmt.Errorf("secrets: %w", err)
	}
	if err := os.Rename(tmp, f.Path); err != nil {
		return fmt.Errorf("secrets: %w", err)
	}
	return nil
}
