// Package watch is the watch function: on its schedule it polls every due
// source of every workspace — the connected channels that have no webhooks
// (Mastodon, Bluesky, YouTube, X without Account Activity) and the watches'
// feeds, hashtag timelines and searches — and runs what they bring through
// the ingest pipeline. Each source keeps its cursor and its health in the
// store, so that nothing is read twice or skipped across runs, and one
// failing source never stops the others.
package watch

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"sync"
	"time"

	"vigie/internal/ingest"
	"vigie/internal/platform"
	"vigie/internal/platform/bluesky"
	"vigie/internal/platform/feeds"
	"vigie/internal/secrets"
	"vigie/internal/vigie"
)

// Defaults.
const (
	DefaultEvery       = 5 * time.Minute
	DefaultConcurrency = 8
	DefaultPollTimeout = 30 * time.Second
	// MaxBackoff bounds how long a failing source waits before the next try.
	MaxBackoff = 6 * time.Hour
	// AuthRetry is when a source whose credentials were refused is tried
	// again: replacing them takes a person.
	AuthRetry = time.Hour
)

// Platforms are the platform APIs' base URLs (empty: the real ones) and the
// HTTP client. Mastodon and Bluesky take theirs from each channel's
// instance.
type Platforms struct {
	YouTubeURL string
	XURL       string
	BlueskyURL string // default PDS when a channel names none
	HTTP       *http.Client
	// FeedHTTP fetches feeds, whose URLs come from users: by default it
	// connects to public addresses only (feeds.PublicHTTPClient), or is
	// HTTP when FeedsAnyAddress is set.
	FeedHTTP        *http.Client
	FeedsAnyAddress bool
}

// Deps is what the watch function needs.
type Deps struct {
	Store       vigie.Store
	Secrets     secrets.Source
	Pipeline    *ingest.Pipeline
	Clock       vigie.Clock
	Logger      *slog.Logger
	Platforms   Platforms
	Every       time.Duration   // default polling interval per source
	Concurrency int             // sources polled at once
	PollTimeout time.Duration   // bound of one source's poll
	Limits      platform.Limits // pages per poll
}

// Service polls.
type Service struct {
	d Deps

	mu   sync.Mutex
	bsky map[string]*bluesky.Client // by login; see blueskyClient
}

// New fills Deps' defaults.
func New(d Deps) *Service {
	if d.Clock == nil {
		d.Clock = vigie.SystemClock{}
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Every <= 0 {
		d.Every = DefaultEvery
	}
	if d.Concurrency <= 0 {
		d.Concurrency = DefaultConcurrency
	}
	if d.PollTimeout <= 0 {
		d.PollTimeout = DefaultPollTimeout
	}
	if d.Platforms.HTTP == nil {
		d.Platforms.HTTP = &http.Client{Timeout: 20 * time.Second}
	}
	switch {
	case d.Platforms.FeedHTTP != nil:
	case d.Platforms.FeedsAnyAddress:
		d.Platforms.FeedHTTP = d.Platforms.HTTP
	default:
		d.Platforms.FeedHTTP = feeds.PublicHTTPClient(20 * time.Second)
	}
	return &Service{d: d}
}

// Report tells what one run did.
type Report struct {
	Workspaces  int `json:"workspaces"`
	Sources     int `json:"sources"`
	Due         int `json:"due"`
	Polled      int `json:"polled"` // polls that succeeded
	Failed      int `json:"failed"`
	RateLimited int `json:"rate_limited"`
	// Deferred counts due sources left for the next run because the
	// invocation's time was running out.
	Deferred int `json:"deferred"`
	Created  int `json:"created"`
	Requests int `json:"requests"`
}

// target is one source to poll, with what it belongs to.
type target struct {
	ws      string
	id      string
	every   time.Duration
	channel *vigie.Channel // nil for a watch's source
	watch   *vigie.Watch   // set for a watch's source: results must match it
	poll    func(ctx context.Context, cursor string, l platform.Limits) (platform.PollResult, error)
	state   *vigie.Source // nil if never polled
	// ingest is held while the source's changes go through the pipeline:
	// one per workspace, so that two sources finding the same post (two
	// searches, a search and a tag) cannot both take it for new.
	ingest *sync.Mutex
}

// Run polls every due source once. It fails only when the workspaces
// cannot be listed; a source's failure is recorded on the source.
func (s *Service) Run(ctx context.Context) (Report, error) {
	var rep Report
	wss, err := s.d.Store.ListWorkspaces(ctx)
	if err != nil {
		return rep, fmt.Errorf("watch: workspaces: %w", err)
	}
	rep.Workspaces = len(wss)
	now := s.d.Clock.Now()
	var due []*target
	for _, ws := range wss {
		ts, err := s.targets(ctx, ws.ID)
		if err != nil {
			// One workspace's store trouble does not stop the others.
			s.d.Logger.Error("watch: sources not listed", "workspace", ws.ID, "error", err)
			rep.Failed++
			continue
		}
		rep.Sources += len(ts)
		for _, t := range ts {
			if t.state == nil || !t.state.NextPollAt.After(now) {
				due = append(due, t)
			}
		}
	}
	rep.Due = len(due)
	// The longest waiting first, so that sources deferred by a run that ran
	// out of time are polled first by the next.
	sort.SliceStable(due, func(i, j int) bool { return nextPoll(due[i]).Before(nextPoll(due[j])) })
	locks := map[string]*sync.Mutex{}
	for _, t := range due {
		if locks[t.ws] == nil {
			locks[t.ws] = &sync.Mutex{}
		}
		t.ingest = locks[t.ws]
	}
	var mu sync.Mutex
	sem := make(chan struct{}, s.d.Concurrency)
	var wg sync.WaitGroup
	for _, t := range due {
		sem <- struct{}{}
		if s.late(ctx) {
			// A poll started now could be cut off by the function's
			// timeout; the source stays due and goes first next run.
			<-sem
			rep.Deferred++
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			r := s.pollOne(ctx, t)
			mu.Lock()
			defer mu.Unlock()
			rep.Requests += r.requests
			rep.Created += r.created
			switch {
			case r.rateLimited:
				rep.RateLimited++
			case r.err != nil:
				rep.Failed++
			default:
				rep.Polled++
			}
		}()
	}
	wg.Wait()
	s.d.Logger.Info("watch run", "workspaces", rep.Workspaces, "sources", rep.Sources, "due", rep.Due, "polled", rep.Polled,
		"failed", rep.Failed, "rate_limited", rep.RateLimited, "deferred", rep.Deferred, "created", rep.Created, "requests", rep.Requests)
	return rep, nil
}

// nextPoll is when t was due: never polled sources come first.
func nextPoll(t *target) time.Time {
	if t.state == nil {
		return time.Time{}
	}
	return t.state.NextPollAt
}

// late reports whether ctx's deadline (the function's timeout) leaves too
// little time for one more poll and the saving of its state.
func (s *Service) late(ctx context.Context) bool {
	dl, ok := ctx.Deadline()
	return ok && time.Until(dl) < s.d.PollTimeout+saveMargin
}

// saveMargin is the time kept, after a poll's own bound, to store what it
// read and its state.
const saveMargin = 10 * time.Second

type pollOutcome struct {
	requests, created int
	rateLimited       bool
	err               error
}

// pollOne polls one source and saves its state: the new cursor only after
// the changes were ingested, so a failure re-reads rather than skips.
func (s *Service) pollOne(ctx context.Context, t *target) pollOutcome {
	log := s.d.Logger.With("workspace", t.ws, "source", t.id)
	pctx, cancel := context.WithTimeout(ctx, s.d.PollTimeout)
	defer cancel()
	st := t.state
	if st == nil {
		st = &vigie.Source{Workspace: t.ws, ID: t.id}
	}
	next := *st
	now := s.d.Clock.Now()
	next.LastPollAt = now
	var out pollOutcome
	res, err := t.poll(pctx, st.Cursor, s.d.Limits)
	out.requests = res.Requests
	if err == nil {
		var o ingest.Outcome
		if t.ingest != nil {
			t.ingest.Lock()
		}
		if t.watch != nil {
			o, err = s.d.Pipeline.AcceptMatching(ctx, t.ws, t.watch.ID, res.Changes)
		} else {
			o, err = s.d.Pipeline.Accept(ctx, t.ws, t.channel, res.Changes)
		}
		if t.ingest != nil {
			t.ingest.Unlock()
		}
		if err == nil {
			out.created = o.Created
			next.Cursor, next.LastOKAt, next.LastError, next.Failures, next.LastCreated = res.Cursor, now, "", 0, o.Created
			next.NextPollAt = now.Add(t.every)
			if res.More {
				next.NextPollAt = now // a backlog: go on at the next run
			}
		}
	}
	if err != nil {
		out.err = err
		next.Failures++
		next.LastError = reason(err)
		var rl *platform.RateLimitError
		switch {
		case errors.As(err, &rl):
			out.rateLimited = true
			next.NextPollAt = rl.Reset
			if !next.NextPollAt.After(now) {
				next.NextPollAt = now.Add(t.every)
			}
		case platform.IsAuth(err):
			next.NextPollAt = now.Add(max(AuthRetry, t.every))
		default:
			next.NextPollAt = now.Add(backoff(t.every, next.Failures))
		}
		log.Warn("source poll failed", "error", next.LastError, "failures", next.Failures, "next_poll_at", next.NextPollAt)
	}
	if err := s.d.Store.PutSource(ctx, &next); err != nil {
		// Conflict: another run polled it meanwhile; its state stands.
		log.Warn("source state not saved", "error", err)
	}
	return out
}

// reason is a failure as recorded on the source: the platform's answer or
// our own error's message, never a token.
func reason(err error) string {
	msg := err.Error()
	if len(msg) > 500 {
		msg = msg[:500] + "…"
	}
	return msg
}

// backoff doubles the interval per consecutive failure, up to MaxBackoff.
func backoff(every time.Duration, failures int) time.Duration {
	d := every
	for i := 1; i < failures && d < MaxBackoff; i++ {
		d *= 2
	}
	return min(d, MaxBackoff)
}

// sourceID names a source by what it polls; ids start with the owning
// channel's or watch's id, so removing the owner removes its sources.
func sourceID(owner, kind, what string) string {
	if what == "" {
		return owner + ":" + kind
	}
	sum := sha256.Sum256([]byte(what))
	return owner + ":" + kind + ":" + hex.EncodeToString(sum[:6])
}

// targets lists a workspace's sources with their state.
func (s *Service) targets(ctx context.Context, ws string) ([]*target, error) {
	chs, err := s.d.Store.ListChannels(ctx, ws)
	if err != nil {
		return nil, err
	}
	watches, err := s.d.Store.ListWatches(ctx, ws)
	if err != nil {
		return nil, err
	}
	states, err := s.d.Store.ListSources(ctx, ws)
	if err != nil {
		return nil, err
	}
	var ts []*target
	var bskyCreds *blueskyAccount
	for _, ch := range chs {
		if ch.Status == vigie.StatusPaused {
			continue
		}
		t, acct := s.channelTarget(ctx, ch)
		if t != nil {
			ts = append(ts, t)
		}
		if acct != nil && bskyCreds == nil {
			bskyCreds = acct
		}
	}
	for _, w := range watches {
		if w.Status == vigie.StatusPaused {
			continue
		}
		ts = append(ts, s.watchTargets(w, bskyCreds)...)
	}
	byID := map[string]*vigie.Source{}
	for _, st := range states {
		byID[st.ID] = st
	}
	for _, t := range ts {
		t.state = byID[t.id]
	}
	sort.Slice(ts, func(i, j int) bool { return ts[i].id < ts[j].id })
	return ts, nil
}
