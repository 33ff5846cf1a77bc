package mastodon

import "testing"

func TestStatusText(t *testing.T) {
	if got := statusText(" CW: food ", "<p>pizza</p>"); got != "CW: food\n\npizza" {
		t.Errorf("with spoiler: %q", got)
	}
	if got := statusText("only a warning", ""); got != "only a warning" {
		t.Errorf("spoiler alone: %q", got)
	}
}
