package metrics

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"testing"
)

func TestCount(t *testing.T) {
	var buf bytes.Buffer
	Count(context.Background(), slog.New(slog.NewJSONHandler(&buf, nil)), "UnroutedEntries", 3, "Platform", "facebook")
	var line struct {
		UnroutedEntries int
		Platform        string
		AWS             struct {
			Timestamp         int64
			CloudWatchMetrics []struct {
				Namespace  string
				Dimensions [][]string
				Metrics    []struct{ Name, Unit string }
			}
		} `json:"_aws"`
	}
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatalf("%v in %s", err, buf.String())
	}
	m := line.AWS.CloudWatchMetrics
	if line.UnroutedEntries != 3 || line.Platform != "facebook" || line.AWS.Timestamp == 0 || len(m) != 1 ||
		m[0].Namespace != Namespace || len(m[0].Dimensions) != 1 || m[0].Dimensions[0][0] != "Platform" ||
		m[0].Metrics[0].Name != "UnroutedEntries" || m[0].Metrics[0].Unit != "Count" {
		t.Errorf("EMF line = %s", buf.String())
	}
	Count(context.Background(), nil, "x", 1) // no logger: no panic
}
