// Package boltstore is the embedded vigie.Store, kept in one bbolt file: the
// store of `make run` and of tests that need no server. It passes the same
// contract (storetest) as dynamostore, so code that works on it works on
// DynamoDB.
//
// Layout. All data sits under the top-level bucket "store/workspaces", in one
// nested bucket per workspace id, so that every key path starts with the
// workspace and no read can reach another workspace's data:
//
//	store/workspaces/<ws>/workspace            the workspace, JSON
//	store/workspaces/<ws>/keys/<id>            an API key, JSON (hash included)
//	store/workspaces/<ws>/mentions/<id>        a mention, JSON
//	store/workspaces/<ws>/mentions_by_time/<created_at>#<id>   empty; the listing index
//	store/workspaces/<ws>/channels/<id>        a channel, JSON
//	store/workspaces/<ws>/watches/<id>         a watch, JSON
//	store/workspaces/<ws>/sources/<id>         a source's polling state, JSON
//	store/accounts/<platform>\x00<account id>  {"workspace","channel"}: the one
//	                                           index across workspaces, routing
//	                                           app-level webhooks
//
// A channel and its account entry are written and deleted in the same
// transaction.
//
// Other top-level buckets (the local bus keeps its queue under "bus/...")
// belong to their owners; DB gives them the handle.
//
// Expired mentions are invisible to every read, as in DynamoDB before its TTL
// sweeper deletes them; this store never deletes them, and a create over an
// expired one replaces it.
package boltstore

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"go.etcd.io/bbolt"

	"vigie/internal/store"
	"vigie/internal/store/cursor"
	"vigie/internal/vigie"
)

// Options configure a Store.
type Options struct {
	// Clock decides which mentions have expired. Defaults to vigie.SystemClock.
	Clock vigie.Clock
	// CursorKey signs pagination cursors. Required; use 32 random bytes kept
	// across restarts, or cursors handed out before a restart stop working.
	CursorKey []byte
}

// Store is a vigie.Store in a bbolt file.
type Store struct {
	db     *bbolt.DB
	clock  vigie.Clock
	cursor *cursor.Codec
}

var _ vigie.Store = (*Store)(nil)

// openTimeout bounds the wait for the file lock: a second process on the
// same file fails fast instead of hanging.
const openTimeout = 2 * time.Second

var (
	bucketRoot     = []byte("store/workspaces")
	bucketAccounts = []byte("store/accounts")
	keyWorkspace   = []byte("workspace")
	bucketKeys     = []byte("keys")
	bucketMentions = []byte("mentions")
	bucketByTime   = []byte("mentions_by_time")
)

// Open opens the bbolt file at path, creating it and its folder if needed.
// It fails after a few seconds if another process holds the file.
func Open(path string, opts Options) (*Store, error) {
	codec, err := store.NewCodec(opts.CursorKey)
	if err != nil {
		return nil, fmt.Errorf("boltstore: open: %w", err)
	}
	if opts.Clock == nil {
		opts.Clock = vigie.SystemClock{}
	}
	// The runner keeps its file in a folder of its own (.vigie/): make it.
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("boltstore: open %s: %w", path, err)
	}
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: openTimeout})
	if err != nil {
		return nil, fmt.Errorf("boltstore: open %s: %w", path, err)
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		for _, name := range [][]byte{bucketRoot, bucketAccounts} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("boltstore: open %s: %w", path, err)
	}
	return &Store{db: db, clock: opts.Clock, cursor: codec}, nil
}

// DB returns the underlying database, for components that keep their own
// buckets in the same file. They must not touch "store/...".
func (s *Store) DB() *bbolt.DB { return s.db }

// Close closes the file.
func (s *Store) Close() error { return s.db.Close() }

// view runs fn in a read transaction on workspace's bucket, which is nil if
// the workspace holds nothing yet.
func (s *Store) view(ctx context.Context, op, ws string, fn func(b *bbolt.Bucket) error) error {
	return s.viewTx(ctx, op, func(tx *bbolt.Tx) error {
		return fn(tx.Bucket(bucketRoot).Bucket([]byte(ws)))
	})
}

// viewTx runs fn in a read transaction.
func (s *Store) viewTx(ctx context.Context, op string, fn func(tx *bbolt.Tx) error) error {
	if err := store.Canceled(ctx.Err(), op); err != nil {
		return err
	}
	return s.wrap(op, s.db.View(fn))
}

// update runs fn in a write transaction on workspace's bucket, created if
// needed.
func (s *Store) update(ctx context.Context, op, ws string, fn func(b *bbolt.Bucket) error) error {
	return s.updateTx(ctx, op, func(tx *bbolt.Tx) error {
		b, err := wsBucket(tx, ws)
		if err != nil {
			return err
		}
		return fn(b)
	})
}

// updateTx runs fn in a write transaction.
func (s *Store) updateTx(ctx context.Context, op string, fn func(tx *bbolt.Tx) error) error {
	if err := store.Canceled(ctx.Err(), op); err != nil {
		return err
	}
	return s.wrap(op, s.db.Update(fn))
}

// wsBucket returns workspace's bucket in a write transaction, creating it
// if needed.
func wsBucket(tx *bbolt.Tx, ws string) (*bbolt.Bucket, error) {
	return tx.Bucket(bucketRoot).CreateBucketIfNotExists([]byte(ws))
}

// wrap passes vigie errors through and turns anything else into Internal.
func (s *Store) wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	if _, ok := vigie.AsError(err); ok {
		return err
	}
	return store.Internal(op, err)
}

// --- workspaces ---

func workspaceRecord(w *vigie.Workspace) ([]byte, error) {
	rec := *w
	rec.CreatedAt = rec.CreatedAt.UTC()
	return json.Marshal(&rec)
}

// CreateWorkspace implements vigie.WorkspaceStore.
func (s *Store) CreateWorkspace(ctx context.Context, w *vigie.Workspace) error {
	const op = "boltstore.CreateWorkspace"
	if err := store.CheckWorkspace(w); err != nil {
		return err
	}
	return s.update(ctx, op, w.ID, func(b *bbolt.Bucket) error {
		if b.Get(keyWorkspace) != nil {
			return store.Conflict(op, "workspace already exists")
		}
		v, err := workspaceRecord(w)
		if err != nil {
			return err
		}
		return b.Put(keyWorkspace, v)
	})
}

// GetWorkspace implements vigie.WorkspaceStore.
func (s *Store) GetWorkspace(ctx context.Context, id string) (*vigie.Workspace, error) {
	const op = "boltstore.GetWorkspace"
	if err := store.CheckWorkspaceID(id); err != nil {
		return nil, err
	}
	var w *vigie.Workspace
	err := s.view(ctx, op, id, func(b *bbolt.Bucket) error {
		if b == nil || b.Get(keyWorkspace) == nil {
			return store.NotFound(op, "workspace")
		}
		w = new(vigie.Workspace)
		return json.Unmarshal(b.Get(keyWorkspace), w)
	})
	if err != nil {
		return nil, err
	}
	return w, nil
}

// UpdateWorkspace implements vigie.WorkspaceStore.
func (s *Store) UpdateWorkspace(ctx context.Context, w *vigie.Workspace) error {
	const op = "boltstore.UpdateWorkspace"
	if err := store.CheckWorkspace(w); err != nil {
		return err
	}
	err := s.update(ctx, op, w.ID, func(b *bbolt.Bucket) error {
		old := b.Get(keyWorkspace)
		if old == nil {
			return store.NotFound(op, "workspace")
		}
		var stored vigie.Workspace
		if err := json.Unmarshal(old, &stored); err != nil {
			return err
		}
		if stored.Version != w.Version {
			return store.Conflict(op, "workspace was updated concurrently")
		}
		next := *w
		next.Version++
		v, err := workspaceRecord(&next)
		if err != nil {
			return err
		}
		return b.Put(keyWorkspace, v)
	})
	if err != nil {
		return err
	}
	w.Version++
	return nil
}

// ListWorkspaces implements vigie.WorkspaceStore. Buckets are in key
// order, which is id order.
func (s *Store) ListWorkspaces(ctx context.Context) ([]*vigie.Workspace, error) {
	const op = "boltstore.ListWorkspaces"
	wss := []*vigie.Workspace{}
	err := s.viewTx(ctx, op, func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketRoot).ForEachBucket(func(k []byte) error {
			// A bucket may hold a workspace's keys or mentions without the
			// workspace itself: it is not listed.
			v := tx.Bucket(bucketRoot).Bucket(k).Get(keyWorkspace)
			if v == nil {
				return nil
			}
			w := new(vigie.Workspace)
			wss = append(wss, w)
			return json.Unmarshal(v, w)
		})
	})
	if err != nil {
		return nil, err
	}
	return wss, nil
}

// --- API keys ---

// keyRecord is how an API key is kept: its JSON form leaves out the hash,
// which the store must keep.
type keyRecord struct {
	vigie.APIKey
	Hash []byte `json:"hash,omitempty"`
}

func marshalKey(k *vigie.APIKey) ([]byte, error) {
	rec := keyRecord{APIKey: *k, Hash: k.Hash}
	rec.CreatedAt = rec.CreatedAt.UTC()
	rec.RevokedAt = store.UTCPtr(rec.RevokedAt)
	rec.LastUsedAt = store.UTCPtr(rec.LastUsedAt)
	return json.Marshal(&rec)
}

func unmarshalKey(v []byte) (*vigie.APIKey, error) {
	var rec keyRecord
	if err := json.Unmarshal(v, &rec); err != nil {
		return nil, err
	}
	k := rec.APIKey
	k.Hash = rec.Hash
	return &k, nil
}

// CreateAPIKey implements vigie.APIKeyStore.
func (s *Store) CreateAPIKey(ctx context.Context, k *vigie.APIKey) error {
	const op = "boltstore.CreateAPIKey"
	if err := store.CheckAPIKey(k); err != nil {
		return err
	}
	return s.update(ctx, op, k.Workspace, func(b *bbolt.Bucket) error {
		keys, err := b.CreateBucketIfNotExists(bucketKeys)
		if err != nil {
			return err
		}
		if keys.Get([]byte(k.ID)) != nil {
			return store.Conflict(op, "API key already exists")
		}
		v, err := marshalKey(k)
		if err != nil {
			return err
		}
		return keys.Put([]byte(k.ID), v)
	})
}

// GetAPIKey implements vigie.APIKeyStore.
func (s *Store) GetAPIKey(ctx context.Context, workspace, id string) (*vigie.APIKey, error) {
	const op = "boltstore.GetAPIKey"
	if err := store.CheckWorkspaceID(workspace); err != nil {
		return nil, err
	}
	if err := store.CheckID("id", id); err != nil {
		return nil, err
	}
	var k *vigie.APIKey
	err := s.view(ctx, op, workspace, func(b *bbolt.Bucket) error {
		v := get(b, bucketKeys, id)
		if v == nil {
			return store.NotFound(op, "API key")
		}
		var err error
		k, err = unmarshalKey(v)
		return err
	})
	if err != nil {
		return nil, err
	}
	return k, nil
}

// ListAPIKeys implements vigie.APIKeyStore.
func (s *Store) ListAPIKeys(ctx context.Context, workspace string) ([]*vigie.APIKey, error) {
	const op = "boltstore.ListAPIKeys"
	if err := store.CheckWorkspaceID(workspace); err != nil {
		return nil, err
	}
	keys := []*vigie.APIKey{}
	err := s.view(ctx, op, workspace, func(b *bbolt.Bucket) error {
		if b == nil || b.Bucket(bucketKeys) == nil {
			return nil
		}
		return b.Bucket(bucketKeys).ForEach(func(_, v []byte) error {
			k, err := unmarshalKey(v)
			keys = append(keys, k)
			return err
		})
	})
	if err != nil {
		return nil, err
	}
	store.SortAPIKeys(keys)
	return keys, nil
}

// UpdateAPIKey implements vigie.APIKeyStore.
func (s *Store) UpdateAPIKey(ctx context.Context, k *vigie.APIKey) error {
	const op = "boltstore.UpdateAPIKey"
	if err := store.CheckAPIKey(k); err != nil {
		return err
	}
	err := s.update(ctx, op, k.Workspace, func(b *bbolt.Bucket) error {
		old := get(b, bucketKeys, k.ID)
		if old == nil {
			return store.NotFound(op, "API key")
		}
		stored, err := unmarshalKey(old)
		if err != nil {
			return err
		}
		if stored.Version != k.Version {
			return store.Conflict(op, "API key was updated concurrently")
		}
		next := *k
		next.Version++
		v, err := marshalKey(&next)
		if err != nil {
			return err
		}
		return b.Bucket(bucketKeys).Put([]byte(k.ID), v)
	})
	if err != nil {
		return err
	}
	k.Version++
	return nil
}

// --- mentions ---

func marshalMention(m *vigie.Mention) ([]byte, error) {
	rec := *m
	rec.CreatedAt = rec.CreatedAt.UTC()
	rec.ReceivedAt = rec.ReceivedAt.UTC()
	rec.ExpiresAt = store.UTCPtr(rec.ExpiresAt)
	rec.EditedAt = store.UTCPtr(rec.EditedAt)
	rec.RemovedAt = store.UTCPtr(rec.RemovedAt)
	return json.Marshal(&rec)
}

func unmarshalMention(v []byte) (*vigie.Mention, error) {
	m := new(vigie.Mention)
	if err := json.Unmarshal(v, m); err != nil {
		return nil, err
	}
	return m, nil
}

// CreateMentions implements vigie.MentionStore. All mentions are written in
// one transaction: on error, none is.
func (s *Store) CreateMentions(ctx context.Context, workspace string, ms []*vigie.Mention) ([]bool, error) {
	const op = "boltstore.CreateMentions"
	if err := store.CheckMentions(workspace, ms); err != nil {
		return nil, err
	}
	created := make([]bool, len(ms))
	if len(ms) == 0 {
		return created, store.Canceled(ctx.Err(), op)
	}
	first := store.FirstOccurrences(ms)
	now := s.clock.Now()
	err := s.update(ctx, op, workspace, func(b *bbolt.Bucket) error {
		clear(created) // a retried transaction starts over
		mentions, err := b.CreateBucketIfNotExists(bucketMentions)
		if err != nil {
			return err
		}
		byTime, err := b.CreateBucketIfNotExists(bucketByTime)
		if err != nil {
			return err
		}
		for i, m := range ms {
			if !first[i] {
				continue
			}
			if old := mentions.Get([]byte(m.ID)); old != nil {
				prev, err := unmarshalMention(old)
				if err != nil {
					return err
				}
				if !store.Expired(prev, now) {
					continue
				}
				// Absent in all but storage: replace it, index included.
				if err := byTime.Delete([]byte(store.MentionSortKey(prev.CreatedAt, prev.ID))); err != nil {
					return err
				}
			}
			v, err := marshalMention(m)
			if err != nil {
				return err
			}
			if err := mentions.Put([]byte(m.ID), v); err != nil {
				return err
			}
			if err := byTime.Put([]byte(store.MentionSortKey(m.CreatedAt, m.ID)), nil); err != nil {
				return err
			}
			created[i] = true
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return created, nil
}

// ExistingMentions implements vigie.MentionStore.
func (s *Store) ExistingMentions(ctx context.Context, workspace string, ids []string) (map[string]bool, error) {
	const op = "boltstore.ExistingMentions"
	if err := store.CheckIDs(workspace, ids); err != nil {
		return nil, err
	}
	now := s.clock.Now()
	found := make(map[string]bool)
	err := s.view(ctx, op, workspace, func(b *bbolt.Bucket) error {
		for _, id := range ids {
			v := get(b, bucketMentions, id)
			if v == nil {
				continue
			}
			m, err := unmarshalMention(v)
			if err != nil {
				return err
			}
			if !store.Expired(m, now) {
				found[id] = true
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return found, nil
}

// UpdateMention implements vigie.MentionStore. The creation time cannot
// change, so the listing index entry stays as it is.
func (s *Store) UpdateMention(ctx context.Context, m *vigie.Mention) error {
	const op = "boltstore.UpdateMention"
	if err := store.CheckMention(m); err != nil {
		return err
	}
	now := s.clock.Now()
	return s.update(ctx, op, m.Workspace, func(b *bbolt.Bucket) error {
		old := get(b, bucketMentions, m.ID)
		if old == nil {
			return store.NotFound(op, "mention")
		}
		stored, err := unmarshalMention(old)
		if err != nil {
			return err
		}
		if store.Expired(stored, now) {
			return store.NotFound(op, "mention")
		}
		if err := store.CheckMentionUpdate(stored, m); err != nil {
			return err
		}
		v, err := marshalMention(m)
		if err != nil {
			return err
		}
		return b.Bucket(bucketMentions).Put([]byte(m.ID), v)
	})
}

// GetMention implements vigie.MentionStore.
func (s *Store) GetMention(ctx context.Context, workspace, id string) (*vigie.Mention, error) {
	const op = "boltstore.GetMention"
	if err := store.CheckWorkspaceID(workspace); err != nil {
		return nil, err
	}
	if err := store.CheckID("id", id); err != nil {
		return nil, err
	}
	now := s.clock.Now()
	var m *vigie.Mention
	err := s.view(ctx, op, workspace, func(b *bbolt.Bucket) error {
		v := get(b, bucketMentions, id)
		if v == nil {
			return store.NotFound(op, "mention")
		}
		var err error
		if m, err = unmarshalMention(v); err != nil {
			return err
		}
		if store.Expired(m, now) {
			return store.NotFound(op, "mention")
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// ListMentions implements vigie.MentionStore.
func (s *Store) ListMentions(ctx context.Context, workspace string, q vigie.MentionQuery) (*vigie.MentionPage, error) {
	const op = "boltstore.ListMentions"
	l, err := store.PrepareList(s.cursor, workspace, q)
	if err != nil {
		return nil, err
	}
	now := s.clock.Now()
	page := &vigie.MentionPage{Mentions: []*vigie.Mention{}}
	var keys []string
	err = s.view(ctx, op, workspace, func(b *bbolt.Bucket) error {
		if b == nil || b.Bucket(bucketByTime) == nil {
			return nil
		}
		mentions := b.Bucket(bucketMentions)
		c := b.Bucket(bucketByTime).Cursor()
		var k []byte
		if l.Hi == "" {
			k, _ = c.Last()
		} else if k, _ = c.Seek([]byte(l.Hi)); k == nil {
			k, _ = c.Last()
		} else {
			k, _ = c.Prev() // Hi is exclusive
		}
		// One more than the page tells whether there is a next page.
		for ; k != nil && l.InRange(string(k)); k, _ = c.Prev() {
			v := mentions.Get([]byte(store.SortKeyID(string(k))))
			if v == nil {
				return fmt.Errorf("index entry %q has no mention", k)
			}
			m, err := unmarshalMention(v)
			if err != nil {
				return err
			}
			if store.Expired(m, now) {
				continue
			}
			page.Mentions = append(page.Mentions, m)
			keys = append(keys, string(k))
			if len(page.Mentions) > l.Limit {
				break
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(page.Mentions) > l.Limit {
		page.Mentions = page.Mentions[:l.Limit]
		page.Next = l.Next(keys[l.Limit-1])
	}
	return page, nil
}

// get returns the value at sub/key in b, or nil.
func get(b *bbolt.Bucket, sub []byte, key string) []byte {
	if b == nil {
		return nil
	}
	if b = b.Bucket(sub); b == nil {
		return nil
	}
	return b.Get([]byte(key))
}
