package webhook

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"vigie/internal/vigie"
)

// The vector from the reference Go library (shared/reference/platforms.md §10.1).
const (
	vecSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	vecID     = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	vecTS     = 1614265330
	vecBody   = `{"test": 2432232314}`
	vecSig    = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

func TestSign_ReferenceVector(t *testing.T) {
	secret, err := ParseSecret(vecSecret)
	if err != nil {
		t.Fatal(err)
	}
	if got := Sign(secret, vecID, time.Unix(vecTS, 0), []byte(vecBody)); got != vecSig {
		t.Errorf("Sign = %q, want %q", got, vecSig)
	}
}

func TestVerify(t *testing.T) {
	secret, _ := ParseSecret(vecSecret)
	now := time.Unix(vecTS, 0)
	good := func() http.Header {
		h := http.Header{}
		h.Set(HeaderID, vecID)
		h.Set(HeaderTimestamp, "1614265330")
		h.Set(HeaderSignature, vecSig)
		return h
	}
	tests := []struct {
		name     string
		edit     func(h http.Header)
		body     string
		now      time.Time
		wantCode string // "" means accepted
	}{
		{name: "valid", edit: func(http.Header) {}},
		{name: "rotation, second signature matches", edit: func(h http.Header) { h.Set(HeaderSignature, "v1,AAAA "+vecSig) }},
		{name: "asymmetric signature ignored", edit: func(h http.Header) { h.Set(HeaderSignature, "v1a,"+strings.TrimPrefix(vecSig, "v1,")) }, wantCode: "bad_signature"},
		{name: "missing id", edit: func(h http.Header) { h.Del(HeaderID) }, wantCode: "missing_signature"},
		{name: "missing timestamp", edit: func(h http.Header) { h.Del(HeaderTimestamp) }, wantCode: "missing_signature"},
		{name: "missing signature", edit: func(h http.Header) { h.Del(HeaderSignature) }, wantCode: "missing_signature"},
		{name: "wrong signature", edit: func(h http.Header) { h.Set(HeaderSignature, "v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=") }, wantCode: "bad_signature"},
		{name: "not base64", edit: func(h http.Header) { h.Set(HeaderSignature, "v1,!!!") }, wantCode: "bad_signature"},
		{name: "tampered body", edit: func(http.Header) {}, body: `{"test": 2432232315}`, wantCode: "bad_signature"},
		{name: "bad timestamp", edit: func(h http.Header) { h.Set(HeaderTimestamp, "yesterday") }, wantCode: "bad_timestamp"},
		{name: "signed timestamp", edit: func(h http.Header) { h.Set(HeaderTimestamp, "+1614265330") }, wantCode: "bad_timestamp"},
		{name: "too old", edit: func(http.Header) {}, now: now.Add(5*time.Minute + time.Second), wantCode: "stale_timestamp"},
		{name: "too new", edit: func(http.Header) {}, now: now.Add(-5*time.Minute - time.Second), wantCode: "stale_timestamp"},
		{name: "at tolerance", edit: func(http.Header) {}, now: now.Add(5 * time.Minute)},
		{name: "id with dot", edit: func(h http.Header) { h.Set(HeaderID, "a.b") }, wantCode: "bad_signature"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := good()
			tt.edit(h)
			body, at := vecBody, now
			if tt.body != "" {
				body = tt.body
			}
			if !tt.now.IsZero() {
				at = tt.now
			}
			id, err := Verify(secret, h, []byte(body), at, DefaultTolerance)
			if tt.wantCode == "" {
				if err != nil || id != vecID {
					t.Fatalf("Verify = %q, %v; want %q, nil", id, err, vecID)
				}
				return
			}
			e, ok := vigie.AsError(err)
			if !ok || e.Kind != vigie.KindUnauthorized || e.Code != tt.wantCode {
				t.Fatalf("Verify error = %v, want unauthorized %s", err, tt.wantCode)
			}
			if strings.Contains(err.Error(), strings.TrimPrefix(vecSig, "v1,")) {
				t.Errorf("error leaks the expected signature: %v", err)
			}
		})
	}
}

func TestSecret_RoundTripAndRedaction(t *testing.T) {
	s := NewSecret()
	got, err := ParseSecret(s.Encode())
	if err != nil || string(got) != string(s) {
		t.Fatalf("ParseSecret(Encode()) = %x, %v", got, err)
	}
	if s.String() != "[secret]" {
		t.Errorf("String() = %q, must hide the key", s.String())
	}
	if _, err := ParseSecret("whsec_not base64!"); !vigie.IsKind(err, vigie.KindInvalid) {
		t.Errorf("ParseSecret(bad) error = %v, want invalid", err)
	}
}
