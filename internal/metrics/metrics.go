// Package metrics writes custom CloudWatch metrics as Embedded Metric Format
// log lines: CloudWatch Logs turns them into metrics, so a function needs
// no API call (and no extra latency) to count something.
package metrics

import (
	"context"
	"log/slog"
	"time"
)

// Namespace is where Vigie's metrics live in CloudWatch.
const Namespace = "Vigie"

// Count logs one EMF line with a Count metric name = value, its dimensions
// given as name, value pairs (e.g. "Platform", "facebook").
func Count(ctx context.Context, log *slog.Logger, name string, value int, dims ...string) {
	if log == nil {
		return
	}
	var keys []string
	attrs := []slog.Attr{slog.Int(name, value)}
	for i := 0; i+1 < len(dims); i += 2 {
		keys = append(keys, dims[i])
		attrs = append(attrs, slog.String(dims[i], dims[i+1]))
	}
	meta := map[string]any{
		"Timestamp": time.Now().UnixMilli(),
		"CloudWatchMetrics": []map[string]any{{
			"Namespace":  Namespace,
			"Dimensions": [][]string{keys},
			"Metrics":    []map[string]string{{"Name": name, "Unit": "Count"}},
		}},
	}
	attrs = append(attrs, slog.Any("_aws", meta))
	log.LogAttrs(ctx, slog.LevelInfo, "metric", attrs...)
}
