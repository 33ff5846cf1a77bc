package config

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestLoad_Defaults(t *testing.T) {
	got, err := Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		Stage: "local", Store: "bolt", BoltPath: ".vigie/vigie.db", Table: "vigie", Bus: "local", EventBus: "vigie",
		Secrets: "file", SecretsFile: ".vigie/secrets.json", SSMPath: "/vigie/local", Addr: "127.0.0.1:8080",
		Template: "template.yaml", LogLevel: "info", MaxBodyBytes: 1 << 20, WebhookTolerance: 5 * time.Minute,
		PollEvery: 5 * time.Minute, PollConcurrency: 8, MetaGraphURL: "https://graph.facebook.com", XAPIURL: "https://api.x.com",
		YouTubeAPIURL: "https://www.googleapis.com/youtube/v3", BlueskyURL: "https://bsky.social", FeedAddresses: "public",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Load(empty) mismatch (-want +got):\n%s", diff)
	}
}

func TestLoad_Cloud(t *testing.T) {
	got, err := Load(env(map[string]string{
		"VIGIE_STORE": "dynamodb", "VIGIE_BUS": "eventbridge", "VIGIE_SECRETS": "ssm", "VIGIE_SSM_PATH": "/vigie/prod",
		"VIGIE_TABLE": "vigie-prod", "VIGIE_MENTION_RETENTION": "9600h",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if got.Store != "dynamodb" || got.Bus != "eventbridge" || got.Secrets != "ssm" || got.Table != "vigie-prod" || got.MentionRetention != 9600*time.Hour {
		t.Errorf("Load(cloud) = %+v", got)
	}
}

func TestLoad_NamesEveryBadVariable(t *testing.T) {
	_, err := Load(env(map[string]string{
		"VIGIE_STORE": "postgres", "VIGIE_BUS": "kafka", "VIGIE_MAX_BODY_BYTES": "-1",
		"VIGIE_WEBHOOK_TOLERANCE": "soon", "VIGIE_SSM_PATH": "vigie", "VIGIE_LOG_LEVEL": "loud",
	}))
	if err == nil {
		t.Fatal("Load accepted bad variables")
	}
	for _, name := range []string{"VIGIE_STORE", "VIGIE_BUS", "VIGIE_MAX_BODY_BYTES", "VIGIE_WEBHOOK_TOLERANCE", "VIGIE_SSM_PATH", "VIGIE_LOG_LEVEL"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error does not name %s: %v", name, err)
		}
	}
}

// The README's configuration table must list every variable with its default.
func TestReadmeListsEveryVariable(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range Vars {
		row := fmt.Sprintf("| `%s` | `%s` |", v.Name, v.Default)
		if !strings.Contains(string(readme), row) {
			t.Errorf("README.md lacks the row %q", row)
		}
	}
}
