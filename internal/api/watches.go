package api

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"vigie/internal/platform/mastodon"
	"vigie/internal/query"
	"vigie/internal/vigie"
	"vigie/internal/web"
)

// Bounds of a watch's sources.
const (
	MaxFeeds = 20
	MaxTags  = 10
)

type watchView struct {
	ID               string    `json:"id"`
	Name             string    `json:"name"`
	Kind             string    `json:"kind"`
	Query            string    `json:"query"`
	Feeds            []string  `json:"feeds"`
	MastodonTags     []string  `json:"mastodon_tags"`
	MastodonInstance string    `json:"mastodon_instance,omitempty"`
	BlueskySearch    bool      `json:"bluesky_search"`
	Status           string    `json:"status"`
	PollEvery        string    `json:"poll_every,omitempty"`
	CreatedAt        time.Time `json:"created_at"`
}

func viewWatch(w *vigie.Watch) watchView {
	v := watchView{ID: w.ID, Name: w.Name, Kind: w.Kind, Query: w.Query, Feeds: w.Feeds, MastodonTags: w.MastodonTags,
		MastodonInstance: w.MastodonInstance, BlueskySearch: w.BlueskySearch, Status: w.Status, CreatedAt: w.CreatedAt}
	if v.Feeds == nil {
		v.Feeds = []string{}
	}
	if v.MastodonTags == nil {
		v.MastodonTags = []string{}
	}
	if w.PollEvery > 0 {
		v.PollEvery = w.PollEvery.String()
	}
	return v
}

// watchInput is the body of POST and PATCH /v1/watches: on PATCH, absent
// fields are left as they are.
type watchInput struct {
	Name             *string   `json:"name"`
	Kind             *string   `json:"kind"`
	Query            *string   `json:"query"`
	Feeds            *[]string `json:"feeds"`
	MastodonTags     *[]string `json:"mastodon_tags"`
	MastodonInstance *string   `json:"mastodon_instance"`
	BlueskySearch    *bool     `json:"bluesky_search"`
	Status           *string   `json:"status"`
	PollEvery        *string   `json:"poll_every"`
}

// apply sets the given fields on w, checking each; errors name the field.
// A query parse error gives its position in the message.
func (in *watchInput) apply(w *vigie.Watch) error {
	if err := applyCommon(&w.Name, &w.Status, &w.PollEvery, in.Name, in.Status, in.PollEvery); err != nil {
		return err
	}
	if in.Kind != nil {
		switch *in.Kind {
		case vigie.WatchBrand, vigie.WatchPerson, vigie.WatchCompetitor, vigie.WatchTopic:
			w.Kind = *in.Kind
		default:
			return vigie.Invalidf("kind", "kind must be brand, person, competitor or topic")
		}
	}
	if in.Query != nil {
		if _, err := query.Parse(*in.Query); err != nil {
			var qe *query.Error
			if errors.As(err, &qe) {
				return &vigie.Error{Kind: vigie.KindInvalid, Code: "query_syntax", Field: "query", Message: "query: " + qe.Error()}
			}
			return vigie.Invalidf("query", "query: %v", err)
		}
		w.Query = *in.Query
	}
	if in.Feeds != nil {
		if len(*in.Feeds) > MaxFeeds {
			return vigie.Invalidf("feeds", "a watch has at most %d feeds", MaxFeeds)
		}
		w.Feeds = nil
		for i, f := range *in.Feeds {
			u, err := checkURL(fmt.Sprintf("feeds[%d]", i), f)
			if err != nil {
				return err
			}
			w.Feeds = append(w.Feeds, u)
		}
	}
	if in.MastodonTags != nil {
		if len(*in.MastodonTags) > MaxTags {
			return vigie.Invalidf("mastodon_tags", "a watch follows at most %d tags", MaxTags)
		}
		w.MastodonTags = nil
		for i, t := range *in.MastodonTags {
			tag, err := mastodon.NormalizeTag(t)
			if err != nil {
				return vigie.Invalidf(fmt.Sprintf("mastodon_tags[%d]", i), "a tag is letters, digits and underscores")
			}
			w.MastodonTags = append(w.MastodonTags, tag)
		}
	}
	if in.MastodonInstance != nil {
		w.MastodonInstance = ""
		if *in.MastodonInstance != "" {
			u, err := checkURL("mastodon_instance", *in.MastodonInstance)
			if err != nil {
				return err
			}
			w.MastodonInstance = u
		}
	}
	if in.BlueskySearch != nil {
		w.BlueskySearch = *in.BlueskySearch
	}
	switch {
	case w.Name == "":
		return &vigie.Error{Kind: vigie.KindInvalid, Code: "field_missing", Field: "name", Message: "name is required"}
	case w.Kind == "":
		return &vigie.Error{Kind: vigie.KindInvalid, Code: "field_missing", Field: "kind", Message: "kind is required"}
	case w.Query == "":
		return &vigie.Error{Kind: vigie.KindInvalid, Code: "field_missing", Field: "query", Message: "query is required"}
	case len(w.MastodonTags) > 0 && w.MastodonInstance == "":
		return &vigie.Error{Kind: vigie.KindInvalid, Code: "field_missing", Field: "mastodon_instance", Message: "mastodon_instance is required with mastodon_tags"}
	}
	return nil
}

func (s *server) watch(r *http.Request) (*vigie.Watch, error) {
	id := r.PathValue("id")
	if !validRecordID("wa_", id) {
		return nil, vigie.Errorf(vigie.KindNotFound, "no such watch")
	}
	return s.Store.GetWatch(r.Context(), keyOf(r).Workspace, id)
}

func (s *server) listWatches(w http.ResponseWriter, r *http.Request) {
	ws, err := s.Store.ListWatches(r.Context(), keyOf(r).Workspace)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := make([]watchView, len(ws))
	for i, x := range ws {
		out[i] = viewWatch(x)
	}
	web.JSON(w, http.StatusOK, map[string]any{"watches": out})
}

func (s *server) getWatch(w http.ResponseWriter, r *http.Request) {
	x, err := s.watch(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	web.JSON(w, http.StatusOK, viewWatch(x))
}

func (s *server) createWatch(w http.ResponseWriter, r *http.Request) {
	var in watchInput
	if !s.decode(w, r, &in) {
		return
	}
	x := &vigie.Watch{Workspace: keyOf(r).Workspace, ID: newRecordID("wa_"), Status: vigie.StatusActive, CreatedAt: s.Clock.Now()}
	if err := in.apply(x); err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.Store.CreateWatch(r.Context(), x); err != nil {
		s.fail(w, r, err)
		return
	}
	s.log(r).InfoContext(r.Context(), "watch created", "watch", x.ID, "kind", x.Kind)
	web.JSON(w, http.StatusCreated, viewWatch(x))
}

func (s *server) updateWatch(w http.ResponseWriter, r *http.Request) {
	var in watchInput
	if !s.decode(w, r, &in) {
		return
	}
	for range retries {
		x, err := s.watch(r)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if err := in.apply(x); err != nil {
			s.fail(w, r, err)
			return
		}
		err = s.Store.UpdateWatch(r.Context(), x)
		if vigie.IsKind(err, vigie.KindConflict) {
			continue
		}
		if err != nil {
			s.fail(w, r, err)
			return
		}
		web.JSON(w, http.StatusOK, viewWatch(x))
		return
	}
	s.fail(w, r, vigie.Errorf(vigie.KindConflict, "the watch is being changed concurrently; try again"))
}

func (s *server) deleteWatch(w http.ResponseWriter, r *http.Request) {
	x, err := s.watch(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.Store.DeleteWatch(r.Context(), x.Workspace, x.ID); err != nil {
		s.fail(w, r, err)
		return
	}
	s.dropSources(r, x.ID)
	w.WriteHeader(http.StatusNoContent)
}

// sourceView is a polled source's health, for the client and for the
// alerting to come: when it last worked, and why it last failed.
type sourceView struct {
	ID          string     `json:"id"`
	NextPollAt  time.Time  `json:"next_poll_at"`
	LastPollAt  *time.Time `json:"last_poll_at"`
	LastOKAt    *time.Time `json:"last_ok_at"`
	LastError   string     `json:"last_error,omitempty"`
	Failures    int        `json:"failures"`
	LastCreated int        `json:"last_created"`
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func (s *server) listSources(w http.ResponseWriter, r *http.Request) {
	srcs, err := s.Store.ListSources(r.Context(), keyOf(r).Workspace)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := make([]sourceView, len(srcs))
	for i, x := range srcs {
		out[i] = sourceView{ID: x.ID, NextPollAt: x.NextPollAt, LastPollAt: timePtr(x.LastPollAt), LastOKAt: timePtr(x.LastOKAt),
			LastError: x.LastError, Failures: x.Failures, LastCreated: x.LastCreated}
	}
	web.JSON(w, http.StatusOK, map[string]any{"sources": out})
}
