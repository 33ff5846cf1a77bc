package mastodon

import (
	"encoding/json"
	"fmt"
	"time"

	"vigie/internal/platform"
	"vigie/internal/vigie"
)

// Item is one entry of a page. ID is its place in the list, what the
// cursor and min_id count in: the notification's id, or the status's for a
// timeline. Mention is nil for an entry with nothing to ingest (a
// notification without a status, a boost).
type Item struct {
	ID      string
	Mention *vigie.Mention
}

type accountJSON struct {
	ID             string `json:"id"`
	Username       string `json:"username"`
	Acct           string `json:"acct"`
	DisplayName    string `json:"display_name"`
	FollowersCount *int64 `json:"followers_count"`
}

type statusJSON struct {
	ID              string           `json:"id"`
	CreatedAt       string           `json:"created_at"`
	InReplyToID     *string          `json:"in_reply_to_id"`
	SpoilerText     string           `json:"spoiler_text"`
	URI             string           `json:"uri"`
	URL             *string          `json:"url"`
	Content         string           `json:"content"`
	Account         *accountJSON     `json:"account"`
	RepliesCount    *int64           `json:"replies_count"`
	ReblogsCount    *int64           `json:"reblogs_count"`
	FavouritesCount *int64           `json:"favourites_count"`
	Reblog          *json.RawMessage `json:"reblog"`
}

type notificationJSON struct {
	ID      string       `json:"id"`
	Type    string       `json:"type"`
	Account *accountJSON `json:"account"`
	Status  *statusJSON  `json:"status"`
}

// ParseNotifications parses a GET /api/v1/notifications answer. Mention
// notifications with a status become mentions (Kind reply when the status
// answers another, mention otherwise); other notifications are items
// without a mention. instance is the host of the instance that answered,
// which qualifies the ids (see ExternalID). Errors are vigie Invalid
// errors naming the field.
func ParseNotifications(body []byte, instance string) ([]Item, error) {
	var ns []notificationJSON
	if err := json.Unmarshal(body, &ns); err != nil {
		return nil, vigie.Invalidf("body", "Mastodon notifications: malformed JSON: %v", err)
	}
	items := make([]Item, 0, len(ns))
	for i := range ns {
		n := &ns[i]
		field := fmt.Sprintf("[%d]", i)
		if !ValidID(n.ID) {
			return nil, vigie.Invalidf(field+".id", "Mastodon notification without a valid id")
		}
		it := Item{ID: n.ID}
		if n.Type == "mention" && n.Status != nil {
			m, err := mention(n.Status, n.Account, instance, field+".status")
			if err != nil {
				return nil, err
			}
			if m != nil && m.Kind == "" {
				m.Kind = vigie.KindMention
			}
			it.Mention = m
		}
		items = append(items, it)
	}
	return items, nil
}

// ParseStatuses parses a list of statuses, as timelines answer (GET
// /api/v1/timelines/tag/:hashtag). Statuses become mentions of Kind post,
// or reply when they answer another; boosts are items without a mention.
// instance is as for ParseNotifications.
func ParseStatuses(body []byte, instance string) ([]Item, error) {
	var ss []statusJSON
	if err := json.Unmarshal(body, &ss); err != nil {
		return nil, vigie.Invalidf("body", "Mastodon statuses: malformed JSON: %v", err)
	}
	items := make([]Item, 0, len(ss))
	for i := range ss {
		field := fmt.Sprintf("[%d]", i)
		if !ValidID(ss[i].ID) {
			return nil, vigie.Invalidf(field+".id", "Mastodon status without a valid id")
		}
		m, err := mention(&ss[i], nil, instance, field)
		if err != nil {
			return nil, err
		}
		if m != nil && m.Kind == "" {
			m.Kind = vigie.KindPost
		}
		items = append(items, Item{ID: ss[i].ID, Mention: m})
	}
	return items, nil
}

// mention turns a status into a mention, Kind set for replies only; nil
// for a boost, whose text is another status's. by is who the status is
// from when the status itself does not say (a notification's account).
func mention(s *statusJSON, by *accountJSON, instance, field string) (*vigie.Mention, error) {
	if s.Reblog != nil && string(*s.Reblog) != "null" {
		return nil, nil
	}
	if !ValidID(s.ID) {
		return nil, vigie.Invalidf(field+".id", "Mastodon status without a valid id")
	}
	at, err := time.Parse(time.RFC3339Nano, s.CreatedAt)
	if err != nil {
		return nil, vigie.Invalidf(field+".created_at", "Mastodon status: bad created_at %q", s.CreatedAt)
	}
	id := ExternalID(instance, s.ID)
	m := &vigie.Mention{
		Platform:   platform.Mastodon,
		ExternalID: id,
		Text:       statusText(s.SpoilerText, s.Content),
		URL:        s.URI,
		CreatedAt:  at.UTC(),
	}
	if s.URL != nil && *s.URL != "" {
		m.URL = *s.URL // the page to read it on; uri is its ActivityPub id
	}
	if s.InReplyToID != nil && *s.InReplyToID != "" {
		if !ValidID(*s.InReplyToID) {
			return nil, vigie.Invalidf(field+".in_reply_to_id", "Mastodon status: malformed in_reply_to_id")
		}
		m.Kind = vigie.KindReply
		// The thread's root is not in the status; only the parent is.
		m.ParentID = ExternalID(instance, *s.InReplyToID)
	} else {
		m.ThreadID = id // a status that answers nothing starts its thread
	}
	a := s.Account
	if a == nil || a.ID == "" && a.Acct == "" {
		a = by
	}
	if a != nil {
		m.Author = vigie.Author{ID: a.ID, Handle: a.Acct, Name: a.DisplayName}
		if m.Author.Handle == "" {
			m.Author.Handle = a.Username
		}
		if m.Author.Name == "" {
			m.Author.Name = m.Author.Handle
		}
		if a.FollowersCount != nil && *a.FollowersCount >= 0 {
			// Some servers send -1 for hidden counts.
			n := *a.FollowersCount
			m.Author.Followers = &n
		}
	}
	for name, n := range map[string]*int64{"likes": s.FavouritesCount, "reposts": s.ReblogsCount, "replies": s.RepliesCount} {
		if n != nil {
			if m.Metrics == nil {
				m.Metrics = map[string]int64{}
			}
			m.Metrics[name] = *n
		}
	}
	return m, nil
}
