package platform

import (
	"strings"
	"testing"
)

func TestHTMLText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"plain", "plain"},
		{"<p>Hello</p>", "Hello"},
		{"<p>one</p><p>two</p>", "one\n\ntwo"},
		{"<p>one</p>\n<p>two</p>", "one\n\ntwo"},
		{"<p>a<br>b<br/>c<br />d</p>", "a\nb\nc\nd"},
		{"<p>a<br><br>b</p>", "a\n\nb"},
		{"<p>a<br><br><br><br>b</p>", "a\n\nb"},
		{"<p>end<br></p><p>next</p>", "end\n\nnext"},
		{"<p>  lots \n of\t space  </p>", "lots of space"},
		{`<p><span class="h-card" translate="no"><a href="https://m.example/@acme" class="u-url mention">@<span>acme</span></a></span> hi</p>`, "@acme hi"},
		{`<a href="https://example.com/a/very/long/path" rel="nofollow noopener"><span class="invisible">https://</span><span class="ellipsis">example.com/a/very/</span><span class="invisible">long/path</span></a>`, "https://example.com/a/very/long/path"},
		{"<p>R&amp;D &lt;b&gt; &quot;q&quot; &#39;s&#39; caf&eacute; &#x1F4A1;</p>", `R&D <b> "q" 's' café 💡`},
		{"a < b and c > d", "a < b and c > d"},
		{`<a title="x > y" href='z'>link</a>`, "link"},
		{`<a href=x'y>tag</a>`, "tag"},
		{"<p>text<!-- a comment --> more</p>", "text more"},
		{"<p>cut <b", "cut"},
		{"<script>alert(1)</script><style>p{}</style><p>ok</p>", "ok"},
		{"<ul><li>one</li><li>two</li></ul><p>after</p>", "one\ntwo\n\nafter"},
		{"<blockquote><p>quoted</p></blockquote><p>reply</p>", "quoted\n\nreply"},
		{"<pre><code>a  b\n  c</code></pre><p>x</p>", "a  b\n  c\n\nx"},
		{"<P>Upper<BR>case</P>", "Upper\ncase"},
		{"<table><tr><td>cell</td><td>next</td></tr></table>", "cell next"},
		{"word<img src=x>word", "word word"},
	}
	for _, tt := range tests {
		if got := HTMLText(tt.in); got != tt.want {
			t.Errorf("HTMLText(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzHTMLText(f *testing.F) {
	for _, s := range []string{
		`<p><span class="h-card"><a href="https://m.example/@acme" class="u-url mention">@<span>acme</span></a></span> hi<br />there</p><p>#<span>tag</span></p>`,
		`<pre>  a </pre><ul><li>x</li></ul>`, `<a title="x > y">`, "<!-- x", "<script>", "&amp;&lt;p&gt;", "<p>\u00a0</p>",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := HTMLText(s)
		if strings.Contains(strings.ToLower(s), "pre") {
			return // preformatted text keeps its whitespace
		}
		if strings.Contains(got, "\n\n\n") {
			t.Fatalf("three newlines in %q", got)
		}
		if got != strings.TrimRight(got, " \t\n\r") {
			t.Fatalf("trailing space in %q", got)
		}
		if strings.HasPrefix(got, " ") || strings.HasPrefix(got, "\n") {
			t.Fatalf("leading space in %q", got)
		}
	})
}
