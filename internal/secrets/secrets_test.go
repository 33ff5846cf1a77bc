package secrets

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"vigie/internal/vigie"
)

func TestDerive(t *testing.T) {
	a := WebhookSecret("master", "acme", 1)
	if !bytes.Equal(a, WebhookSecret("master", "acme", 1)) {
		t.Error("WebhookSecret is not deterministic")
	}
	for name, other := range map[string][]byte{
		"other workspace":  WebhookSecret("master", "acme2", 1),
		"other generation": WebhookSecret("master", "acme", 2),
		"other master":     WebhookSecret("master2", "acme", 1),
		"other purpose":    CursorKey("master"),
	} {
		if bytes.Equal(a, other) {
			t.Errorf("%s gives the same key", name)
		}
	}
	if len(a) != 32 {
		t.Errorf("len = %d, want 32", len(a))
	}
}

func TestValue_NeverShown(t *testing.T) {
	v := Value("hunter2")
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "secret", v)
	for _, s := range []string{fmt.Sprint(v), fmt.Sprintf("%v %s", v, v), buf.String()} {
		if strings.Contains(s, "hunter2") {
			t.Errorf("secret shown: %s", s)
		}
	}
	if v.Reveal() != "hunter2" {
		t.Error("Reveal lost the value")
	}
}

func TestFile(t *testing.T) {
	f := File{Path: filepath.Join(t.TempDir(), "sub", "secrets.json")}
	if _, err := f.Get(context.Background(), AdminKey); !vigie.IsKind(err, vigie.KindNotFound) {
		t.Fatalf("Get on missing file = %v, want not found", err)
	}
	created, err := f.Ensure(MasterSecret, AdminKey)
	if err != nil || len(created) != 2 {
		t.Fatalf("Ensure = %v, %v", created, err)
	}
	first, _ := f.Get(context.Background(), AdminKey)
	if len(first) < 40 {
		t.Errorf("generated admin key too short: %d chars", len(first))
	}
	again, err := f.Ensure(MasterSecret, AdminKey)
	if err != nil || len(again) != 0 {
		t.Fatalf("second Ensure = %v, %v; want nothing created", again, err)
	}
	if second, _ := f.Get(context.Background(), AdminKey); second != first {
		t.Error("Ensure replaced an existing secret")
	}
	info, err := os.Stat(f.Path)
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("secrets file mode = %v, %v; want 0600", info.Mode().Perm(), err)
	}
	if err := os.WriteFile(f.Path, []byte("not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Get(context.Background(), AdminKey); err == nil || strings.Contains(err.Error(), "not json") {
		t.Errorf("Get on corrupt file = %v; want an error that does not quote the file", err)
	}
}
