// Command send signs a file with a workspace's webhook secret (Standard
// Webhooks) and posts it to Vigie's generic ingest route.
//
//	go run ./infra/send -workspace demo events/ingest/generic-batch.json
//
// The secret comes from -secret, else VIGIE_WEBHOOK_SECRET, else it is derived
// from the local runner's master secret in .vigie/secrets.json.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"vigie/internal/secrets"
	"vigie/internal/webhook"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "send:", err)
		os.Exit(1)
	}
}

func run(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("send", flag.ContinueOnError)
	base := fs.String("url", "http://127.0.0.1:8080", "base URL of the Vigie API")
	ws := fs.String("workspace", "demo", "workspace id")
	secretText := fs.String("secret", os.Getenv("VIGIE_WEBHOOK_SECRET"), "webhook secret (whsec_...)")
	secretsFile := fs.String("secrets-file", ".vigie/secrets.json", "local secrets file, used when no secret is given")
	generation := fs.Int("generation", 1, "secret generation, when deriving from the local secrets file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("usage: send [-url URL] [-workspace ID] [-secret whsec_...] FILE")
	}
	body, err := os.ReadFile(fs.Arg(0))
	if err != nil {
		return err
	}
	var secret webhook.Secret
	if *secretText != "" {
		if secret, err = webhook.ParseSecret(*secretText); err != nil {
			return err
		}
	} else {
		master, err := secrets.File{Path: *secretsFile}.Get(context.Background(), secrets.MasterSecret)
		if err != nil {
			return fmt.Errorf("no -secret given and %w", err)
		}
		secret = webhook.Secret(secrets.WebhookSecret(master, *ws, *generation))
	}
	id := make([]byte, 12)
	_, _ = rand.Read(id)
	url := strings.TrimSuffix(*base, "/") + "/v1/hooks/" + *ws + "/generic"
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(string(body)))
	if err != nil {
		return err
	}
	req.Header = webhook.Headers(secret, "msg_"+hex.EncodeToString(id), time.Now(), body)
	req.Header.Set("Content-Type", "application/json")
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	fmt.Fprintf(out, "%s %s\n%s", resp.Status, url, answer)
	if resp.StatusCode >= 300 {
		return fmt.Errorf("answered %s", resp.Status)
	}
	return nil
}
