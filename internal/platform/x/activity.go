package x

import (
	"encoding/json"
	"fmt"
	"html"
	"sort"
	"strconv"
	"strings"
	"time"

	"vigie/internal/platform"
	"vigie/internal/vigie"
)

// Activity is an Account Activity delivery, parsed.
type Activity struct {
	// ForUserID is the subscribed account the delivery is for: it routes
	// the delivery to the channel.
	ForUserID string
	Changes   []platform.Change
	// Ignored counts the events that hold nothing Vigie ingests: the
	// account's own posts, reposts, likes, follows, direct messages...
	Ignored int
}

type userJSON struct {
	IDStr          string `json:"id_str"`
	ID             str    `json:"id"`
	Name           string `json:"name"`
	ScreenName     string `json:"screen_name"`
	FollowersCount *int64 `json:"followers_count"`
	Verified       *bool  `json:"verified"`
}

// tweetJSON is a v1.1 Tweet object, as Account Activity sends them.
type tweetJSON struct {
	CreatedAt     string `json:"created_at"`
	ID            str    `json:"id"`
	IDStr         string `json:"id_str"`
	Text          string `json:"text"`
	FullText      string `json:"full_text"`
	Truncated     bool   `json:"truncated"`
	ExtendedTweet *struct {
		FullText string `json:"full_text"`
	} `json:"extended_tweet"`
	InReplyToStatusIDStr string          `json:"in_reply_to_status_id_str"`
	InReplyToUserIDStr   string          `json:"in_reply_to_user_id_str"`
	User                 *userJSON       `json:"user"`
	TimestampMS          str             `json:"timestamp_ms"`
	FavoriteCount        *int64          `json:"favorite_count"`
	RetweetCount         *int64          `json:"retweet_count"`
	ReplyCount           *int64          `json:"reply_count"`
	QuoteCount           *int64          `json:"quote_count"`
	RetweetedStatus      json.RawMessage `json:"retweeted_status"`
}

type deleteJSON struct {
	Status *struct {
		ID     str `json:"id"`
		UserID str `json:"user_id"`
	} `json:"status"`
	TimestampMS str `json:"timestamp_ms"`
}

// ParseActivity parses an Account Activity delivery. Each post of
// tweet_create_events not written by the subscribed account becomes a new
// mention: a reply when it answers the account, else a mention; reposts
// (retweeted_status) are counted as ignored, since they repeat a post
// rather than say something. tweet_delete_events become removals. Other
// event types are counted as ignored.
//
// Errors: vigie Invalid, naming the field (e.g.
// tweet_create_events[1].id_str), when the body is not JSON, for_user_id
// is missing, a field has the wrong type or a post lacks its id.
func ParseActivity(body []byte) (Activity, error) {
	var top map[string]json.RawMessage
	if err := platform.Decode(body, &top, ""); err != nil {
		return Activity{}, err
	}
	var a Activity
	if raw, ok := top["for_user_id"]; ok {
		var s str
		if err := platform.Decode(raw, &s, "for_user_id"); err != nil {
			return Activity{}, err
		}
		a.ForUserID = string(s)
	}
	if a.ForUserID == "" {
		return Activity{}, vigie.Invalidf("for_user_id", "for_user_id is missing")
	}
	// Keys in a fixed order, so that errors and changes do not depend on
	// map iteration.
	keys := make([]string, 0, len(top))
	for k := range top {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		raw := top[k]
		switch {
		case k == "tweet_create_events":
			if err := a.creates(raw); err != nil {
				return Activity{}, err
			}
		case k == "tweet_delete_events":
			if err := a.deletes(raw); err != nil {
				return Activity{}, err
			}
		case strings.HasSuffix(k, "_events"):
			var evs []json.RawMessage
			if err := platform.Decode(raw, &evs, k); err != nil {
				return Activity{}, err
			}
			a.Ignored += len(evs)
		case k == "user_event" || k == "replay_job_status":
			a.Ignored++
		}
		// for_user_id, user_has_blocked, users, apps: context, not events.
	}
	return a, nil
}

func (a *Activity) creates(raw json.RawMessage) error {
	var evs []json.RawMessage
	if err := platform.Decode(raw, &evs, "tweet_create_events"); err != nil {
		return err
	}
	for i, ev := range evs {
		path := fmt.Sprintf("tweet_create_events[%d]", i)
		var tw tweetJSON
		if err := platform.Decode(ev, &tw, path); err != nil {
			return err
		}
		m, err := tw.mention(a.ForUserID, path)
		if err != nil {
			return err
		}
		if m == nil {
			a.Ignored++
			continue
		}
		a.Changes = append(a.Changes, platform.Change{Op: platform.OpNew, Account: a.ForUserID, Mention: m})
	}
	return nil
}

func (a *Activity) deletes(raw json.RawMessage) error {
	var evs []json.RawMessage
	if err := platform.Decode(raw, &evs, "tweet_delete_events"); err != nil {
		return err
	}
	for i, ev := range evs {
		path := fmt.Sprintf("tweet_delete_events[%d]", i)
		var d deleteJSON
		if err := platform.Decode(ev, &d, path); err != nil {
			return err
		}
		if d.Status == nil || d.Status.ID == "" {
			return vigie.Invalidf(path+".status.id", "%s.status.id is missing", path)
		}
		m := &vigie.Mention{Platform: platform.X, ExternalID: string(d.Status.ID), Author: vigie.Author{ID: string(d.Status.UserID)}}
		a.Changes = append(a.Changes, platform.Change{Op: platform.OpRemove, Account: a.ForUserID, Mention: m})
	}
	return nil
}

// mention turns a post into a mention of account, or nil when it is the
// account's own post or a repost. A reply is a post answering one of the
// account's posts; a post that only starts with its handle (old clients
// set in_reply_to_user_id_str without a status) is a mention.
func (tw *tweetJSON) mention(account, path string) (*vigie.Mention, error) {
	id := tw.IDStr
	if id == "" && isDigits(string(tw.ID)) {
		id = string(tw.ID)
	}
	if id == "" {
		return nil, vigie.Invalidf(path+".id_str", "%s.id_str is missing", path)
	}
	var u userJSON
	if tw.User != nil {
		u = *tw.User
	}
	if u.IDStr == "" && isDigits(string(u.ID)) {
		u.IDStr = string(u.ID)
	}
	if u.IDStr == account || len(tw.RetweetedStatus) > 0 && string(tw.RetweetedStatus) != "null" {
		return nil, nil
	}
	text := tw.Text
	if tw.FullText != "" {
		text = tw.FullText
	}
	if tw.Truncated && tw.ExtendedTweet != nil && tw.ExtendedTweet.FullText != "" {
		text = tw.ExtendedTweet.FullText
	}
	m := &vigie.Mention{
		Platform:   platform.X,
		Kind:       vigie.KindMention,
		ExternalID: id,
		ParentID:   tw.InReplyToStatusIDStr,
		Author:     vigie.Author{ID: u.IDStr, Handle: u.ScreenName, Name: u.Name, Followers: u.FollowersCount, Verified: u.Verified},
		// v1.1 text escapes &, < and >.
		Text: html.UnescapeString(text),
		URL:  postURL(u.ScreenName, id),
	}
	if tw.InReplyToUserIDStr == account && m.ParentID != "" {
		m.Kind = vigie.KindReply
	}
	if t, err := time.Parse(time.RubyDate, tw.CreatedAt); err == nil {
		m.CreatedAt = t.UTC()
	} else if ms, err := strconv.ParseInt(string(tw.TimestampMS), 10, 64); err == nil && ms > 0 {
		m.CreatedAt = time.UnixMilli(ms).UTC()
	} else if tw.CreatedAt != "" {
		return nil, vigie.Invalidf(path+".created_at", "%s.created_at is not a time like Mon May 19 14:01:46 +0000 2025", path)
	}
	for name, n := range map[string]*int64{"likes": tw.FavoriteCount, "reposts": tw.RetweetCount, "replies": tw.ReplyCount, "quotes": tw.QuoteCount} {
		if n != nil {
			if m.Metrics == nil {
				m.Metrics = map[string]int64{}
			}
			m.Metrics[name] = *n
		}
	}
	return m, nil
}

// postURL is a post's public link; x.com/i/status/<id> redirects to it
// when the handle is unknown.
func postURL(handle, id string) string {
	if handle == "" {
		handle = "i"
	}
	return "https://x.com/" + handle + "/status/" + id
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
