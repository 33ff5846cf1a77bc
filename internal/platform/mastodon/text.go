package mastodon

import (
	"strings"

	"vigie/internal/platform"
)

// statusText is what a status says as plain text: its content warning
// (spoiler_text, plain text already), then its content (HTML).
func statusText(spoiler, content string) string {
	text := platform.HTMLText(content)
	if s := strings.TrimSpace(spoiler); s != "" {
		if text == "" {
			return s
		}
		return s + "\n\n" + text
	}
	return text
}
