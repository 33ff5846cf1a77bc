// Package secrets reads Vigie's secrets: from SSM Parameter Store in the
// cloud, from a local JSON file for `make run`. It also derives the per-purpose
// keys (webhook secrets, cursor keys) from the one master secret, so that a
// deployment has two secrets to keep, not one per workspace.
package secrets

import (
	"context"
	"crypto/hkdf"
	"crypto/sha256"
	"fmt"
	"log/slog"
)

// Names of the secrets Vigie reads.
const (
	// MasterSecret is the root from which per-purpose keys are derived.
	MasterSecret = "master-secret"
	// AdminKey is the agency admin API key (creates workspaces).
	AdminKey = "admin-key"
)

// Value is a secret's value. It never shows itself in fmt or slog output.
type Value string

// String hides the value.
func (Value) String() string { return "[secret]" }

// LogValue hides the value from slog.
func (Value) LogValue() slog.Value { return slog.StringValue("[secret]") }

// Reveal returns the value itself, for the code that must use it.
func (v Value) Reveal() string { return string(v) }

// Source reads secrets by name.
type Source interface {
	// Get returns NotFound if there is no secret of that name, Unavailable if
	// the backend could not be reached.
	Get(ctx context.Context, name string) (Value, error)
}

// Writer keeps secrets that Vigie itself sets: the credentials of the
// channels a workspace connects.
type Writer interface {
	Source
	Put(ctx context.Context, name, value string) error
	// Delete removes a secret; no error if there is none.
	Delete(ctx context.Context, name string) error
}

// Names of app-level platform secrets, set by the operator.
const (
	MetaAppSecret   = "meta-app-secret"   // signs Meta webhook deliveries
	MetaVerifyToken = "meta-verify-token" // answers Meta's subscription handshake
	XConsumerSecret = "x-consumer-secret" // signs X Account Activity deliveries and CRC answers
)

// ChannelSecret is the name of a channel's credentials (a JSON object).
func ChannelSecret(workspace, channel string) string {
	return "channels/" + workspace + "/" + channel
}

// Derive returns a 32-byte key for purpose, derived from the master secret
// with HKDF-SHA256. The same master and purpose always give the same key;
// different purposes give independent keys.
func Derive(master Value, purpose string) []byte {
	key, err := hkdf.Key(sha256.New, []byte(master), nil, "vigie/"+purpose, 32)
	if err != nil {
		panic("secrets: hkdf: " + err.Error()) // only on a length over 255*32
	}
	return key
}

// WebhookSecret returns the Standard Webhooks signing key of a workspace for
// a secret generation. Bumping the generation rotates the secret; nothing
// per-workspace is kept in SSM.
func WebhookSecret(master Value, workspace string, generation int) []byte {
	return Derive(master, fmt.Sprintf("webhook/%s/%d", workspace, generation))
}

// CursorKey returns the key that signs the stores' pagination cursors.
func CursorKey(master Value) []byte { return Derive(master, "cursor") }
