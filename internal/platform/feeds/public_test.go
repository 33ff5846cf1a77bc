package feeds_test

import (
	"context"
	"net/netip"
	"strings"
	"testing"
	"time"

	"vigie/internal/platform"
	"vigie/internal/platform/feeds"
	"vigie/internal/platform/feeds/feedsfake"
)

func TestPublic(t *testing.T) {
	for addr, want := range map[string]bool{
		"93.184.215.14": true, "2606:2800:21f:cb07:6820:80da:af6b:8b2c": true,
		"127.0.0.1": false, "::1": false, "10.1.2.3": false, "172.16.0.1": false, "192.168.1.1": false,
		"169.254.169.254": false, "fe80::1": false, "fd00::1": false, "100.64.0.1": false, "0.0.0.0": false,
		"::ffff:127.0.0.1": false, "224.0.0.1": false, "64:ff9b::a00:1": false,
	} {
		if got := feeds.Public(netip.MustParseAddr(addr)); got != want {
			t.Errorf("Public(%s) = %v, want %v", addr, got, want)
		}
	}
}

// TestPublicHTTPClient: a feed on a loopback address, directly or through
// a redirect, is refused before any byte is sent.
func TestPublicHTTPClient(t *testing.T) {
	f := feedsfake.New(t)
	u := f.AddFeed(feedsfake.GoogleAlertsPath("lumen"), feedsfake.GoogleAlerts, "lumen")
	c := &feeds.Client{HTTP: feeds.PublicHTTPClient(5 * time.Second)}
	for _, target := range []string{u, strings.Replace(u, "127.0.0.1", "localhost", 1)} {
		_, err := c.Fetch(context.Background(), target, "", platform.Limits{})
		if err == nil || !strings.Contains(err.Error(), "not a public address") {
			t.Errorf("%s: %v", target, err)
		}
	}
	if n := len(f.Requests()); n != 0 {
		t.Errorf("the fake got %d requests", n)
	}
}
