package cursor

import (
	"strings"
	"testing"
)

func TestCodec_RoundTrip(t *testing.T) {
	c, err := New([]byte("k1"))
	if err != nil {
		t.Fatal(err)
	}
	for _, pos := range []string{"", "2026-01-02T03:04:05.000000000Z#m_1", strings.Repeat("x", 500)} {
		tok := c.Encode("scope", pos)
		got, err := c.Decode("scope", tok)
		if err != nil || got != pos {
			t.Errorf("Decode(Encode(%q)) = %q, %v", pos, got, err)
		}
	}
}

func TestCodec_Decode_Rejects(t *testing.T) {
	c, _ := New([]byte("k1"))
	other, _ := New([]byte("k2"))
	tok := c.Encode("ws-a|since|until", "pos")
	flipped := []byte(tok)
	flipped[3] ^= 1
	tests := []struct {
		name, scope, token string
	}{
		{"other scope", "ws-b|since|until", tok},
		{"other key", "ws-a|since|until", other.Encode("ws-a|since|until", "pos")},
		{"flipped char", "ws-a|since|until", string(flipped)},
		{"truncated", "ws-a|since|until", tok[:len(tok)-2]},
		{"empty", "ws-a|since|until", ""},
		{"not base64", "ws-a|since|until", "!!!!"},
		{"padded", "ws-a|since|until", tok + "="},
		{"too long", "ws-a|since|until", strings.Repeat("A", MaxLen+4)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := c.Decode(tt.scope, tt.token); err != ErrInvalid {
				t.Errorf("Decode = %v, want ErrInvalid", err)
			}
		})
	}
}

func TestCodec_Decode_EveryCharacterMatters(t *testing.T) {
	c, _ := New([]byte("k"))
	tok := c.Encode("s", "2026-01-02T03:04:05.000000000Z#m_1")
	for i := range tok {
		b := []byte(tok)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		if _, err := c.Decode("s", string(b)); err == nil {
			t.Errorf("token with character %d changed was accepted", i)
		}
	}
}

func TestNew_EmptyKey(t *testing.T) {
	if _, err := New(nil); err == nil {
		t.Error("New(nil) succeeded, want an error")
	}
}
