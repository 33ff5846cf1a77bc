package meta

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"

	"vigie/internal/platform"
	"vigie/internal/vigie"
)

// Delivery is a webhook POST, parsed.
type Delivery struct {
	Object string // "page", "instagram", ...
	// Changes are the comments and mentions the delivery tells of, in
	// its order, each with the Page or Instagram account id it is for.
	Changes []platform.Change
	// Ignored counts the entries' changes and messages that hold nothing
	// Vigie ingests: reactions, hides, the Page's own posts, messaging[],
	// other fields and objects.
	Ignored int
}

type envelopeJSON struct {
	Object string            `json:"object"`
	Entry  []json.RawMessage `json:"entry"`
}

type entryJSON struct {
	ID            id                `json:"id"`
	Time          unixTime          `json:"time"`
	Changes       []json.RawMessage `json:"changes"`
	Messaging     []json.RawMessage `json:"messaging"`
	ChangedFields []json.RawMessage `json:"changed_fields"`
	// The flat shape documented for Instagram Login apps.
	Field string          `json:"field"`
	Value json.RawMessage `json:"value"`
}

type changeJSON struct {
	Field string          `json:"field"`
	Value json.RawMessage `json:"value"`
}

// ParseDelivery parses a Meta webhook delivery: every entry, in each its
// changes[] (or the flat field/value shape) and messaging[] (counted as
// ignored). Page feed comments become new, edited and removed mentions,
// and posts by visitors on the Page new mentions; Instagram comments and
// live comments become new mentions, and Instagram mentions thin new
// mentions (ids only, see Client.CompleteMention).
//
// Errors: vigie Invalid, naming the field (e.g.
// entry[0].changes[1].value.comment_id), when the body is not JSON, a
// field has the wrong type, or a change to ingest lacks its ids.
func ParseDelivery(body []byte) (Delivery, error) {
	var env envelopeJSON
	if err := platform.Decode(body, &env, ""); err != nil {
		return Delivery{}, err
	}
	if env.Object == "" {
		return Delivery{}, vigie.Invalidf("object", "object is missing")
	}
	d := Delivery{Object: env.Object}
	for i, raw := range env.Entry {
		path := fmt.Sprintf("entry[%d]", i)
		var e entryJSON
		if err := platform.Decode(raw, &e, path); err != nil {
			return Delivery{}, err
		}
		d.Ignored += len(e.Messaging)
		if e.Field != "" {
			if err := d.change(&e, changeJSON{Field: e.Field, Value: e.Value}, path); err != nil {
				return Delivery{}, err
			}
		}
		for j, raw := range e.Changes {
			cpath := fmt.Sprintf("%s.changes[%d]", path, j)
			var c changeJSON
			if err := platform.Decode(raw, &c, cpath); err != nil {
				return Delivery{}, err
			}
			if err := d.change(&e, c, cpath); err != nil {
				return Delivery{}, err
			}
		}
		if len(e.Changes) == 0 && e.Field == "" {
			// "Include values" off: field names only, nothing to ingest.
			d.Ignored += len(e.ChangedFields)
		}
	}
	return d, nil
}

// change adds what one change of entry e tells; path is where it sits.
func (d *Delivery) change(e *entryJSON, c changeJSON, path string) error {
	vpath := path + ".value"
	var (
		ch  *platform.Change
		err error
	)
	switch {
	case d.Object == "page" && c.Field == "feed":
		ch, err = feedChange(e, c.Value, vpath)
	case d.Object == "instagram" && (c.Field == "comments" || c.Field == "live_comments"):
		ch, err = igComment(e, c.Value, vpath)
	case d.Object == "instagram" && c.Field == "mentions":
		ch, err = igMention(e, c.Value, vpath)
	}
	if err != nil {
		return err
	}
	if ch == nil {
		d.Ignored++
		return nil
	}
	if ch.Account == "" {
		return vigie.Invalidf(entryID(path), "%s is missing", entryID(path))
	}
	d.Changes = append(d.Changes, *ch)
	return nil
}

// entryID is the path of the id of the entry holding the change at path.
func entryID(path string) string {
	if i := strings.Index(path, ".changes["); i >= 0 {
		path = path[:i]
	}
	return path + ".id"
}

type fromJSON struct {
	ID       id     `json:"id"`
	Name     string `json:"name"`
	Username string `json:"username"`
}

// postRef is the feed value's post: an object, or in older payloads its
// id alone.
type postRef struct {
	ID           id     `json:"id"`
	PermalinkURL string `json:"permalink_url"`
}

func (p *postRef) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		return json.Unmarshal(b, &p.ID)
	}
	type plain postRef
	return json.Unmarshal(b, (*plain)(p))
}

type feedJSON struct {
	From        *fromJSON `json:"from"`
	SenderID    id        `json:"sender_id"`
	SenderName  string    `json:"sender_name"`
	Post        *postRef  `json:"post"`
	PostID      id        `json:"post_id"`
	CommentID   id        `json:"comment_id"`
	ParentID    id        `json:"parent_id"`
	CreatedTime unixTime  `json:"created_time"`
	Item        string    `json:"item"`
	Verb        string    `json:"verb"`
	Message     string    `json:"message"`
}

// feedOp maps a feed verb to an op; ok is false for verbs Vigie ignores
// (hide, unhide, block, ...).
func feedOp(verb string) (platform.Op, bool) {
	switch verb {
	case "add":
		return platform.OpNew, true
	case "edited", "edit":
		return platform.OpEdit, true
	case "remove", "delete":
		return platform.OpRemove, true
	}
	return "", false
}

// feedChange reads a Page feed change: comments and replies, and posts by
// visitors on the Page. Anything else (reactions, the Page's own posts,
// hides, shares...) gives nil.
func feedChange(e *entryJSON, raw json.RawMessage, path string) (*platform.Change, error) {
	var v feedJSON
	if err := platform.Decode(raw, &v, path); err != nil {
		return nil, err
	}
	op, ok := feedOp(v.Verb)
	if !ok {
		return nil, nil
	}
	page := string(e.ID)
	author := vigie.Author{ID: string(v.SenderID), Name: v.SenderName}
	if v.From != nil {
		author = vigie.Author{ID: string(v.From.ID), Name: v.From.Name}
	}
	postID := string(v.PostID)
	permalink := ""
	if v.Post != nil {
		if postID == "" {
			postID = string(v.Post.ID)
		}
		permalink = v.Post.PermalinkURL
	}
	m := &vigie.Mention{Platform: platform.Facebook, Author: author, Text: v.Message, CreatedAt: v.CreatedTime.Time}
	if m.CreatedAt.IsZero() {
		m.CreatedAt = e.Time.Time
	}
	switch v.Item {
	case "comment":
		if v.CommentID == "" {
			return nil, vigie.Invalidf(path+".comment_id", "%s.comment_id is missing", path)
		}
		m.ExternalID, m.ThreadID = string(v.CommentID), postID
		m.ParentID = string(v.ParentID)
		m.Kind = vigie.KindComment
		if m.ParentID != "" && m.ParentID != postID {
			m.Kind = vigie.KindReply
		}
		m.URL = commentURL(permalink, m.ExternalID)
	case "post", "status", "photo", "video":
		// A post on the Page's timeline: a mention when a visitor wrote
		// it; the Page's own posts are not mentions, and without an
		// author it cannot be told which.
		if author.ID == "" || author.ID == page {
			return nil, nil
		}
		if postID == "" {
			return nil, vigie.Invalidf(path+".post_id", "%s.post_id is missing", path)
		}
		m.ExternalID, m.ThreadID = postID, postID
		m.Kind = vigie.KindMention
		m.URL = permalink
	default:
		return nil, nil
	}
	return &platform.Change{Op: op, Account: page, Mention: m}, nil
}

// commentURL links to a comment under its post: the post's permalink with
// comment_id, the comment part of the id ({post-id}_{comment-id}).
func commentURL(permalink, commentID string) string {
	if permalink == "" {
		return ""
	}
	u, err := url.Parse(permalink)
	if err != nil || u.Scheme != "https" {
		return ""
	}
	_, c, ok := strings.Cut(commentID, "_")
	if !ok {
		c = commentID
	}
	q := u.Query()
	q.Set("comment_id", c)
	u.RawQuery = q.Encode()
	return u.String()
}

type igCommentJSON struct {
	ID        id        `json:"id"`
	CommentID id        `json:"comment_id"`
	From      *fromJSON `json:"from"`
	Text      string    `json:"text"`
	Media     *struct {
		ID id `json:"id"`
	} `json:"media"`
	ParentID id `json:"parent_id"`
}

// igComment reads an Instagram comments or live_comments change.
func igComment(e *entryJSON, raw json.RawMessage, path string) (*platform.Change, error) {
	var v igCommentJSON
	if err := platform.Decode(raw, &v, path); err != nil {
		return nil, err
	}
	ext := string(v.ID)
	if ext == "" {
		ext = string(v.CommentID) // the Facebook Login doc's example
	}
	if ext == "" {
		return nil, vigie.Invalidf(path+".id", "%s.id is missing", path)
	}
	m := &vigie.Mention{Platform: platform.Instagram, Kind: vigie.KindComment, ExternalID: ext,
		ParentID: string(v.ParentID), Text: v.Text, CreatedAt: e.Time.Time}
	if m.ParentID != "" {
		m.Kind = vigie.KindReply
	}
	if v.Media != nil {
		m.ThreadID = string(v.Media.ID)
	}
	if v.From != nil {
		m.Author = vigie.Author{ID: string(v.From.ID), Handle: v.From.Username}
	}
	return &platform.Change{Op: platform.OpNew, Account: string(e.ID), Mention: m}, nil
}

type igMentionJSON struct {
	MediaID   id `json:"media_id"`
	CommentID id `json:"comment_id"`
}

// igMention reads an Instagram mentions change: ids only. The change is
// Thin: ExternalID is the comment's id when the account was mentioned in
// a comment, else the media's; ThreadID is the media's id in both cases.
// So ExternalID != ThreadID tells a comment mention (see CompleteMention).
func igMention(e *entryJSON, raw json.RawMessage, path string) (*platform.Change, error) {
	var v igMentionJSON
	if err := platform.Decode(raw, &v, path); err != nil {
		return nil, err
	}
	ext := string(v.CommentID)
	if ext == "" {
		ext = string(v.MediaID)
	}
	if ext == "" {
		return nil, vigie.Invalidf(path+".media_id", "%s.media_id is missing", path)
	}
	m := &vigie.Mention{Platform: platform.Instagram, Kind: vigie.KindMention, ExternalID: ext,
		ThreadID: string(v.MediaID), CreatedAt: e.Time.Time}
	return &platform.Change{Op: platform.OpNew, Account: string(e.ID), Mention: m, Thin: true}, nil
}
