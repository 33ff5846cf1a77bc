// Package ingest receives signed generic webhook deliveries of mentions
// (POST /v1/hooks/{workspace}/generic), verifies them (Standard Webhooks,
// with the workspace's secret), normalizes and stores the mentions and
// announces each new one as mention.received. NewHandler serves the route;
// Service.Ingest is the same work for entry points that already hold the
// body; Parse is the format alone.
//
// # Signature
//
// Headers webhook-id, webhook-timestamp (Unix seconds, at most 5 minutes
// from Vigie's clock) and webhook-signature ("v1,<base64 HMAC-SHA256>" of
// "{id}.{timestamp}.{body}", several space-separated accepted), keyed with
// the workspace's webhook secret of its current generation: rotating the
// secret makes the previous one fail at once.
//
// # Body
//
// The body is {"mentions": [item, ...]} with 1 to 500 items, at most 1 MiB
// of UTF-8 JSON:
//
//	{
//	  "platform":    "forum",                       required, [a-z0-9_-]{1,32}
//	  "external_id": "thread-8812-post-3",          required, the source's own id,
//	                                                1 to 256 printable characters
//	  "author":      {"id", "handle", "name",       handle or id required; strings
//	                  "followers", "verified"},     ≤ 256, followers ≥ 0
//	  "text":        "…",                           required, not blank, ≤ 100 000 bytes
//	  "url":         "https://…",                   optional, absolute http(s), ≤ 2048
//	  "created_at":  "2026-11-20T09:12:41Z",        required, RFC 3339 with a zone,
//	                                                year 2000 on, ≤ 24 h ahead
//	  "metrics":     {"likes": 4}                   optional, ≤ 32 names of [a-z0-9_-]
//	                                                with non-negative integers
//	}
//
// Unknown fields are rejected. Any invalid item rejects the whole delivery
// (400) with error.field naming it as a JSON path, e.g.
// "mentions[3].created_at" or "mentions[0].author.colour"; nothing is stored.
//
// # Answers and idempotency
//
// 200 {"received", "created", "duplicates", "mentions": [ids]}; 400, 401,
// 404 (workspace), 413 (size) and 5xx (retry) as JSON errors. A mention's id
// is vigie.MentionID(platform, external_id): items repeating one inside a
// batch count once, and a redelivery (same webhook-id, or the same platform
// and external id in a new delivery) answers 200 and stores and announces
// nothing. Each new mention costs one store write and one bus entry;
// Service.Ingest explains the order that keeps this true across failures.
//
// docs/ingest-generic.md is the same contract for senders.
package ingest
