package api

import (
	"net/http"
	"time"

	"vigie/internal/vigie"
	"vigie/internal/web"
)

// keyView is an API key as the API shows it: never its hash or secret.
type keyView struct {
	ID        string     `json:"id"`
	Name      string     `json:"name"`
	CreatedAt time.Time  `json:"created_at"`
	RevokedAt *time.Time `json:"revoked_at"` // null while the key is live
}

func viewKey(k *vigie.APIKey) keyView {
	return keyView{ID: k.ID, Name: k.Name, CreatedAt: k.CreatedAt, RevokedAt: k.RevokedAt}
}

// createdKey is a key just created: the only time the full key is shown.
type createdKey struct {
	keyView
	Key string `json:"key"`
}

// newKey stores a new key for ws and returns it with its full key.
func (s *server) newKey(r *http.Request, ws, name string) (createdKey, error) {
	id, full, hash := newKey(ws)
	k := &vigie.APIKey{Workspace: ws, ID: id, Name: name, Hash: hash, CreatedAt: s.Clock.Now()}
	if err := s.Store.CreateAPIKey(r.Context(), k); err != nil {
		return createdKey{}, err
	}
	return createdKey{keyView: viewKey(k), Key: full}, nil
}

func (s *server) listKeys(w http.ResponseWriter, r *http.Request) {
	keys, err := s.Store.ListAPIKeys(r.Context(), keyOf(r).Workspace)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := make([]keyView, len(keys))
	for i, k := range keys {
		out[i] = viewKey(k)
	}
	web.JSON(w, http.StatusOK, map[string]any{"keys": out})
}

func (s *server) createKey(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Name string `json:"name"`
	}
	if !s.decode(w, r, &in) {
		return
	}
	name, err := cleanName("name", in.Name)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	k, err := s.newKey(r, keyOf(r).Workspace, name)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.log(r).InfoContext(r.Context(), "API key created", "new_key_id", k.ID)
	web.JSON(w, http.StatusCreated, k)
}

// revokeKey revokes a key of the caller's workspace. Revoking a revoked key
// is done already (204); a key of another workspace is not found, like any
// unknown id. The last live key cannot be revoked: no route makes a key
// without one, so the workspace would be locked out for good.
func (s *server) revokeKey(w http.ResponseWriter, r *http.Request) {
	ws, id := keyOf(r).Workspace, r.PathValue("id")
	notFound := vigie.Errorf(vigie.KindNotFound, "no such key")
	if !validKeyID(id) {
		s.fail(w, r, notFound)
		return
	}
	for range retries {
		k, err := s.Store.GetAPIKey(r.Context(), ws, id)
		if vigie.IsKind(err, vigie.KindNotFound) {
			err = notFound
		}
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if k.RevokedAt != nil {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		keys, err := s.Store.ListAPIKeys(r.Context(), ws)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if !otherLiveKey(keys, id) {
			s.fail(w, r, &vigie.Error{Kind: vigie.KindConflict, Code: "last_key",
				Message: "this is the workspace's last live key; create another before revoking it"})
			return
		}
		now := s.Clock.Now()
		k.RevokedAt = &now
		err = s.Store.UpdateAPIKey(r.Context(), k)
		if vigie.IsKind(err, vigie.KindConflict) {
			continue // changed since read: look again
		}
		if err != nil {
			s.fail(w, r, err)
			return
		}
		s.log(r).InfoContext(r.Context(), "API key revoked", "revoked_key_id", id)
		w.WriteHeader(http.StatusNoContent)
		return
	}
	s.fail(w, r, &vigie.Error{Kind: vigie.KindConflict, Code: "busy", Message: "the key kept changing; retry"})
}

func otherLiveKey(keys []*vigie.APIKey, id string) bool {
	for _, k := range keys {
		if k.ID != id && k.RevokedAt == nil {
			return true
		}
	}
	return false
}
