package api

import (
	"net/http"

	"vigie/internal/secrets"
	"vigie/internal/vigie"
	"vigie/internal/web"
	"vigie/internal/webhook"
)

// createdWorkspace is the answer to POST /v1/workspaces: the only time the
// first key is shown.
type createdWorkspace struct {
	Workspace     *vigie.Workspace `json:"workspace"`
	APIKey        string           `json:"api_key"`
	WebhookSecret string           `json:"webhook_secret"`
}

// createWorkspace creates a workspace, its first key ("default") and shows
// its webhook secret.
//
// A creation that failed after storing the workspace but before its key can
// be retried: a workspace with no key at all, and the same name, can only be
// such a leftover (keys are revoked, never deleted), so the retry completes
// it. Any other existing id is a 409.
func (s *server) createWorkspace(w http.ResponseWriter, r *http.Request) {
	var in struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	}
	if !s.decode(w, r, &in) {
		return
	}
	if in.ID == "" {
		s.fail(w, r, &vigie.Error{Kind: vigie.KindInvalid, Code: "field_missing", Field: "id", Message: "id is required"})
		return
	}
	if !vigie.ValidID(in.ID) {
		s.fail(w, r, vigie.Invalidf("id", "id must be 2 to 63 lower-case letters, digits or dashes, not starting with a dash"))
		return
	}
	name, err := cleanName("name", in.Name)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// Read first: without it the workspace would be unusable.
	master, err := s.masterSecret(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ws := &vigie.Workspace{ID: in.ID, Name: name, CreatedAt: s.Clock.Now(), SecretGeneration: 1}
	err = s.Store.CreateWorkspace(r.Context(), ws)
	if vigie.IsKind(err, vigie.KindConflict) {
		ws, err = s.unfinished(r, in.ID, name)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	key, err := s.newKey(r, ws.ID, "default")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.log(r).InfoContext(r.Context(), "workspace created", "workspace", ws.ID, "key_id", key.ID)
	web.JSON(w, http.StatusCreated, createdWorkspace{Workspace: ws, APIKey: key.Key, WebhookSecret: webhookSecret(master, ws)})
}

// unfinished returns the workspace id if it is a leftover of a failed
// creation with this name, and a workspace_exists Conflict otherwise.
func (s *server) unfinished(r *http.Request, id, name string) (*vigie.Workspace, error) {
	ws, err := s.Store.GetWorkspace(r.Context(), id)
	if err != nil {
		return nil, err
	}
	keys, err := s.Store.ListAPIKeys(r.Context(), id)
	if err != nil {
		return nil, err
	}
	if len(keys) > 0 || ws.Name != name {
		return nil, &vigie.Error{Kind: vigie.KindConflict, Code: "workspace_exists", Field: "id", Message: "a workspace with this id exists"}
	}
	s.log(r).WarnContext(r.Context(), "completing a workspace whose creation failed", "workspace", id)
	return ws, nil
}

func webhookSecret(master secrets.Value, ws *vigie.Workspace) string {
	return webhook.Secret(secrets.WebhookSecret(master, ws.ID, ws.SecretGeneration)).Encode()
}

func (s *server) getWorkspace(w http.ResponseWriter, r *http.Request) {
	ws, err := s.Store.GetWorkspace(r.Context(), keyOf(r).Workspace)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	web.JSON(w, http.StatusOK, map[string]any{"workspace": ws})
}

// rotateWebhookSecret bumps the workspace's secret generation, which
// derives a new secret; the previous one stops verifying at once.
// Concurrent rotations are serialized by the store's optimistic concurrency:
// the loser re-reads and bumps again, so each caller gets a distinct secret
// and the last one answered is the one in force.
func (s *server) rotateWebhookSecret(w http.ResponseWriter, r *http.Request) {
	master, err := s.masterSecret(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var ws *vigie.Workspace
	for range retries {
		if ws, err = s.Store.GetWorkspace(r.Context(), keyOf(r).Workspace); err != nil {
			break
		}
		ws.SecretGeneration++
		if err = s.Store.UpdateWorkspace(r.Context(), ws); !vigie.IsKind(err, vigie.KindConflict) {
			break
		}
	}
	if vigie.IsKind(err, vigie.KindConflict) {
		err = &vigie.Error{Kind: vigie.KindConflict, Code: "busy", Message: "the workspace kept changing; retry", Err: err}
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.log(r).InfoContext(r.Context(), "webhook secret rotated", "generation", ws.SecretGeneration)
	web.JSON(w, http.StatusOK, map[string]any{"webhook_secret": webhookSecret(master, ws), "generation": ws.SecretGeneration})
}
