// Package ingest receives signed generic webhook deliveries of mentions
// (POST /v1/hooks/{workspace}/generic), verifies them (Standard Webhooks,
// with the workspace's secret), normalizes and stores the mentions and
// announces each new one as mention.received.
//
// The body is {"mentions": [item, ...]} with 1 to 500 items:
//
//	{
//	  "platform":    "forum",                       required, [a-z0-9_-]{1,32}
//	  "external_id": "thread-8812-post-3",          required, the source's own id, ≤ 256
//	  "author":      {"id", "handle", "name",       handle or id required
//	                  "followers", "verified"},
//	  "text":        "…",                           required, not blank, ≤ 100 000 bytes
//	  "url":         "https://…",                   optional, absolute http(s)
//	  "created_at":  "2026-11-20T09:12:41Z",        required, RFC 3339, ≤ 24 h ahead
//	  "metrics":     {"likes": 4}                   optional, non-negative integers
//	}
//
// Unknown fields are rejected. See docs/ingest-generic.md for the answers.
package ingest
