package localrun

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"vigie/internal/secrets"
	"vigie/internal/vigie"
	"vigie/internal/webhook"
)

// demoKeySecret is where the local secrets file keeps the demo workspace's
// API key, so that each start can print it again.
const demoKeySecret = "demo-api-key"

// seedDemo creates the demo workspace on first start, through the API itself
// (with the admin key), and prints how to use it.
func (r *Runner) seedDemo(ctx context.Context) error {
	file := secrets.File{Path: r.cfg.SecretsFile}
	ws, err := r.deps.Store.GetWorkspace(ctx, DemoWorkspace)
	if vigie.IsKind(err, vigie.KindNotFound) {
		admin, err := file.Get(ctx, secrets.AdminKey)
		if err != nil {
			return err
		}
		body, _ := json.Marshal(map[string]string{"id": DemoWorkspace, "name": "Demo agency client"})
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, r.URL()+"/v1/workspaces", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+admin.Reveal())
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return fmt.Errorf("localrun: create demo workspace: %w", err)
		}
		defer resp.Body.Close()
		var created struct {
			APIKey string `json:"api_key"`
		}
		if resp.StatusCode != http.StatusCreated || json.NewDecoder(resp.Body).Decode(&created) != nil {
			return fmt.Errorf("localrun: create demo workspace: API answered %s", resp.Status)
		}
		if err := file.Set(demoKeySecret, created.APIKey); err != nil {
			return err
		}
		// A brand watch, so that the demo's mentions come tagged.
		body, _ = json.Marshal(map[string]string{"name": "Maison Lumen", "kind": "brand", "query": `"maison lumen" OR lumen OR #maisonlumen`})
		req, _ = http.NewRequestWithContext(ctx, http.MethodPost, r.URL()+"/v1/watches", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+created.APIKey)
		req.Header.Set("Content-Type", "application/json")
		wresp, err := http.DefaultClient.Do(req)
		if err != nil {
			return fmt.Errorf("localrun: create demo watch: %w", err)
		}
		wresp.Body.Close()
		if wresp.StatusCode != http.StatusCreated {
			return fmt.Errorf("localrun: create demo watch: API answered %s", wresp.Status)
		}
		if ws, err = r.deps.Store.GetWorkspace(ctx, DemoWorkspace); err != nil {
			return err
		}
	} else if err != nil {
		return err
	}
	master, err := file.Get(ctx, secrets.MasterSecret)
	if err != nil {
		return err
	}
	key, err := file.Get(ctx, demoKeySecret)
	if err != nil {
		key = "(not in the secrets file)"
	}
	secret := webhook.Secret(secrets.WebhookSecret(master, ws.ID, ws.SecretGeneration)).Encode()
	fmt.Fprintf(r.out, `Vigie is running on %s  (Ctrl-C stops it)
demo workspace: %s
  API key:        %s
  webhook secret: %s
  admin key:      in %s
try: make send WORKSPACE=%s FILE=events/ingest/generic-batch.json
     curl -H "Authorization: Bearer %s" %s/v1/mentions   (and /v1/watches, /v1/channels, /v1/sources)
`, r.URL(), ws.ID, key.Reveal(), secret, r.cfg.SecretsFile, ws.ID, key.Reveal(), r.URL())
	return nil
}
