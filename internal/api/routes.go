package api

import (
	"net/http"
	"net/url"
	"strconv"
	"time"

	"vigie/internal/vigie"
	"vigie/internal/web"
)

func (s *server) createWorkspace(w http.ResponseWriter, r *http.Request) {
	var in struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	}
	if !s.decode(w, r, &in) {
		return
	}
	if in.ID == "" {
		web.Error(w, r, s.Logger, &vigie.Error{Kind: vigie.KindInvalid, Code: "field_missing", Field: "id", Message: "id is required"})
		return
	}
	if !vigie.ValidID(in.ID) {
		web.Error(w, r, s.Logger, vigie.Invalidf("id", "id must be 2 to 63 lower-case letters, digits or '-', starting with a letter or digit"))
		return
	}
	if err := checkName("name", in.Name); err != nil {
		web.Error(w, r, s.Logger, err)
		return
	}
	ws := &vigie.Workspace{ID: in.ID, Name: in.Name, CreatedAt: s.Clock.Now(), SecretGeneration: 1}
	secret, err := s.webhookSecret(r.Context(), ws)
	if err != nil {
		web.Error(w, r, s.Logger, err)
		return
	}
	if err := s.Store.CreateWorkspace(r.Context(), ws); err != nil {
		if vigie.IsKind(err, vigie.KindConflict) {
			err = &vigie.Error{Kind: vigie.KindConflict, Code: "workspace_exists", Message: "a workspace with this id exists"}
		}
		web.Error(w, r, s.Logger, err)
		return
	}
	key, err := s.newKey(r.Context(), ws.ID, "default")
	if err != nil {
		web.Error(w, r, s.Logger, err)
		return
	}
	s.Logger.Info("workspace created", "workspace", ws.ID)
	web.JSON(w, http.StatusCreated, map[string]any{"workspace": ws, "api_key": key.Key, "webhook_secret": secret})
}

func (s *server) getWorkspace(w http.ResponseWriter, r *http.Request) {
	ws, err := s.Store.GetWorkspace(r.Context(), keyOf(r).Workspace)
	if err != nil {
		web.Error(w, r, s.Logger, err)
		return
	}
	web.JSON(w, http.StatusOK, map[string]any{"workspace": ws})
}

// rotateSecret bumps the workspace's secret generation. Concurrent rotations
// are serialized by the store's optimistic concurrency: the loser re-reads.
func (s *server) rotateSecret(w http.ResponseWriter, r *http.Request) {
	var ws *vigie.Workspace
	var err error
	for range 5 {
		if ws, err = s.Store.GetWorkspace(r.Context(), keyOf(r).Workspace); err != nil {
			break
		}
		ws.SecretGeneration++
		if err = s.Store.UpdateWorkspace(r.Context(), ws); !vigie.IsKind(err, vigie.KindConflict) {
			break
		}
	}
	if err != nil {
		web.Error(w, r, s.Logger, err)
		return
	}
	secret, err := s.webhookSecret(r.Context(), ws)
	if err != nil {
		web.Error(w, r, s.Logger, err)
		return
	}
	s.Logger.Info("webhook secret rotated", "workspace", ws.ID, "generation", ws.SecretGeneration)
	web.JSON(w, http.StatusOK, map[string]any{"webhook_secret": secret, "generation": ws.SecretGeneration})
}

func (s *server) listKeys(w http.ResponseWriter, r *http.Request) {
	keys, err := s.Store.ListAPIKeys(r.Context(), keyOf(r).Workspace)
	if err != nil {
		web.Error(w, r, s.Logger, err)
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
	if err := checkName("name", in.Name); err != nil {
		web.Error(w, r, s.Logger, err)
		return
	}
	v, err := s.newKey(r.Context(), keyOf(r).Workspace, in.Name)
	if err != nil {
		web.Error(w, r, s.Logger, err)
		return
	}
	s.Logger.Info("API key created", "workspace", keyOf(r).Workspace, "key_id", v.ID)
	web.JSON(w, http.StatusCreated, v)
}

func (s *server) revokeKey(w http.ResponseWriter, r *http.Request) {
	ws := keyOf(r).Workspace
	for range 5 {
		k, err := s.Store.GetAPIKey(r.Context(), ws, r.PathValue("id"))
		if vigie.IsKind(err, vigie.KindInvalid) {
			err = vigie.Errorf(vigie.KindNotFound, "no such key")
		}
		if err != nil {
			web.Error(w, r, s.Logger, err)
			return
		}
		if k.RevokedAt != nil {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		now := s.Clock.Now()
		k.RevokedAt = &now
		err = s.Store.UpdateAPIKey(r.Context(), k)
		if vigie.IsKind(err, vigie.KindConflict) {
			continue
		}
		if err != nil {
			web.Error(w, r, s.Logger, err)
			return
		}
		s.Logger.Info("API key revoked", "workspace", ws, "key_id", k.ID)
		w.WriteHeader(http.StatusNoContent)
		return
	}
	web.Error(w, r, s.Logger, vigie.Errorf(vigie.KindConflict, "the key kept changing; retry"))
}

func (s *server) listMentions(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var mq vigie.MentionQuery
	var err error
	if mq.Since, err = timeParam(q, "since"); err == nil {
		mq.Until, err = timeParam(q, "until")
	}
	if err == nil && q.Get("limit") != "" {
		if mq.Limit, err = strconv.Atoi(q.Get("limit")); err != nil || mq.Limit < 1 || mq.Limit > vigie.MaxPageSize {
			err = vigie.Invalidf("limit", "limit must be a number from 1 to %d", vigie.MaxPageSize)
		}
	}
	if err != nil {
		web.Error(w, r, s.Logger, err)
		return
	}
	mq.Cursor = q.Get("cursor")
	page, err := s.Store.ListMentions(r.Context(), keyOf(r).Workspace, mq)
	if err != nil {
		if e, ok := vigie.AsError(err); ok && e.Kind == vigie.KindInvalid && mq.Cursor != "" && e.Field == "" {
			err = vigie.Invalidf("cursor", "%s", e.Message)
		}
		web.Error(w, r, s.Logger, err)
		return
	}
	mentions := page.Mentions
	if mentions == nil {
		mentions = []*vigie.Mention{}
	}
	web.JSON(w, http.StatusOK, map[string]any{"mentions": mentions, "next_cursor": page.Next})
}

func timeParam(q url.Values, name string) (time.Time, error) {
	v := q.Get(name)
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, vigie.Invalidf(name, "%s must be an RFC 3339 time such as 2026-11-20T00:00:00Z", name)
	}
	return t, nil
}
