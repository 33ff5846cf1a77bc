// Package config reads Vigie's settings from VIGIE_* environment variables
// into a typed struct. Every variable has a default that runs the system
// locally; the template sets the cloud values.
package config

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Config is every setting of every Vigie function.
type Config struct {
	Stage            string        // VIGIE_STAGE: deployment stage name
	Store            string        // VIGIE_STORE: "bolt" or "dynamodb"
	BoltPath         string        // VIGIE_BOLT_PATH: bbolt data file
	Table            string        // VIGIE_TABLE: DynamoDB table name
	Bus              string        // VIGIE_BUS: "local" or "eventbridge"
	EventBus         string        // VIGIE_EVENT_BUS: EventBridge bus name
	Secrets          string        // VIGIE_SECRETS: "file" or "ssm"
	SecretsFile      string        // VIGIE_SECRETS_FILE: local secrets JSON file
	SSMPath          string        // VIGIE_SSM_PATH: SSM path holding the secrets
	Addr             string        // VIGIE_ADDR: local runner listen address
	Template         string        // VIGIE_TEMPLATE: SAM template the local runner reads
	LogLevel         string        // VIGIE_LOG_LEVEL: debug, info, warn, error
	MaxBodyBytes     int64         // VIGIE_MAX_BODY_BYTES: largest accepted request body
	WebhookTolerance time.Duration // VIGIE_WEBHOOK_TOLERANCE: allowed webhook clock skew
	MentionRetention time.Duration // VIGIE_MENTION_RETENTION: how long mentions are kept (0: forever)
	PollEvery        time.Duration // VIGIE_POLL_EVERY: default polling interval of a source
	PollConcurrency  int           // VIGIE_POLL_CONCURRENCY: sources polled at once
	MetaGraphURL     string        // VIGIE_META_GRAPH_URL: Meta Graph API base URL
	XAPIURL          string        // VIGIE_X_API_URL: X API base URL
	YouTubeAPIURL    string        // VIGIE_YOUTUBE_API_URL: YouTube Data API base URL
	BlueskyURL       string        // VIGIE_BLUESKY_URL: default Bluesky PDS
	FeedAddresses    string        // VIGIE_FEED_ADDRESSES: "public" or "any" addresses for feed URLs
}

// Var documents one variable: its name, default and meaning. The README's
// table is checked against Vars by a test.
type Var struct {
	Name, Default, Help string
}

// Vars lists every variable Load reads, with its default.
var Vars = []Var{
	{"VIGIE_STAGE", "local", "deployment stage name, used in resource names and logs"},
	{"VIGIE_STORE", "bolt", "store driver: bolt (embedded file) or dynamodb"},
	{"VIGIE_BOLT_PATH", ".vigie/vigie.db", "bbolt data file (bolt store and local bus)"},
	{"VIGIE_TABLE", "vigie", "DynamoDB table name (dynamodb store)"},
	{"VIGIE_BUS", "local", "event bus: local (in-process, rules from the template) or eventbridge"},
	{"VIGIE_EVENT_BUS", "vigie", "EventBridge bus name (eventbridge bus)"},
	{"VIGIE_SECRETS", "file", "secrets source: file or ssm"},
	{"VIGIE_SECRETS_FILE", ".vigie/secrets.json", "local secrets file (file source), created on first run"},
	{"VIGIE_SSM_PATH", "/vigie/local", "SSM Parameter Store path holding master-secret and admin-key (ssm source)"},
	{"VIGIE_ADDR", "127.0.0.1:8080", "local runner listen address"},
	{"VIGIE_TEMPLATE", "template.yaml", "SAM template read by the local runner"},
	{"VIGIE_LOG_LEVEL", "info", "log level: debug, info, warn or error"},
	{"VIGIE_MAX_BODY_BYTES", "1048576", "largest accepted request body, in bytes"},
	{"VIGIE_WEBHOOK_TOLERANCE", "5m", "how far a signed webhook's timestamp may be from now"},
	{"VIGIE_MENTION_RETENTION", "0", "how long mentions are kept, e.g. 9600h; 0 keeps them forever"},
	{"VIGIE_POLL_EVERY", "5m", "default polling interval of a source (channels and watches may set their own)"},
	{"VIGIE_POLL_CONCURRENCY", "8", "sources the watch function polls at once"},
	{"VIGIE_META_GRAPH_URL", "https://graph.facebook.com", "Meta Graph API base URL"},
	{"VIGIE_X_API_URL", "https://api.x.com", "X API base URL"},
	{"VIGIE_YOUTUBE_API_URL", "https://www.googleapis.com/youtube/v3", "YouTube Data API base URL"},
	{"VIGIE_BLUESKY_URL", "https://bsky.social", "Bluesky PDS for accounts that name none"},
	{"VIGIE_FEED_ADDRESSES", "public", "feed URLs may reach public addresses only (public), or loopback and private ones too (any: for feeds on your own network)"},
}

// Load reads the configuration through getenv (os.Getenv in main, a map in
// tests). It names every bad variable at once.
func Load(getenv func(string) string) (Config, error) {
	get := func(name string) string {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			return v
		}
		for _, v := range Vars {
			if v.Name == name {
				return v.Default
			}
		}
		panic("config: undeclared variable " + name)
	}
	var errs []error
	oneOf := func(name string, allowed ...string) string {
		v := get(name)
		for _, a := range allowed {
			if v == a {
				return v
			}
		}
		errs = append(errs, fmt.Errorf("%s=%q: must be one of %s", name, v, strings.Join(allowed, ", ")))
		return v
	}
	duration := func(name string) time.Duration {
		v := get(name)
		if v == "0" {
			return 0
		}
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			errs = append(errs, fmt.Errorf("%s=%q: must be a non-negative duration such as 5m or 720h", name, v))
		}
		return d
	}
	c := Config{
		Stage:            get("VIGIE_STAGE"),
		Store:            oneOf("VIGIE_STORE", "bolt", "dynamodb"),
		BoltPath:         get("VIGIE_BOLT_PATH"),
		Table:            get("VIGIE_TABLE"),
		Bus:              oneOf("VIGIE_BUS", "local", "eventbridge"),
		EventBus:         get("VIGIE_EVENT_BUS"),
		Secrets:          oneOf("VIGIE_SECRETS", "file", "ssm"),
		SecretsFile:      get("VIGIE_SECRETS_FILE"),
		SSMPath:          get("VIGIE_SSM_PATH"),
		Addr:             get("VIGIE_ADDR"),
		Template:         get("VIGIE_TEMPLATE"),
		LogLevel:         oneOf("VIGIE_LOG_LEVEL", "debug", "info", "warn", "error"),
		WebhookTolerance: duration("VIGIE_WEBHOOK_TOLERANCE"),
		MentionRetention: duration("VIGIE_MENTION_RETENTION"),
		PollEvery:        duration("VIGIE_POLL_EVERY"),
		MetaGraphURL:     get("VIGIE_META_GRAPH_URL"),
		XAPIURL:          get("VIGIE_X_API_URL"),
		YouTubeAPIURL:    get("VIGIE_YOUTUBE_API_URL"),
		BlueskyURL:       get("VIGIE_BLUESKY_URL"),
		FeedAddresses:    oneOf("VIGIE_FEED_ADDRESSES", "public", "any"),
	}
	if n, err := strconv.Atoi(get("VIGIE_POLL_CONCURRENCY")); err != nil || n < 1 || n > 64 {
		errs = append(errs, fmt.Errorf("VIGIE_POLL_CONCURRENCY=%q: must be a number from 1 to 64", get("VIGIE_POLL_CONCURRENCY")))
	} else {
		c.PollConcurrency = n
	}
	for _, u := range []struct{ name, v string }{{"VIGIE_META_GRAPH_URL", c.MetaGraphURL}, {"VIGIE_X_API_URL", c.XAPIURL},
		{"VIGIE_YOUTUBE_API_URL", c.YouTubeAPIURL}, {"VIGIE_BLUESKY_URL", c.BlueskyURL}} {
		if !strings.HasPrefix(u.v, "https://") && !strings.HasPrefix(u.v, "http://") {
			errs = append(errs, fmt.Errorf("%s=%q: must be an http(s) URL", u.name, u.v))
		}
	}
	if n, err := strconv.ParseInt(get("VIGIE_MAX_BODY_BYTES"), 10, 64); err != nil || n < 1 {
		errs = append(errs, fmt.Errorf("VIGIE_MAX_BODY_BYTES=%q: must be a positive number of bytes", get("VIGIE_MAX_BODY_BYTES")))
	} else {
		c.MaxBodyBytes = n
	}
	if !strings.HasPrefix(c.SSMPath, "/") {
		errs = append(errs, fmt.Errorf("VIGIE_SSM_PATH=%q: must start with /", c.SSMPath))
	}
	if len(errs) > 0 {
		return Config{}, fmt.Errorf("config: %w", errors.Join(errs...))
	}
	return c, nil
}
