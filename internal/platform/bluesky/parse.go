package bluesky

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"

	"vigie/internal/platform"
	"vigie/internal/vigie"
)

// Page is one answer of listNotifications or searchPosts, parsed.
type Page struct {
	// Cursor asks for the next, older page; empty at the end. The API may
	// also end with an empty page.
	Cursor string
	Items  []Item
}

// Item is one notification or one post found by a search.
type Item struct {
	URI string // the AT-URI of the notification's record or of the post
	// SortAt is what the list is sorted by, newest first: a notification's
	// indexedAt; for a post found by search, the earlier of its createdAt
	// and indexedAt (the search service sorts by creation time, which a
	// client sets; bounding it by the indexing time keeps a post dated in
	// the future from staying on top).
	SortAt time.Time
	Reason string // the notification's reason; empty for search results
	// Mention is the post, with Kind set; nil for notifications that are
	// not about a post naming or answering the account (likes, follows…).
	Mention *vigie.Mention
}

// reasonKinds are the notification reasons kept, with the mention kind
// each gives: a quote embeds one of the account's posts, which names the
// account as a mention does.
var reasonKinds = map[string]string{
	"mention": vigie.KindMention,
	"reply":   vigie.KindReply,
	"quote":   vigie.KindMention,
}

type profileJSON struct {
	DID         string `json:"did"`
	Handle      string `json:"handle"`
	DisplayName string `json:"displayName"`
}

type strongRefJSON struct {
	URI string `json:"uri"`
	CID string `json:"cid"`
}

// postRecordJSON is an app.bsky.feed.post record, the fields read.
type postRecordJSON struct {
	Type      string `json:"$type"`
	Text      string `json:"text"`
	CreatedAt string `json:"createdAt"`
	Reply     *struct {
		Root   strongRefJSON `json:"root"`
		Parent strongRefJSON `json:"parent"`
	} `json:"reply"`
}

type notificationJSON struct {
	URI           string      `json:"uri"`
	CID           string      `json:"cid"`
	Author        profileJSON `json:"author"`
	Reason        string      `json:"reason"`
	ReasonSubject string      `json:"reasonSubject"`
	// Record is decoded only for the reasons kept: others hold likes,
	// follows and other record types.
	Record    json.RawMessage `json:"record"`
	IsRead    bool            `json:"isRead"`
	IndexedAt string          `json:"indexedAt"`
}

type postViewJSON struct {
	URI         string          `json:"uri"`
	CID         string          `json:"cid"`
	Author      profileJSON     `json:"author"`
	Record      json.RawMessage `json:"record"`
	ReplyCount  *int64          `json:"replyCount"`
	RepostCount *int64          `json:"repostCount"`
	LikeCount   *int64          `json:"likeCount"`
	QuoteCount  *int64          `json:"quoteCount"`
	IndexedAt   string          `json:"indexedAt"`
}

// ParseNotifications parses an app.bsky.notification.listNotifications
// answer. Every notification becomes an Item; those whose reason is
// mention, reply or quote carry their post as a Mention. Errors are vigie
// Invalid errors naming the field.
func ParseNotifications(body []byte) (*Page, error) {
	var l struct {
		Cursor        string              `json:"cursor"`
		Notifications *[]notificationJSON `json:"notifications"`
	}
	if err := json.Unmarshal(body, &l); err != nil {
		return nil, vigie.Invalidf("body", "Bluesky notifications: malformed JSON: %v", err)
	}
	if l.Notifications == nil {
		return nil, vigie.Invalidf("notifications", "Bluesky notifications: the notifications list is missing")
	}
	p := &Page{Cursor: l.Cursor, Items: make([]Item, 0, len(*l.Notifications))}
	for i, n := range *l.Notifications {
		field := fmt.Sprintf("notifications[%d]", i)
		if n.URI == "" {
			return nil, vigie.Invalidf(field+".uri", "Bluesky notification without a uri")
		}
		at, err := parseTime(n.IndexedAt)
		if err != nil {
			return nil, vigie.Invalidf(field+".indexedAt", "Bluesky notification: bad indexedAt %q", n.IndexedAt)
		}
		it := Item{URI: n.URI, SortAt: at, Reason: n.Reason}
		if kind, ok := reasonKinds[n.Reason]; ok {
			m, err := post(n.URI, n.Author, n.Record, at, field)
			if err != nil {
				return nil, err
			}
			m.Kind = kind
			it.Mention = m
		}
		p.Items = append(p.Items, it)
	}
	return p, nil
}

// ParseSearchPosts parses an app.bsky.feed.searchPosts answer: each post
// is a Mention of kind post, or reply when it answers another, with its
// counts as metrics (likes, reposts, replies, quotes). Errors are vigie
// Invalid errors naming the field.
func ParseSearchPosts(body []byte) (*Page, error) {
	var l struct {
		Cursor string          `json:"cursor"`
		Posts  *[]postViewJSON `json:"posts"`
	}
	if err := json.Unmarshal(body, &l); err != nil {
		return nil, vigie.Invalidf("body", "Bluesky search: malformed JSON: %v", err)
	}
	if l.Posts == nil {
		return nil, vigie.Invalidf("posts", "Bluesky search: the posts list is missing")
	}
	p := &Page{Cursor: l.Cursor, Items: make([]Item, 0, len(*l.Posts))}
	for i, pv := range *l.Posts {
		field := fmt.Sprintf("posts[%d]", i)
		if pv.URI == "" {
			return nil, vigie.Invalidf(field+".uri", "Bluesky post without a uri")
		}
		at, err := parseTime(pv.IndexedAt)
		if err != nil {
			return nil, vigie.Invalidf(field+".indexedAt", "Bluesky post: bad indexedAt %q", pv.IndexedAt)
		}
		m, err := post(pv.URI, pv.Author, pv.Record, at, field)
		if err != nil {
			return nil, err
		}
		m.Kind = vigie.KindPost
		if m.ParentID != "" {
			m.Kind = vigie.KindReply
		}
		for name, n := range map[string]*int64{"likes": pv.LikeCount, "reposts": pv.RepostCount, "replies": pv.ReplyCount, "quotes": pv.QuoteCount} {
			if n != nil {
				if m.Metrics == nil {
					m.Metrics = map[string]int64{}
				}
				m.Metrics[name] = *n
			}
		}
		sortAt := at
		if m.CreatedAt.Before(at) {
			sortAt = m.CreatedAt
		}
		p.Items = append(p.Items, Item{URI: pv.URI, SortAt: sortAt, Mention: m})
	}
	return p, nil
}

// post turns a post record into a mention, Kind unset. indexedAt stands
// for createdAt when the record's is missing or malformed: clients write
// it, and one odd post must not make the whole page unreadable.
func post(uri string, author profileJSON, raw json.RawMessage, indexedAt time.Time, field string) (*vigie.Mention, error) {
	var rec postRecordJSON
	if len(raw) == 0 || string(raw) == "null" {
		return nil, vigie.Invalidf(field+".record", "Bluesky post without its record")
	}
	if err := json.Unmarshal(raw, &rec); err != nil {
		return nil, vigie.Invalidf(field+".record", "Bluesky post: malformed record: %v", err)
	}
	created, err := parseTime(rec.CreatedAt)
	if err != nil {
		created = indexedAt
	}
	handle := author.Handle
	if handle == "handle.invalid" {
		handle = "" // what the app view shows when the handle does not resolve
	}
	m := &vigie.Mention{
		Platform:   platform.Bluesky,
		ExternalID: uri,
		ThreadID:   uri,
		Author:     vigie.Author{ID: author.DID, Handle: handle, Name: author.DisplayName},
		Text:       rec.Text,
		URL:        postURL(uri, handle, author.DID),
		CreatedAt:  created,
	}
	if r := rec.Reply; r != nil {
		m.ParentID = r.Parent.URI
		switch {
		case r.Root.URI != "":
			m.ThreadID = r.Root.URI
		case r.Parent.URI != "":
			m.ThreadID = r.Parent.URI
		}
	}
	return m, nil
}

// postURL is the post's page on bsky.app, by handle (or DID when the
// handle is unknown): https://bsky.app/profile/<handle>/post/<rkey>. It is
// empty when uri is not a post's AT-URI.
func postURL(uri, handle, did string) string {
	rest, ok := strings.CutPrefix(uri, "at://")
	if !ok {
		return ""
	}
	parts := strings.Split(rest, "/")
	if len(parts) != 3 || parts[1] != "app.bsky.feed.post" || parts[0] == "" || parts[2] == "" {
		return ""
	}
	who := handle
	if who == "" {
		who = did
	}
	if who == "" {
		who = parts[0] // the repo's DID
	}
	return "https://bsky.app/profile/" + url.PathEscape(who) + "/post/" + url.PathEscape(parts[2])
}

// parseTime parses an AT Protocol datetime (RFC 3339, any fraction).
func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, err
	}
	return t.UTC(), nil
}

// session is what createSession and refreshSession answer, the fields
// used. Its tokens must never reach an error or a log.
type session struct {
	DID     string
	Handle  string
	Access  string
	Refresh string
}

// parseSession parses a createSession or refreshSession answer.
func parseSession(body []byte) (*session, error) {
	var s struct {
		DID        string `json:"did"`
		Handle     string `json:"handle"`
		AccessJwt  string `json:"accessJwt"`
		RefreshJwt string `json:"refreshJwt"`
	}
	if err := json.Unmarshal(body, &s); err != nil {
		// Without the JSON error's detail: it may quote a character of a
		// token.
		return nil, vigie.Invalidf("body", "Bluesky session: malformed JSON")
	}
	switch {
	case s.AccessJwt == "":
		return nil, vigie.Invalidf("accessJwt", "Bluesky session without an access token")
	case s.RefreshJwt == "":
		return nil, vigie.Invalidf("refreshJwt", "Bluesky session without a refresh token")
	case !strings.HasPrefix(s.DID, "did:"):
		return nil, vigie.Invalidf("did", "Bluesky session without the account's DID")
	}
	return &session{DID: s.DID, Handle: s.Handle, Access: s.AccessJwt, Refresh: s.RefreshJwt}, nil
}
