package vigie

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestValidID(t *testing.T) {
	for id, want := range map[string]bool{
		"acme": true, "a1": true, "maison-lumen": true, strings.Repeat("a", 63): true,
		"": false, "a": false, "-acme": false, "Acme": false, "ac_me": false, "ac.me": false, "acmé": false,
		strings.Repeat("a", 64): false, "a b": false,
	} {
		if got := ValidID(id); got != want {
			t.Errorf("ValidID(%q) = %v, want %v", id, got, want)
		}
	}
}

func TestMentionID(t *testing.T) {
	a := MentionID("forum", "1")
	if a != MentionID("forum", "1") || len(a) != 26 || !strings.HasPrefix(a, "m_") {
		t.Errorf("MentionID = %q: want a stable m_ + 24 hex digits", a)
	}
	// The separator keeps ("ab","c") and ("a","bc") apart.
	if MentionID("ab", "c") == MentionID("a", "bc") || MentionID("forum", "1") == MentionID("blog", "1") {
		t.Error("distinct platform/external id pairs share an id")
	}
}

func TestErrorKinds(t *testing.T) {
	base := Invalidf("mentions[0].text", "text is empty")
	wrapped := fmt.Errorf("ingest: %w", base)
	if ErrorKind(wrapped) != KindInvalid || !IsKind(wrapped, KindInvalid) || IsKind(nil, KindInvalid) {
		t.Errorf("kind of wrapped error = %q", ErrorKind(wrapped))
	}
	if ErrorKind(errors.New("plain")) != KindInternal {
		t.Error("a plain error is not internal")
	}
	cause := errors.New("dial tcp: refused")
	e := &Error{Kind: KindUnavailable, Message: "store down", Err: cause}
	if !errors.Is(e, cause) || e.Error() != "store down: dial tcp: refused" {
		t.Errorf("Error() = %q, Unwrap lost the cause", e.Error())
	}
}

func TestNewMentionReceived(t *testing.T) {
	m := &Mention{ID: MentionID("forum", "1"), Workspace: "acme", Platform: "forum", ExternalID: "1", ReceivedAt: time.Unix(0, 0)}
	ev, err := NewMentionReceived(m)
	if err != nil || ev.Type != EventMentionReceived || ev.Workspace != "acme" || ev.ID != "ev_"+m.ID[2:] ||
		!strings.Contains(string(ev.Detail), `"workspace":"acme"`) || !strings.Contains(string(ev.Detail), `"platform":"forum"`) {
		t.Errorf("NewMentionReceived = %+v, %v", ev, err)
	}
}
