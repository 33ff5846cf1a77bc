package feeds

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// PublicHTTPClient is an HTTP client that connects to public addresses
// only. Feed URLs come from users: without it, one could make the watch
// function read the Lambda Runtime API on 127.0.0.1, a metadata service on
// a link-local address, or a host inside a VPC. The check is made on the
// address actually dialled, so DNS answers and redirects cannot get around
// it.
func PublicHTTPClient(timeout time.Duration) *http.Client {
	d := &net.Dialer{Timeout: 10 * time.Second, Control: publicOnly}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DialContext = d.DialContext
	t.Proxy = nil // a proxy would dial for us, unchecked
	return &http.Client{Timeout: timeout, Transport: t}
}

func publicOnly(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("feed address %q: %w", address, err)
	}
	if !Public(ap.Addr()) {
		return fmt.Errorf("feed host resolves to %s, which is not a public address", ap.Addr())
	}
	return nil
}

// Public reports whether a is a globally routable unicast address.
func Public(a netip.Addr) bool {
	a = a.Unmap()
	if !a.IsGlobalUnicast() || a.IsPrivate() {
		return false
	}
	for _, p := range nonPublic {
		if p.Contains(a) {
			return false
		}
	}
	return true
}

// nonPublic are ranges IsGlobalUnicast and IsPrivate let through.
var nonPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"), // carrier-grade NAT
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("192.0.2.0/24"), // documentation
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("198.51.100.0/24"),
	netip.MustParsePrefix("203.0.113.0/24"),
	netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("64:ff9b::/96"), // NAT64 maps private IPv4 too
	netip.MustParsePrefix("2001:db8::/32"),
}
