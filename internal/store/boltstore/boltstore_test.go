package boltstore_test

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"vigie/internal/store/boltstore"
	"vigie/internal/store/storetest"
	"vigie/internal/vigie"
)

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T, clock vigie.Clock) vigie.Store {
		s, err := boltstore.Open(filepath.Join(t.TempDir(), "vigie.db"), boltstore.Options{Clock: clock, CursorKey: []byte("test cursor key")})
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		t.Cleanup(func() {
			if err := s.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		})
		return s
	})
}

func TestOpen(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name    string
		path    string
		opts    boltstore.Options
		wantErr bool
	}{
		{"no cursor key", filepath.Join(dir, "a.db"), boltstore.Options{}, true},
		{"creates the folder", filepath.Join(dir, "sub", "dir", "b.db"), boltstore.Options{CursorKey: []byte("k")}, false},
		{"folder is a file", filepath.Join(dir, "sub", "dir", "b.db", "c.db"), boltstore.Options{CursorKey: []byte("k")}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := boltstore.Open(tt.path, tt.opts)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Open error = %v, want error %v", err, tt.wantErr)
			}
			if err == nil {
				t.Cleanup(func() { _ = s.Close() })
			}
		})
	}
}

// TestStore_Reopen checks that data and cursors survive a restart, given the
// same cursor key, and that the bus can keep its buckets beside the store's.
func TestStore_Reopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vigie.db")
	opts := boltstore.Options{CursorKey: []byte("kept across restarts")}
	s, err := boltstore.Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	now := time.Now().UTC()
	for i := range 3 {
		m := &vigie.Mention{ID: fmt.Sprintf("m%d", i), Workspace: "acme", CreatedAt: now.Add(time.Duration(i) * time.Second)}
		if _, err := s.CreateMentions(ctx, "acme", []*vigie.Mention{m}); err != nil {
			t.Fatal(err)
		}
	}
	p, err := s.ListMentions(ctx, "acme", vigie.MentionQuery{Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.DB().Update(func(tx *bbolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists([]byte("bus/queue"))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s, err = boltstore.Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rest, err := s.ListMentions(ctx, "acme", vigie.MentionQuery{Limit: 2, Cursor: p.Next})
	if err != nil {
		t.Fatalf("cursor from before the restart: %v", err)
	}
	if len(rest.Mentions) != 1 || rest.Mentions[0].ID != "m0" || rest.Next != "" {
		t.Errorf("after restart, next page = %+v, want just m0", rest)
	}
}
