package x_test

import (
	"testing"

	"vigie/internal/platform/x"
	"vigie/internal/vigie"
)

func TestCRCResponse(t *testing.T) {
	// Reference §10.1.
	got, err := x.CRCResponse([]byte("consumersecret123"), "challenge_string")
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"response_token":"sha256=32NI0l/z6YlrlwsVUWzOxxRQWJIEV7/aHnkOEbQUuK4="}`; string(got) != want {
		t.Errorf("CRCResponse = %s, want %s", got, want)
	}
	if _, err := x.CRCResponse([]byte("consumersecret123"), ""); !vigie.IsKind(err, vigie.KindInvalid) {
		t.Errorf("empty token: %v; want invalid", err)
	}
	if _, err := x.CRCResponse(nil, "challenge_string"); err == nil {
		t.Error("no secret: no error")
	}
}

func TestVerifySignature(t *testing.T) {
	// Reference §10.1.
	secret := []byte("consumersecret123")
	body := []byte(`{"for_user_id":"2244994945","tweet_create_events":[]}`)
	const good = "sha256=cg7Wdes7VwOOPo0j91hC3qb4mN78pAilgglUMnEMGOY="
	tests := []struct {
		name   string
		secret []byte
		header string
		body   []byte
		ok     bool
	}{
		{"reference vector", secret, good, body, true},
		{"missing", secret, "", body, false},
		{"no prefix", secret, "cg7Wdes7VwOOPo0j91hC3qb4mN78pAilgglUMnEMGOY=", body, false},
		{"hex instead of base64", secret, "sha256=720ed675ecfb57038e3e8d23f75842dea6f898defca408a58208a5307106398", body, false},
		{"not base64", secret, "sha256=***", body, false},
		{"truncated", secret, "sha256=cg7Wdes7VwOOPo0j", body, false},
		{"wrong secret", []byte("other"), good, body, false},
		{"no secret", nil, good, body, false},
		{"body changed", secret, good, []byte(`{"for_user_id":"2244994945","tweet_create_events":[{}]}`), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := x.VerifySignature(tc.secret, tc.header, tc.body)
			if tc.ok {
				if err != nil {
					t.Fatalf("VerifySignature = %v", err)
				}
				return
			}
			if !vigie.IsKind(err, vigie.KindUnauthorized) {
				t.Fatalf("VerifySignature = %v; want unauthorized", err)
			}
		})
	}
}
