package ingest

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"vigie/internal/analysis"
	"vigie/internal/platform"
	"vigie/internal/query"
	"vigie/internal/vigie"
)

// Pipeline turns what platforms tell — from webhooks or polling — into
// stored, scored, tagged and announced mentions of one workspace. Every
// entry point (the generic hook, Meta, X, the watch function) goes
// through it, so a mention is the same whatever its source.
type Pipeline struct {
	Store     vigie.Store
	Bus       vigie.Bus
	Clock     vigie.Clock
	Logger    *slog.Logger
	Retention time.Duration // 0 keeps mentions forever
	// Analyzer scores each mention inline; nil uses the embedded models.
	Analyzer *analysis.Analyzer
}

// Outcome counts what a batch of changes did.
type Outcome struct {
	Received   int      `json:"received"`
	Created    int      `json:"created"`
	Duplicates int      `json:"duplicates"`
	Edited     int      `json:"edited,omitempty"`
	Removed    int      `json:"removed,omitempty"`
	Ignored    int      `json:"ignored,omitempty"` // e.g. the removal of a mention never seen
	Mentions   []string `json:"mentions"`
}

// Add sums o2 into o.
func (o *Outcome) Add(o2 Outcome) {
	o.Received += o2.Received
	o.Created += o2.Created
	o.Duplicates += o2.Duplicates
	o.Edited += o2.Edited
	o.Removed += o2.Removed
	o.Ignored += o2.Ignored
	o.Mentions = append(o.Mentions, o2.Mentions...)
}

func (p *Pipeline) now() time.Time {
	if p.Clock == nil {
		return time.Now().UTC()
	}
	return p.Clock.Now()
}

func (p *Pipeline) analyzer() *analysis.Analyzer {
	if p.Analyzer != nil {
		return p.Analyzer
	}
	a, err := analysis.Default()
	if err != nil && p.Logger != nil {
		// The weights are in the binary: this is a build defect (the
		// analysis tests catch it). Mentions are stored unscored rather
		// than refused.
		p.Logger.Error("analysis unavailable", "error", err)
	}
	return a
}

// Accept applies changes to workspace ws, through channel ch (nil for
// sources that are not a connected channel: the generic hook, watches).
//
// New mentions cost one store write and one bus entry each, redeliveries
// none: known ones are found by reads, the new ones announced and then
// stored (see Service.Ingest for why in this order). An edit updates the
// stored mention and announces mention.edited, once per distinct text; a
// removal marks it removed and announces mention.removed, once. An edit of
// a mention never seen stores it as new, so nothing said is lost; a
// removal of one never seen is counted as ignored.
func (p *Pipeline) Accept(ctx context.Context, ws string, ch *vigie.Channel, changes []platform.Change) (Outcome, error) {
	return p.accept(ctx, ws, ch, "", changes)
}

// AcceptMatching is Accept for what a watch's own sources (a feed, a
// hashtag timeline, a search) bring: they return more than the watch asks
// for, so only the changes its query matches are kept; the others are
// counted as ignored.
func (p *Pipeline) AcceptMatching(ctx context.Context, ws, watchID string, changes []platform.Change) (Outcome, error) {
	return p.accept(ctx, ws, nil, watchID, changes)
}

func (p *Pipeline) accept(ctx context.Context, ws string, ch *vigie.Channel, only string, changes []platform.Change) (Outcome, error) {
	now := p.now()
	out := Outcome{Received: len(changes), Mentions: []string{}}
	if len(changes) == 0 {
		return out, nil
	}
	tagger, err := p.tagger(ctx, ws)
	if err != nil {
		return out, err
	}
	a := p.analyzer()
	// prepare fills m and reports whether it is kept; the analysis, the
	// costly part, only runs for what is.
	prepare := func(m *vigie.Mention) bool {
		m.Watches = tagger.match(m)
		if only != "" && !slices.Contains(m.Watches, only) {
			return false
		}
		m.Workspace = ws
		if ch != nil {
			m.Channel = ch.ID
		}
		m.ID = vigie.MentionID(m.Platform, m.ExternalID)
		m.ReceivedAt = now
		if m.CreatedAt.IsZero() {
			m.CreatedAt = now
		}
		m.CreatedAt = m.CreatedAt.UTC()
		p.analyze(a, m)
		if p.Retention > 0 && m.ExpiresAt == nil {
			exp := now.Add(p.Retention)
			m.ExpiresAt = &exp
		}
		return true
	}

	// News first, in one batch; a mention twice in the batch counts once.
	var news []*vigie.Mention
	seen := map[string]bool{}
	var edits, removals []*vigie.Mention
	for _, c := range changes {
		if c.Mention == nil || c.Mention.ExternalID == "" || c.Mention.Platform == "" {
			out.Ignored++
			continue
		}
		m := *c.Mention
		if !prepare(&m) {
			out.Ignored++
			continue
		}
		out.Mentions = append(out.Mentions, m.ID)
		switch c.Op {
		case platform.OpEdit:
			edits = append(edits, &m)
		case platform.OpRemove:
			removals = append(removals, &m)
		default:
			if seen[m.ID] {
				out.Duplicates++
				continue
			}
			seen[m.ID] = true
			news = append(news, &m)
		}
	}
	created, err := p.create(ctx, ws, news)
	if err != nil {
		return out, err
	}
	out.Created += created
	out.Duplicates += len(news) - created

	for _, m := range edits {
		old, err := p.Store.GetMention(ctx, ws, m.ID)
		if vigie.IsKind(err, vigie.KindNotFound) {
			m.EditedAt = &now
			n, err := p.create(ctx, ws, []*vigie.Mention{m})
			if err != nil {
				return out, err
			}
			out.Created += n
			continue
		}
		if err != nil {
			return out, fmt.Errorf("ingest: edit: %w", err)
		}
		if old.Text == m.Text {
			out.Duplicates++
			continue
		}
		upd := *old
		upd.Text, upd.EditedAt, upd.Analysis, upd.Watches = m.Text, &now, m.Analysis, m.Watches
		if err := p.update(ctx, &upd, vigie.NewMentionEdited); err != nil {
			return out, err
		}
		out.Edited++
	}
	for _, m := range removals {
		old, err := p.Store.GetMention(ctx, ws, m.ID)
		if vigie.IsKind(err, vigie.KindNotFound) {
			out.Ignored++
			continue
		}
		if err != nil {
			return out, fmt.Errorf("ingest: removal: %w", err)
		}
		if old.RemovedAt != nil {
			out.Duplicates++
			continue
		}
		upd := *old
		upd.RemovedAt = &now
		if err := p.update(ctx, &upd, vigie.NewMentionRemoved); err != nil {
			return out, err
		}
		out.Removed++
	}
	return out, nil
}

// create announces and stores the mentions not yet stored, and returns
// how many it stored.
func (p *Pipeline) create(ctx context.Context, ws string, ms []*vigie.Mention) (int, error) {
	if len(ms) == 0 {
		return 0, nil
	}
	ids := make([]string, len(ms))
	for i, m := range ms {
		ids[i] = m.ID
	}
	known, err := p.Store.ExistingMentions(ctx, ws, ids)
	if err != nil {
		return 0, fmt.Errorf("ingest: existing mentions: %w", err)
	}
	var fresh []*vigie.Mention
	var evs []vigie.Event
	for _, m := range ms {
		if known[m.ID] {
			continue
		}
		ev, err := vigie.NewMentionReceived(m)
		if err != nil {
			return 0, fmt.Errorf("ingest: event: %w", err)
		}
		fresh = append(fresh, m)
		evs = append(evs, ev)
	}
	if len(fresh) == 0 {
		return 0, nil
	}
	if err := p.Bus.Publish(ctx, evs...); err != nil {
		return 0, fmt.Errorf("ingest: announce: %w", err)
	}
	created, err := p.Store.CreateMentions(ctx, ws, fresh)
	if err != nil {
		return 0, fmt.Errorf("ingest: store: %w", err)
	}
	n := 0
	for _, c := range created {
		if c {
			n++
		}
	}
	return n, nil
}

// update announces then stores a changed mention: if the store fails, the
// platform's retry finds the old state and does both again (consumers drop
// the repeated event by its id).
func (p *Pipeline) update(ctx context.Context, m *vigie.Mention, event func(*vigie.Mention) (vigie.Event, error)) error {
	ev, err := event(m)
	if err != nil {
		return fmt.Errorf("ingest: event: %w", err)
	}
	if err := p.Bus.Publish(ctx, ev); err != nil {
		return fmt.Errorf("ingest: announce: %w", err)
	}
	if err := p.Store.UpdateMention(ctx, m); err != nil {
		return fmt.Errorf("ingest: store: %w", err)
	}
	return nil
}

func (p *Pipeline) analyze(a *analysis.Analyzer, m *vigie.Mention) {
	if a != nil {
		r := a.Analyze(m.Text, analysis.Hints{Platform: m.Platform})
		m.Analysis = &vigie.Analysis{Lang: r.Lang, LangConfidence: r.LangConfidence, Sentiment: r.Sentiment,
			SentimentScore: r.SentimentScore, Toxicity: r.Toxicity, Toxic: r.Toxic, SpamScore: r.SpamScore, Spam: r.Spam}
	}
}

// tagger matches mentions against a workspace's active watches.
type tagger struct {
	ids []string
	qs  []*query.Query
}

func (p *Pipeline) tagger(ctx context.Context, ws string) (*tagger, error) {
	watches, err := p.Store.ListWatches(ctx, ws)
	if err != nil {
		return nil, fmt.Errorf("ingest: watches: %w", err)
	}
	t := &tagger{}
	for _, w := range watches {
		if w.Status == vigie.StatusPaused {
			continue
		}
		q, err := parseCached(w.Query)
		if err != nil {
			// Stored queries were checked by the API; one that no longer
			// parses (a grammar change) must not stop ingestion.
			if p.Logger != nil {
				p.Logger.Warn("watch query does not parse", "workspace", ws, "watch", w.ID, "error", err)
			}
			continue
		}
		t.ids, t.qs = append(t.ids, w.ID), append(t.qs, q)
	}
	return t, nil
}

func (t *tagger) match(m *vigie.Mention) []string {
	if len(t.qs) == 0 {
		return nil
	}
	d := query.NewDoc(m.Text, m.Author.Handle)
	var out []string
	for i, q := range t.qs {
		if q.Match(d) {
			out = append(out, t.ids[i])
		}
	}
	return out
}

// parsed caches parsed queries by source text: a warm function parses a
// workspace's watches once, not at every delivery.
var parsed sync.Map

func parseCached(src string) (*query.Query, error) {
	if q, ok := parsed.Load(src); ok {
		return q.(*query.Query), nil
	}
	q, err := query.Parse(src)
	if err != nil {
		return nil, err
	}
	parsed.Store(src, q)
	return q, nil
}
