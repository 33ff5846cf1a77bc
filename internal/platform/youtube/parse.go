package youtube

import (
	"encoding/json"
	"fmt"
	"html"
	"net/url"
	"strings"
	"time"

	"vigie/internal/platform"
	"vigie/internal/vigie"
)

// Page is one answer of commentThreads.list, parsed.
type Page struct {
	NextPageToken string
	Threads       []Thread
}

// Thread is a comment thread: its top-level comment and the replies the
// API embedded in it (not necessarily all of them).
type Thread struct {
	ID string
	// PublishedAt is the top-level comment's: what order=time sorts by.
	PublishedAt time.Time
	Comment     *vigie.Mention
	Replies     []*vigie.Mention
}

// Changes returns the thread's comment and replies as new mentions for
// account, the channel polled.
func (t Thread) Changes(account string) []platform.Change {
	cs := make([]platform.Change, 0, 1+len(t.Replies))
	cs = append(cs, platform.Change{Op: platform.OpNew, Account: account, Mention: t.Comment})
	for _, r := range t.Replies {
		cs = append(cs, platform.Change{Op: platform.OpNew, Account: account, Mention: r})
	}
	return cs
}

type listJSON struct {
	Kind          string       `json:"kind"`
	NextPageToken string       `json:"nextPageToken"`
	Items         []threadJSON `json:"items"`
}

type threadJSON struct {
	Kind    string `json:"kind"`
	ID      string `json:"id"`
	Snippet struct {
		ChannelID       string       `json:"channelId"`
		VideoID         string       `json:"videoId"`
		TopLevelComment *commentJSON `json:"topLevelComment"`
		TotalReplyCount int64        `json:"totalReplyCount"`
	} `json:"snippet"`
	Replies *struct {
		Comments []commentJSON `json:"comments"`
	} `json:"replies"`
}

type commentJSON struct {
	ID      string `json:"id"`
	Snippet struct {
		VideoID           string `json:"videoId"`
		ParentID          string `json:"parentId"`
		TextDisplay       string `json:"textDisplay"`
		TextOriginal      string `json:"textOriginal"`
		AuthorDisplayName string `json:"authorDisplayName"`
		AuthorChannelURL  string `json:"authorChannelUrl"`
		AuthorChannelID   *struct {
			Value string `json:"value"`
		} `json:"authorChannelId"`
		LikeCount   int64  `json:"likeCount"`
		PublishedAt string `json:"publishedAt"`
	} `json:"snippet"`
}

// ParseCommentThreads parses a commentThreads.list answer (part
// snippet,replies). Errors are vigie Invalid errors naming the field.
func ParseCommentThreads(body []byte) (*Page, error) {
	var l listJSON
	if err := json.Unmarshal(body, &l); err != nil {
		return nil, vigie.Invalidf("body", "YouTube comment threads: malformed JSON: %v", err)
	}
	if l.Kind != "" && l.Kind != "youtube#commentThreadListResponse" {
		return nil, vigie.Invalidf("kind", "YouTube comment threads: unexpected kind %q", l.Kind)
	}
	p := &Page{NextPageToken: l.NextPageToken, Threads: make([]Thread, 0, len(l.Items))}
	for i, it := range l.Items {
		field := fmt.Sprintf("items[%d]", i)
		if it.ID == "" {
			return nil, vigie.Invalidf(field+".id", "YouTube comment thread without an id")
		}
		top := it.Snippet.TopLevelComment
		if top == nil {
			return nil, vigie.Invalidf(field+".snippet.topLevelComment", "YouTube comment thread without its top-level comment")
		}
		videoID := it.Snippet.VideoID
		if videoID == "" {
			videoID = top.Snippet.VideoID
		}
		c, err := comment(top, field+".snippet.topLevelComment", videoID)
		if err != nil {
			return nil, err
		}
		c.Kind = vigie.KindComment
		c.ThreadID = it.ID
		c.Metrics["replies"] = it.Snippet.TotalReplyCount
		t := Thread{ID: it.ID, PublishedAt: c.CreatedAt, Comment: c}
		if it.Replies != nil {
			for j := range it.Replies.Comments {
				r, err := comment(&it.Replies.Comments[j], fmt.Sprintf("%s.replies.comments[%d]", field, j), videoID)
				if err != nil {
					return nil, err
				}
				r.Kind = vigie.KindReply
				r.ThreadID = it.ID
				// Replies on YouTube are one level deep: they all answer
				// the top-level comment.
				r.ParentID = c.ExternalID
				t.Replies = append(t.Replies, r)
			}
		}
		p.Threads = append(p.Threads, t)
	}
	return p, nil
}

func comment(cj *commentJSON, field, videoID string) (*vigie.Mention, error) {
	if cj.ID == "" {
		return nil, vigie.Invalidf(field+".id", "YouTube comment without an id")
	}
	s := cj.Snippet
	at, err := time.Parse(time.RFC3339Nano, s.PublishedAt)
	if err != nil {
		return nil, vigie.Invalidf(field+".snippet.publishedAt", "YouTube comment: bad publishedAt %q", s.PublishedAt)
	}
	if s.VideoID != "" {
		videoID = s.VideoID
	}
	text := s.TextOriginal
	if text == "" {
		// textOriginal is only returned to the comment's author in
		// some cases; textDisplay may then be HTML.
		text = plainText(s.TextDisplay)
	}
	m := &vigie.Mention{
		Platform:   platform.YouTube,
		ExternalID: cj.ID,
		Author: vigie.Author{
			Handle: handle(s.AuthorDisplayName, s.AuthorChannelURL),
			Name:   s.AuthorDisplayName,
		},
		Text:      text,
		CreatedAt: at.UTC(),
		Metrics:   map[string]int64{"likes": s.LikeCount},
	}
	if s.AuthorChannelID != nil {
		m.Author.ID = s.AuthorChannelID.Value
	}
	if videoID != "" {
		m.URL = "https://www.youtube.com/watch?v=" + url.QueryEscape(videoID) + "&lc=" + url.QueryEscape(cj.ID)
	}
	return m, nil
}

// handle is the author's @handle without the @: YouTube shows handles as
// display names ("@viewer123"); older accounts show a name, and the handle
// is then read from the channel URL when it has one.
func handle(display, channelURL string) string {
	if h, ok := strings.CutPrefix(display, "@"); ok && h != "" && !strings.ContainsAny(h, " \t\n") {
		return h
	}
	if i := strings.LastIndex(channelURL, "/@"); i >= 0 {
		if h := channelURL[i+2:]; h != "" && !strings.ContainsAny(h, "/?# ") {
			if u, err := url.PathUnescape(h); err == nil {
				return u
			}
		}
	}
	return ""
}

// plainText strips tags from YouTube's HTML text (links, <br>, <b>) and
// unescapes entities.
func plainText(s string) string {
	var b strings.Builder
	for {
		i := strings.IndexByte(s, '<')
		if i < 0 {
			b.WriteString(s)
			break
		}
		b.WriteString(s[:i])
		j := strings.IndexByte(s[i:], '>')
		if j < 0 {
			break // an unclosed tag: drop the rest of it
		}
		tag := strings.ToLower(s[i+1 : i+j])
		if tag == "br" || tag == "br/" || tag == "br /" {
			b.WriteByte('\n')
		}
		s = s[i+j+1:]
	}
	return strings.TrimSpace(html.UnescapeString(b.String()))
}
