package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"vigie/internal/platform"
	"vigie/internal/vigie"
)

const (
	metaSecret = "bench-meta-app-secret"
	metaPage   = "448242228374517"
)

// metaDeliverer makes Meta Page feed deliveries of n new comments each, in
// the shape of the reference's captured payload, signed as Meta signs.
type metaDeliverer struct{ n int }

func (m metaDeliverer) mentions() int { return m.n }

func (m metaDeliverer) delivery(prefix, _ string) []byte {
	changes := make([]map[string]any, m.n)
	post := metaPage + "_122131676912594941"
	for i := range changes {
		changes[i] = map[string]any{"field": "feed", "value": map[string]any{
			"from":         map[string]any{"id": fmt.Sprintf("65123456789%05d", i), "name": "Commenter " + fmt.Sprint(i)},
			"post":         map[string]any{"status_type": "mobile_status_update", "is_published": true, "id": post},
			"message":      fmt.Sprintf("Commentaire %d : la lampe Lumen est superbe, où l'acheter ?", i),
			"post_id":      post,
			"comment_id":   fmt.Sprintf("122131676912594941_%s%04d", prefix, i),
			"created_time": time.Now().Unix(),
			"item":         "comment", "parent_id": post, "verb": "add",
		}}
	}
	body, _ := json.Marshal(map[string]any{"object": "page", "entry": []any{
		map[string]any{"id": metaPage, "time": time.Now().Unix(), "changes": changes}}})
	mac := hmac.New(sha256.New, []byte(metaSecret))
	mac.Write(body)
	ev := events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: "POST /v1/hooks/meta", RawPath: "/v1/hooks/meta", Body: string(body),
		Headers: map[string]string{"content-type": "application/json", "x-hub-signature-256": "sha256=" + hex.EncodeToString(mac.Sum(nil))},
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "POST", Path: "/v1/hooks/meta"},
		},
	}
	out, _ := json.Marshal(ev)
	return out
}

// metaRows measures Meta deliveries of 100 comment changes through the
// ingest handler on dynoxide.
func metaRows(ctx context.Context, dir, dynamoURL string) ([]row, error) {
	rig, err := newIngestRig(ctx, dir, "dynamodb", dynamoURL, latencyTable, nil)
	if err != nil {
		return nil, err
	}
	defer rig.Close()
	err = rig.deps.Store.CreateChannel(ctx, &vigie.Channel{Workspace: workspace, ID: "ch_bench0000000001", Platform: platform.Facebook,
		AccountID: metaPage, Name: "Bench Page", Status: vigie.StatusActive, CreatedAt: time.Now()})
	if err != nil && !vigie.IsKind(err, vigie.KindConflict) {
		return nil, err
	}
	md := metaDeliverer{n: 100}
	progress("%d Meta deliveries of %d comment changes, then their redeliveries, on dynoxide…", metaDeliveries, md.n)
	st, err := rig.run(ctx, md, "meta", 3, metaDeliveries)
	if err != nil {
		return nil, fmt.Errorf("meta: %w", err)
	}
	return []row{
		{name: "Meta webhook: POST /v1/hooks/meta, 100 Page comment changes per delivery, dynoxide"},
		{"  latency p50 / p99 per delivery", dur(median(st.newLat)) + " / " + dur(quantile(st.newLat, 0.99)), "", ""},
		{"  latency p50 / p99 per redelivery", dur(median(st.reLat)) + " / " + dur(quantile(st.reLat, 0.99)), "", ""},
		{"  DynamoDB writes / EventBridge entries per new mention", perMention(st.writesNew, st.mentions) + " / " + perMention(st.entriesNew, st.mentions),
			"≤ 1 / ≤ 1", check(st.writesNew <= int64(st.mentions) && st.entriesNew <= int64(st.mentions))},
		{"  DynamoDB writes / EventBridge entries per redelivered mention", perMention(st.writesRe, st.mentions) + " / " + perMention(st.entriesRe, st.mentions),
			"0 / 0", check(st.writesRe == 0 && st.entriesRe == 0)},
	}, nil
}

// metaDeliveries is how many 100-change Meta deliveries are measured.
const metaDeliveries = 30
