package boltstore

import (
	"context"
	"encoding/json"

	"go.etcd.io/bbolt"

	"vigie/internal/store"
	"vigie/internal/vigie"
)

var (
	bucketChannels = []byte("channels")
	bucketWatches  = []byte("watches")
	bucketSources  = []byte("sources")
)

// accountKey is a channel's key in store/accounts. Neither part may hold a
// NUL (store.CheckID), so the key is unambiguous.
func accountKey(platform, accountID string) []byte {
	return []byte(platform + "\x00" + accountID)
}

// accountEntry is the value in store/accounts: where the account's channel
// is.
type accountEntry struct {
	Workspace string `json:"workspace"`
	Channel   string `json:"channel"`
}

// putJSON writes v at sub/id in b, creating sub if needed.
func putJSON(b *bbolt.Bucket, sub []byte, id string, v any) error {
	sb, err := b.CreateBucketIfNotExists(sub)
	if err != nil {
		return err
	}
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return sb.Put([]byte(id), data)
}

// listJSON decodes every value of sub in b (nil if there is none) with
// decode.
func listJSON(b *bbolt.Bucket, sub []byte, decode func(v []byte) error) error {
	if b == nil || b.Bucket(sub) == nil {
		return nil
	}
	return b.Bucket(sub).ForEach(func(_, v []byte) error { return decode(v) })
}

// --- channels ---

func channelRecord(c *vigie.Channel) *vigie.Channel {
	rec := *c
	rec.CreatedAt = rec.CreatedAt.UTC()
	return &rec
}

func unmarshalChannel(v []byte) (*vigie.Channel, error) {
	c := new(vigie.Channel)
	if err := json.Unmarshal(v, c); err != nil {
		return nil, err
	}
	return c, nil
}

// CreateChannel implements vigie.ChannelStore: the channel and its account
// entry in one transaction.
func (s *Store) CreateChannel(ctx context.Context, c *vigie.Channel) error {
	const op = "boltstore.CreateChannel"
	if err := store.CheckChannel(c); err != nil {
		return err
	}
	return s.updateTx(ctx, op, func(tx *bbolt.Tx) error {
		b, err := wsBucket(tx, c.Workspace)
		if err != nil {
			return err
		}
		if get(b, bucketChannels, c.ID) != nil {
			return store.Conflict(op, "channel already exists")
		}
		accounts, key := tx.Bucket(bucketAccounts), accountKey(c.Platform, c.AccountID)
		if accounts.Get(key) != nil {
			return store.Conflict(op, "account already connected")
		}
		entry, err := json.Marshal(accountEntry{Workspace: c.Workspace, Channel: c.ID})
		if err != nil {
			return err
		}
		if err := accounts.Put(key, entry); err != nil {
			return err
		}
		return putJSON(b, bucketChannels, c.ID, channelRecord(c))
	})
}

// GetChannel implements vigie.ChannelStore.
func (s *Store) GetChannel(ctx context.Context, workspace, id string) (*vigie.Channel, error) {
	const op = "boltstore.GetChannel"
	if err := store.CheckRef(workspace, id); err != nil {
		return nil, err
	}
	var c *vigie.Channel
	err := s.view(ctx, op, workspace, func(b *bbolt.Bucket) error {
		var err error
		c, err = getChannel(op, b, id)
		return err
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// getChannel reads channel id in workspace bucket b (which may be nil).
func getChannel(op string, b *bbolt.Bucket, id string) (*vigie.Channel, error) {
	v := get(b, bucketChannels, id)
	if v == nil {
		return nil, store.NotFound(op, "channel")
	}
	return unmarshalChannel(v)
}

// ListChannels implements vigie.ChannelStore.
func (s *Store) ListChannels(ctx context.Context, workspace string) ([]*vigie.Channel, error) {
	const op = "boltstore.ListChannels"
	if err := store.CheckWorkspaceID(workspace); err != nil {
		return nil, err
	}
	cs := []*vigie.Channel{}
	err := s.view(ctx, op, workspace, func(b *bbolt.Bucket) error {
		return listJSON(b, bucketChannels, func(v []byte) error {
			c, err := unmarshalChannel(v)
			cs = append(cs, c)
			return err
		})
	})
	if err != nil {
		return nil, err
	}
	store.SortChannels(cs)
	return cs, nil
}

// UpdateChannel implements vigie.ChannelStore. The account cannot change,
// so its entry stays as it is.
func (s *Store) UpdateChannel(ctx context.Context, c *vigie.Channel) error {
	const op = "boltstore.UpdateChannel"
	if err := store.CheckChannel(c); err != nil {
		return err
	}
	err := s.update(ctx, op, c.Workspace, func(b *bbolt.Bucket) error {
		stored, err := getChannel(op, b, c.ID)
		if err != nil {
			return err
		}
		if err := store.CheckChannelUpdate(stored, c); err != nil {
			return err
		}
		if stored.Version != c.Version {
			return store.Conflict(op, "channel was updated concurrently")
		}
		next := channelRecord(c)
		next.Version++
		return putJSON(b, bucketChannels, c.ID, next)
	})
	if err != nil {
		return err
	}
	c.Version++
	return nil
}

// DeleteChannel implements vigie.ChannelStore: the channel and its account
// entry in one transaction.
func (s *Store) DeleteChannel(ctx context.Context, workspace, id string) error {
	const op = "boltstore.DeleteChannel"
	if err := store.CheckRef(workspace, id); err != nil {
		return err
	}
	return s.updateTx(ctx, op, func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketRoot).Bucket([]byte(workspace))
		stored, err := getChannel(op, b, id)
		if err != nil {
			return err
		}
		accounts, key := tx.Bucket(bucketAccounts), accountKey(stored.Platform, stored.AccountID)
		if v := accounts.Get(key); v != nil {
			var e accountEntry
			if err := json.Unmarshal(v, &e); err != nil {
				return err
			}
			// Only this channel's entry: never unroute another's.
			if e.Workspace == workspace && e.Channel == id {
				if err := accounts.Delete(key); err != nil {
					return err
				}
			}
		}
		return b.Bucket(bucketChannels).Delete([]byte(id))
	})
}

// ChannelByAccount implements vigie.ChannelStore.
func (s *Store) ChannelByAccount(ctx context.Context, platform, accountID string) (*vigie.Channel, error) {
	const op = "boltstore.ChannelByAccount"
	if err := store.CheckAccount(platform, accountID); err != nil {
		return nil, err
	}
	var c *vigie.Channel
	err := s.viewTx(ctx, op, func(tx *bbolt.Tx) error {
		v := tx.Bucket(bucketAccounts).Get(accountKey(platform, accountID))
		if v == nil {
			return store.NotFound(op, "channel")
		}
		var e accountEntry
		if err := json.Unmarshal(v, &e); err != nil {
			return err
		}
		var err error
		c, err = getChannel(op, tx.Bucket(bucketRoot).Bucket([]byte(e.Workspace)), e.Channel)
		return err
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// --- watches ---

func watchRecord(w *vigie.Watch) *vigie.Watch {
	rec := *w
	rec.CreatedAt = rec.CreatedAt.UTC()
	return &rec
}

func unmarshalWatch(v []byte) (*vigie.Watch, error) {
	w := new(vigie.Watch)
	if err := json.Unmarshal(v, w); err != nil {
		return nil, err
	}
	return w, nil
}

func getWatch(op string, b *bbolt.Bucket, id string) (*vigie.Watch, error) {
	v := get(b, bucketWatches, id)
	if v == nil {
		return nil, store.NotFound(op, "watch")
	}
	return unmarshalWatch(v)
}

// CreateWatch implements vigie.WatchStore.
func (s *Store) CreateWatch(ctx context.Context, w *vigie.Watch) error {
	const op = "boltstore.CreateWatch"
	if err := store.CheckWatch(w); err != nil {
		return err
	}
	return s.update(ctx, op, w.Workspace, func(b *bbolt.Bucket) error {
		if get(b, bucketWatches, w.ID) != nil {
			return store.Conflict(op, "watch already exists")
		}
		return putJSON(b, bucketWatches, w.ID, watchRecord(w))
	})
}

// GetWatch implements vigie.WatchStore.
func (s *Store) GetWatch(ctx context.Context, workspace, id string) (*vigie.Watch, error) {
	const op = "boltstore.GetWatch"
	if err := store.CheckRef(workspace, id); err != nil {
		return nil, err
	}
	var w *vigie.Watch
	err := s.view(ctx, op, workspace, func(b *bbolt.Bucket) error {
		var err error
		w, err = getWatch(op, b, id)
		return err
	})
	if err != nil {
		return nil, err
	}
	return w, nil
}

// ListWatches implements vigie.WatchStore.
func (s *Store) ListWatches(ctx context.Context, workspace string) ([]*vigie.Watch, error) {
	const op = "boltstore.ListWatches"
	if err := store.CheckWorkspaceID(workspace); err != nil {
		return nil, err
	}
	ws := []*vigie.Watch{}
	err := s.view(ctx, op, workspace, func(b *bbolt.Bucket) error {
		return listJSON(b, bucketWatches, func(v []byte) error {
			w, err := unmarshalWatch(v)
			ws = append(ws, w)
			return err
		})
	})
	if err != nil {
		return nil, err
	}
	store.SortWatches(ws)
	return ws, nil
}

// UpdateWatch implements vigie.WatchStore.
func (s *Store) UpdateWatch(ctx context.Context, w *vigie.Watch) error {
	const op = "boltstore.UpdateWatch"
	if err := store.CheckWatch(w); err != nil {
		return err
	}
	err := s.update(ctx, op, w.Workspace, func(b *bbolt.Bucket) error {
		stored, err := getWatch(op, b, w.ID)
		if err != nil {
			return err
		}
		if stored.Version != w.Version {
			return store.Conflict(op, "watch was updated concurrently")
		}
		next := watchRecord(w)
		next.Version++
		return putJSON(b, bucketWatches, w.ID, next)
	})
	if err != nil {
		return err
	}
	w.Version++
	return nil
}

// DeleteWatch implements vigie.WatchStore.
func (s *Store) DeleteWatch(ctx context.Context, workspace, id string) error {
	const op = "boltstore.DeleteWatch"
	if err := store.CheckRef(workspace, id); err != nil {
		return err
	}
	return s.update(ctx, op, workspace, func(b *bbolt.Bucket) error {
		if get(b, bucketWatches, id) == nil {
			return store.NotFound(op, "watch")
		}
		return b.Bucket(bucketWatches).Delete([]byte(id))
	})
}

// --- sources ---

func sourceRecord(src *vigie.Source) *vigie.Source {
	rec := *src
	rec.NextPollAt = rec.NextPollAt.UTC()
	rec.LastPollAt = rec.LastPollAt.UTC()
	rec.LastOKAt = rec.LastOKAt.UTC()
	return &rec
}

func unmarshalSource(v []byte) (*vigie.Source, error) {
	src := new(vigie.Source)
	if err := json.Unmarshal(v, src); err != nil {
		return nil, err
	}
	return src, nil
}

// GetSource implements vigie.SourceStore.
func (s *Store) GetSource(ctx context.Context, workspace, id string) (*vigie.Source, error) {
	const op = "boltstore.GetSource"
	if err := store.CheckRef(workspace, id); err != nil {
		return nil, err
	}
	var src *vigie.Source
	err := s.view(ctx, op, workspace, func(b *bbolt.Bucket) error {
		v := get(b, bucketSources, id)
		if v == nil {
			return store.NotFound(op, "source")
		}
		var err error
		src, err = unmarshalSource(v)
		return err
	})
	if err != nil {
		return nil, err
	}
	return src, nil
}

// ListSources implements vigie.SourceStore.
func (s *Store) ListSources(ctx context.Context, workspace string) ([]*vigie.Source, error) {
	const op = "boltstore.ListSources"
	if err := store.CheckWorkspaceID(workspace); err != nil {
		return nil, err
	}
	ss := []*vigie.Source{}
	err := s.view(ctx, op, workspace, func(b *bbolt.Bucket) error {
		return listJSON(b, bucketSources, func(v []byte) error {
			src, err := unmarshalSource(v)
			ss = append(ss, src)
			return err
		})
	})
	if err != nil {
		return nil, err
	}
	store.SortSources(ss)
	return ss, nil
}

// PutSource implements vigie.SourceStore.
func (s *Store) PutSource(ctx context.Context, src *vigie.Source) error {
	const op = "boltstore.PutSource"
	if err := store.CheckSource(src); err != nil {
		return err
	}
	err := s.update(ctx, op, src.Workspace, func(b *bbolt.Bucket) error {
		old := get(b, bucketSources, src.ID)
		switch {
		case src.Version == 0 && old != nil:
			return store.Conflict(op, "source already exists")
		case src.Version != 0 && old == nil:
			return store.Conflict(op, "source was deleted concurrently")
		case old != nil:
			stored, err := unmarshalSource(old)
			if err != nil {
				return err
			}
			if stored.Version != src.Version {
				return store.Conflict(op, "source was updated concurrently")
			}
		}
		next := sourceRecord(src)
		next.Version++
		return putJSON(b, bucketSources, src.ID, next)
	})
	if err != nil {
		return err
	}
	src.Version++
	return nil
}

// DeleteSource implements vigie.SourceStore.
func (s *Store) DeleteSource(ctx context.Context, workspace, id string) error {
	const op = "boltstore.DeleteSource"
	if err := store.CheckRef(workspace, id); err != nil {
		return err
	}
	return s.update(ctx, op, workspace, func(b *bbolt.Bucket) error {
		if b.Bucket(bucketSources) == nil {
			return nil
		}
		return b.Bucket(bucketSources).Delete([]byte(id))
	})
}
