package mastodon

import "testing"

func TestInstance(t *testing.T) {
	for _, tt := range []struct{ in, base, host string }{
		{"https://Mastodon.Social/", "https://Mastodon.Social", "mastodon.social"},
		{"https://mastodon.social:443", "https://mastodon.social:443", "mastodon.social"},
		{"https://example.com:8443/masto/", "https://example.com:8443/masto", "example.com:8443"},
		{"http://127.0.0.1:8080", "http://127.0.0.1:8080", "127.0.0.1:8080"},
		{"http://[::1]:80", "http://[::1]:80", "::1"},
		{"http://localhost:3000", "http://localhost:3000", "localhost:3000"},
	} {
		base, host, err := (&Client{BaseURL: tt.in}).instance()
		if err != nil || base != tt.base || host != tt.host {
			t.Errorf("instance(%q) = %q, %q, %v; want %q, %q", tt.in, base, host, err, tt.base, tt.host)
		}
	}
	for _, bad := range []string{"", " ", "mastodon.social", "http://10.0.0.1", "http://mastodon.social", "https://mastodon.social#x", "javascript:alert(1)", "https://%zz"} {
		if _, _, err := (&Client{BaseURL: bad}).instance(); err == nil {
			t.Errorf("instance(%q) accepted", bad)
		}
	}
}
