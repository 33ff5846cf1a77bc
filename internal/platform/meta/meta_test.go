package meta_test

import (
	"net/url"
	"testing"

	"vigie/internal/platform/meta"
	"vigie/internal/vigie"
)

func TestVerifyChallenge(t *testing.T) {
	tests := []struct {
		name  string
		query string
		token string
		want  string
		kind  string
	}{
		{"ok", "hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=meatyhamhock", "meatyhamhock", "1158201444", ""},
		{"wrong token", "hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=nope", "meatyhamhock", "", vigie.KindForbidden},
		{"no token", "hub.mode=subscribe&hub.challenge=1158201444", "meatyhamhock", "", vigie.KindForbidden},
		{"empty configured token", "hub.mode=subscribe&hub.challenge=1&hub.verify_token=", "", "", vigie.KindForbidden},
		{"wrong mode", "hub.mode=unsubscribe&hub.challenge=1158201444&hub.verify_token=meatyhamhock", "meatyhamhock", "", vigie.KindInvalid},
		{"no mode", "hub.challenge=1158201444&hub.verify_token=meatyhamhock", "meatyhamhock", "", vigie.KindInvalid},
		{"no challenge", "hub.mode=subscribe&hub.verify_token=meatyhamhock", "meatyhamhock", "", vigie.KindInvalid},
		{"underscored names", "hub_mode=subscribe&hub_challenge=1&hub_verify_token=meatyhamhock", "meatyhamhock", "", vigie.KindInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q, err := url.ParseQuery(tc.query)
			if err != nil {
				t.Fatal(err)
			}
			got, err := meta.VerifyChallenge(q, tc.token)
			if tc.kind != "" {
				if !vigie.IsKind(err, tc.kind) {
					t.Fatalf("VerifyChallenge = %q, %v; want a %s error", got, err, tc.kind)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("VerifyChallenge = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestVerifySignature(t *testing.T) {
	// Reference §10.1.
	secret := []byte("appsecret123")
	body := []byte(`{"object":"page","entry":[]}`)
	const good = "sha256=88d9a7469625e45bab1d3d87f82d7d26ae38acbca252120ddcf7c4fb91083cba"
	tests := []struct {
		name   string
		secret []byte
		header string
		body   []byte
		ok     bool
	}{
		{"reference vector", secret, good, body, true},
		{"surrounding spaces", secret, " " + good + " ", body, true},
		{"missing", secret, "", body, false},
		{"sha1 only", secret, "sha1=0123456789abcdef0123456789abcdef01234567", body, false},
		{"not hex", secret, "sha256=zz", body, false},
		{"short", secret, "sha256=88d9a746", body, false},
		{"wrong secret", []byte("other"), good, body, false},
		{"no secret", nil, good, body, false},
		{"body changed", secret, good, []byte(`{"object":"page","entry":[] }`), false},
		{"uppercase prefix", secret, "SHA256=88d9a7469625e45bab1d3d87f82d7d26ae38acbca252120ddcf7c4fb91083cba", body, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := meta.VerifySignature(tc.secret, tc.header, tc.body)
			if tc.ok {
				if err != nil {
					t.Fatalf("VerifySignature = %v", err)
				}
				return
			}
			if !vigie.IsKind(err, vigie.KindUnauthorized) {
				t.Fatalf("VerifySignature = %v; want an unauthorized error", err)
			}
		})
	}
}
