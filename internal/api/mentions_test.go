package api

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"vigie/internal/vigie"
)

func TestMentions_Pages(t *testing.T) {
	e := setup(t, nil)
	// acme has one mention at t0-1h from setup; these are at t0-1h … t0-5h.
	ids := e.addMentions(t, "acme", 5)
	tests := []struct {
		name, query string
		wantN       int
	}{
		{"all", "", 6},
		{"since (inclusive)", "since=2026-11-20T09:00:00Z", 4},
		{"until (exclusive)", "until=2026-11-20T09:00:00Z", 2},
		{"window", "since=2026-11-20T08:00:00Z&until=2026-11-20T10:00:00%2B00:00", 2},
		{"other zone", "since=2026-11-20T10:00:00%2B01:00", 4},
		{"empty window", "since=2026-11-20T09:00:00Z&until=2026-11-20T09:00:00Z", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []*vigie.Mention
			cursor := ""
			for pages := 0; ; pages++ {
				if pages > 10 {
					t.Fatal("pagination does not end")
				}
				var page mentionPage
				e.do(t, "GET", "/v1/mentions?limit=2&"+tt.query+"&cursor="+url.QueryEscape(cursor), e.keys["acme"], "", http.StatusOK, &page)
				if page.Mentions == nil {
					t.Fatal("mentions is null, want a list")
				}
				got = append(got, page.Mentions...)
				if cursor = page.NextCursor; cursor == "" {
					break
				}
			}
			if len(got) != tt.wantN {
				t.Fatalf("listed %d mentions, want %d", len(got), tt.wantN)
			}
			for i := 1; i < len(got); i++ {
				if got[i].CreatedAt.After(got[i-1].CreatedAt) {
					t.Errorf("not newest first: %v then %v", got[i-1].CreatedAt, got[i].CreatedAt)
				}
			}
		})
	}
	var page mentionPage
	e.do(t, "GET", "/v1/mentions?limit=1&until=2026-11-20T10:30:00Z", e.keys["acme"], "", http.StatusOK, &page)
	if len(page.Mentions) != 1 || page.Mentions[0].ID != ids[1] {
		t.Errorf("got %v, want the mention at t0-2h", page.Mentions)
	}
}

func TestMentions_BadParams(t *testing.T) {
	e := setup(t, nil)
	var first mentionPage
	e.addMentions(t, "acme", 2)
	e.do(t, "GET", "/v1/mentions?limit=1", e.keys["acme"], "", http.StatusOK, &first)
	tests := []struct{ query, field string }{
		{"since=yesterday", "since"},
		{"since=2026-11-20", "since"},
		{"until=2026-13-01T00:00:00Z", "until"},
		{"since=2026-11-20T10:00:00Z&until=2026-11-20T09:00:00Z", "since"},
		{"since=0000-01-01T00:00:00Z", "since"},
		{"limit=0", "limit"},
		{"limit=-1", "limit"},
		{"limit=abc", "limit"},
		{"limit=201", "limit"},
		{"cursor=garbage", "cursor"},
		{"cursor=" + url.QueryEscape(first.NextCursor) + "&since=2026-11-01T00:00:00Z", "cursor"}, // another query's
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			a := e.do(t, "GET", "/v1/mentions?"+tt.query, e.keys["acme"], "", http.StatusBadRequest, nil)
			if a.field() != tt.field || a.code() != "invalid" {
				t.Errorf("code %q field %q, want invalid %q; body %s", a.code(), a.field(), tt.field, a.body)
			}
		})
	}
}

// TestInternalErrorsDoNotLeak: a failure the API does not expect is a 500
// whose body says nothing of it; the log has it.
func TestInternalErrorsDoNotLeak(t *testing.T) {
	const cause = "dynamodb: connection refused to table vigie-prod-secret-table"
	faults := &faultyStore{
		listMentions: func(context.Context, string, vigie.MentionQuery) (*vigie.MentionPage, error) {
			return nil, errors.New(cause)
		},
	}
	faults.listAPIKeys = func(ctx context.Context, ws string) ([]*vigie.APIKey, error) {
		if ws == "globex" {
			return nil, errors.New(cause)
		}
		return faults.Store.ListAPIKeys(ctx, ws)
	}
	e := setup(t, faults)
	for _, path := range []string{"/v1/mentions", "/v1/keys"} {
		a := e.do(t, "GET", path, e.keys["globex"], "", http.StatusInternalServerError, nil)
		want := `{"error":{"code":"internal","message":"internal error"}}`
		if diff := cmp.Diff(want, strings.TrimSpace(string(a.body))); diff != "" {
			t.Errorf("%s: 500 body (-want +got):\n%s", path, diff)
		}
	}
	if !strings.Contains(e.logs.String(), cause) {
		t.Error("the cause is not logged")
	}
}
