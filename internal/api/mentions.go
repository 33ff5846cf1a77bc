package api

import (
	"net/http"
	"net/url"
	"strconv"
	"time"

	"vigie/internal/vigie"
	"vigie/internal/web"
)

// mentionPage is the answer to GET /v1/mentions.
type mentionPage struct {
	Mentions []*vigie.Mention `json:"mentions"`
	// NextCursor fetches the following page (same since and until); empty
	// on the last page.
	NextCursor string `json:"next_cursor"`
}

// listMentions lists the workspace's mentions created in [since, until),
// newest first, limit at a time.
func (s *server) listMentions(w http.ResponseWriter, r *http.Request) {
	q, err := mentionQuery(r.URL.Query())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// The store refuses a cursor it did not issue for this workspace and
	// range: Invalid, field "cursor".
	page, err := s.Store.ListMentions(r.Context(), keyOf(r).Workspace, q)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := mentionPage{Mentions: page.Mentions, NextCursor: page.Next}
	if out.Mentions == nil {
		out.Mentions = []*vigie.Mention{}
	}
	web.JSON(w, http.StatusOK, out)
}

func mentionQuery(v url.Values) (vigie.MentionQuery, error) {
	var q vigie.MentionQuery
	var err error
	if q.Since, err = timeParam(v, "since"); err != nil {
		return q, err
	}
	if q.Until, err = timeParam(v, "until"); err != nil {
		return q, err
	}
	if !q.Since.IsZero() && !q.Until.IsZero() && q.Since.After(q.Until) {
		return q, vigie.Invalidf("since", "since must not be after until")
	}
	if s := v.Get("limit"); s != "" {
		if q.Limit, err = strconv.Atoi(s); err != nil || q.Limit < 1 || q.Limit > vigie.MaxPageSize {
			return q, vigie.Invalidf("limit", "limit must be a whole number from 1 to %d", vigie.MaxPageSize)
		}
	}
	q.Cursor = v.Get("cursor")
	return q, nil
}

func timeParam(v url.Values, name string) (time.Time, error) {
	s := v.Get(name)
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, vigie.Invalidf(name, "%s must be an RFC 3339 time such as 2026-11-20T09:00:00Z", name)
	}
	return t, nil
}
