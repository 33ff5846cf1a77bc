package bluesky

import (
	"encoding/json"
	"slices"
	"time"

	"vigie/internal/platform"
	"vigie/internal/vigie"
)

// Overlaps: how far below the newest item returned the next sweep reads
// again, to pick up items that appear late in the list. Notifications are
// sorted by their indexing time, almost in arrival order. Search results
// are sorted by creation time, which the author's client sets and which
// the search index learns seconds to minutes later: a post can appear
// below posts returned already.
const (
	notificationOverlap = time.Minute
	searchOverlap       = 5 * time.Minute
)

// seenBound bounds the URIs a mark keeps. When more items than that fall
// in the overlap, the mark's floor moves up and the overlap shrinks: the
// cursor stays small, and a poll spends at most half of what it may read
// on items returned already, at the cost of missing very late items in
// very busy lists. At most half a page, so that a poll usually sees the
// floor, and stops, on its first page.
func seenBound(limits platform.Limits, size int) int {
	return max(1, min(MaxPageSize/2, size*limits.Pages()/2))
}

// mark is the boundary of what was returned: items sorted below Floor are
// old; items at or above it are old when their URI is in Seen. Top is the
// newest item's sort time: every item returned so far sorts at or below
// it.
type mark struct {
	Floor time.Time `json:"floor"`
	Top   time.Time `json:"top"`
	Seen  []string  `json:"seen,omitempty"`
}

func (m *mark) clone() *mark {
	if m == nil {
		return nil
	}
	c := *m
	c.Seen = slices.Clone(m.Seen)
	return &c
}

// cursorState is the cursor's content. Mark is where the last finished
// sweep left the list. A sweep reads from the newest item down to
// Mark.Floor. When the page bound ends a poll before that, the sweep goes
// on at the next poll from Page, the API's cursor; Top is then the mark
// the sweep is building and Last the oldest item it returned: items
// between the two were returned, and items newer than Top wait for the
// next sweep.
type cursorState struct {
	Mark *mark  `json:"mark,omitempty"`
	Page string `json:"page,omitempty"`
	Top  *mark  `json:"sweepTop,omitempty"`
	Last *mark  `json:"sweepLast,omitempty"`
}

func decodeCursor(s string) (cursorState, error) {
	var c cursorState
	if s == "" {
		return c, nil
	}
	if err := json.Unmarshal([]byte(s), &c); err != nil || c.Mark == nil || c.Page == "" && (c.Top != nil || c.Last != nil) {
		return cursorState{}, vigie.Invalidf("cursor", "Bluesky cursor is malformed")
	}
	return c, nil
}

func (c cursorState) encode() string {
	b, _ := json.Marshal(c)
	return string(b)
}

// sweep is the state of one sweep while a poll runs.
type sweep struct {
	overlap time.Duration
	maxSeen int
	stop    *mark // the previous sweep's mark; nil on the first poll
	top     *mark // the mark this sweep builds
	last    *mark // the oldest item returned (Floor unused; Seen: the URIs at Top)
	// When resuming, ceiling and before bound what the earlier polls of
	// the sweep returned: items newer than ceiling are left to the next
	// sweep, and items from before down to it were returned.
	ceiling, before *mark
	taken           map[string]bool // returned by this poll
	reached         bool            // an item below the stop mark was seen
}

func newSweep(c cursorState, overlap time.Duration, maxSeen int) *sweep {
	s := &sweep{overlap: overlap, maxSeen: maxSeen, stop: c.Mark.clone(), taken: map[string]bool{}}
	if c.Page != "" {
		s.top, s.last = c.Top.clone(), c.Last.clone()
		s.ceiling, s.before = c.Top.clone(), c.Last.clone()
	}
	return s
}

// take reports whether it is new, and records it when it is.
func (s *sweep) take(it Item) bool {
	t := it.SortAt
	switch {
	case s.taken[it.URI]:
		return false // a page cursor that shifted returned it again
	case s.ceiling != nil && t.After(s.ceiling.Top):
		return false
	case s.before != nil && (t.After(s.before.Top) || t.Equal(s.before.Top) && slices.Contains(s.before.Seen, it.URI)):
		return false
	}
	if s.stop != nil {
		if t.Before(s.stop.Floor) {
			s.reached = true
			return false
		}
		if slices.Contains(s.stop.Seen, it.URI) {
			return false
		}
	}
	s.taken[it.URI] = true
	if s.top == nil {
		s.top = &mark{Floor: t.Add(-s.overlap), Top: t}
	} else if t.After(s.top.Top) {
		// Out of order: the list's sort key differs a little from ours.
		s.top.Top = t
		if f := t.Add(-s.overlap); f.After(s.top.Floor) {
			s.top.Floor = f
		}
	}
	if !t.Before(s.top.Floor) {
		if len(s.top.Seen) >= s.maxSeen && t.After(s.top.Floor) {
			// Items come newest first: those in Seen sort at or above t.
			s.top.Floor = t
		}
		s.top.Seen = append(s.top.Seen, it.URI)
	}
	switch {
	case s.last == nil || t.Before(s.last.Top):
		s.last = &mark{Floor: t, Top: t, Seen: []string{it.URI}}
	case t.Equal(s.last.Top):
		s.last.Seen = append(s.last.Seen, it.URI)
	}
	return true
}

// pending is the cursor of a sweep stopped by the page bound before its
// end, to go on from page.
func (s *sweep) pending(page string) cursorState {
	return cursorState{Mark: s.stop, Page: page, Top: s.top, Last: s.last}
}

// finished is the mark after the sweep reached its end (the stop mark or
// the end of the list). On the first poll, now is when an empty list was
// read: later items are new.
func (s *sweep) finished(now time.Time) cursorState {
	m := s.top.clone()
	switch {
	case m == nil && s.stop != nil:
		return cursorState{Mark: s.stop}
	case m == nil:
		f := now.Add(-s.overlap)
		return cursorState{Mark: &mark{Floor: f, Top: f}}
	case s.stop == nil:
		// The first poll reads the newest page only: what lies below it
		// is history, not to be fetched later.
		if s.last.Top.After(m.Floor) {
			m.Floor = s.last.Top
		}
		return cursorState{Mark: m}
	}
	if s.stop.Top.After(m.Top) {
		m.Top = s.stop.Top // the new items all came late, below the old top
	}
	if s.stop.Floor.After(m.Floor) {
		m.Floor = s.stop.Floor
	}
	if f := m.Top.Add(-s.overlap); f.After(m.Floor) {
		m.Floor = f
	}
	if !s.stop.Top.Before(m.Floor) {
		// Items returned by earlier sweeps still sort in the overlap.
		seen := slices.Clone(m.Seen)
		for _, u := range s.stop.Seen {
			if !slices.Contains(seen, u) {
				seen = append(seen, u)
			}
		}
		if len(seen) <= s.maxSeen {
			m.Seen = seen
		} else {
			// Too many to keep: everything up to the old top becomes old.
			m.Floor = s.stop.Top.Add(time.Nanosecond)
		}
	}
	return cursorState{Mark: m}
}
