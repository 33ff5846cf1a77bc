// Package localbus is the in-process event bus of the local runner, standing
// in for EventBridge. It routes events to functions with the rules of
// template.yaml, matched by quamina; keeps every accepted event in the bbolt
// file until each matching rule's function has taken it, so an event
// accepted before a stop is delivered at the next start; retries per each
// rule's RetryPolicy; and moves what exhausts its retries to a dead-letter
// list that can be listed and replayed.
//
// Retries follow each rule's RetryPolicy: MaximumRetryAttempts retries after
// the first attempt, while the event is younger than
// MaximumEventAgeInSeconds (EventBridge's defaults, 185 and 24 h, when the
// rule has none). The age counts from Publish (or Replay) and is checked when
// an attempt fails, so an event that waited in the file while the runner was
// stopped is still attempted at the next start.
//
// Delivery is at least once, as with EventBridge: a process killed after a
// function returned but before the outcome was written delivers again at
// the next start. Each (event, rule) pair is delivered and retried on its
// own, so one failing function never makes another receive an event twice.
//
// The bus keeps its state in its own buckets of the bbolt file, "bus/queue"
// (pending deliveries) and "bus/dlq" (dead letters), beside the store's.
package localbus

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"go.etcd.io/bbolt"

	"vigie/internal/samtemplate"
	"vigie/internal/vigie"
)

// Target receives the events of a function's rules, as EventBridge would
// invoke the function: a non-nil error is a failed invocation, retried per
// the rule's RetryPolicy.
type Target func(ctx context.Context, ev events.EventBridgeEvent) error

// Options configure a Bus. The zero value is usable.
type Options struct {
	Clock  vigie.Clock  // default vigie.SystemClock
	Logger *slog.Logger // default discards
	// Backoff is the wait after failed attempt n (1, 2…) before the next;
	// default exponential from 100 ms, at most 1 min.
	Backoff func(attempt int) time.Duration
	Account string // envelope "account"; default 000000000000
	Region  string // envelope "region"; default local
	// BusName, when set, keeps only the rules on that bus (as
	// samtemplate.Rule.Bus names it: the literal EventBusName or the
	// logical id a !Ref names). Empty keeps every rule: Vigie's template
	// has one custom bus, which every rule names.
	BusName string
	// DeliveryTimeout bounds one attempt; default 30 s.
	DeliveryTimeout time.Duration
	// ShutdownGrace is how long Close lets deliveries in flight finish
	// before cancelling them, and then how long it waits for the cancelled
	// ones to return. A cancelled one stays queued, its attempt not counted.
	// Default 10 s.
	ShutdownGrace time.Duration
	// MaxInFlight bounds the deliveries running at once; default 16.
	MaxInFlight int

	// observe, set by this package's tests, hears of each attempt's
	// outcome once it is recorded.
	observe func(d delivery, outcome string)
}

// Attempt outcomes, for logs and tests.
const (
	outcomeDelivered = "delivered"
	outcomeRetry     = "retry"
	outcomeDead      = "dead"
	outcomeCut       = "cut" // stopped by Close; stays queued
)

// MaxEntryBytes is the largest event EventBridge accepts, counted as
// PutEvents counts it; the local bus refuses larger ones too, so that what
// works locally works deployed.
const MaxEntryBytes = 256 * 1024

// maxErrorLen bounds the error text kept with a delivery.
const maxErrorLen = 1024

var (
	bucketQueue = []byte("bus/queue")
	bucketDLQ   = []byte("bus/dlq")
)

// delivery is one event on its way to one rule's function.
type delivery struct {
	ID        string          `json:"id"`
	Rule      string          `json:"rule"`
	Function  string          `json:"function"`
	EventID   string          `json:"event_id"`
	EventType string          `json:"event_type"`
	Envelope  json.RawMessage `json:"envelope"`
	Accepted  time.Time       `json:"accepted"`
	Attempts  int             `json:"attempts"`
	NextAt    time.Time       `json:"next_at"`
	LastError string          `json:"last_error,omitempty"`
	DeadAt    time.Time       `json:"dead_at,omitzero"`
}

// DeadLetter is a delivery that exhausted its rule's retry policy, or whose
// rule is no longer routed by the bus. It names the event; its detail stays
// in the bbolt file.
type DeadLetter struct {
	ID        string    `json:"id"`
	Rule      string    `json:"rule"`     // "<FunctionLogicalID>.<EventName>"
	Function  string    `json:"function"` // logical id
	EventID   string    `json:"event_id"`
	EventType string    `json:"event_type"`
	Accepted  time.Time `json:"accepted"` // when Publish (or the last Replay) took it
	Attempts  int       `json:"attempts"`
	LastError string    `json:"last_error"`
	DeadAt    time.Time `json:"dead_at"` // when it was given up
}

// Bus is the local vigie.Bus. Publish may be called before Start and after
// Close: what it accepts waits in the bbolt file. A closed Bus does not
// start again; make a new one on the same file.
type Bus struct {
	db      *bbolt.DB
	match   *Matcher
	targets map[string]Target
	o       Options

	wake chan struct{}
	// abortCtx is the parent of every attempt; Close cancels it when its
	// grace is over.
	abortCtx context.Context
	abort    context.CancelFunc
	wg       sync.WaitGroup // the loop and the attempts under way

	mu       sync.Mutex
	inflight map[string]bool // delivery ids being attempted
	started  bool
	closed   bool
	cancel   context.CancelFunc // stops the loop
	unread   map[string]bool    // queue keys already logged as unreadable
}

var _ vigie.Bus = (*Bus)(nil)

// New returns a bus routing with rules (those on o.BusName, if set), keeping
// its queue in db and delivering to targets, keyed by function logical id.
// Every kept rule's function must have a target and every pattern must load
// in quamina.
func New(db *bbolt.DB, rules []samtemplate.Rule, targets map[string]Target, o Options) (*Bus, error) {
	var kept []samtemplate.Rule
	for _, r := range rules {
		if o.BusName == "" || r.Bus == o.BusName {
			kept = append(kept, r)
		}
	}
	m, err := NewMatcher(kept)
	if err != nil {
		return nil, err
	}
	for _, r := range kept {
		if targets[r.Function] == nil {
			return nil, fmt.Errorf("localbus: new: rule %s: no target for function %s", r.Name, r.Function)
		}
	}
	if o.Clock == nil {
		o.Clock = vigie.SystemClock{}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Backoff == nil {
		o.Backoff = defaultBackoff
	}
	if o.Account == "" {
		o.Account = "000000000000"
	}
	if o.Region == "" {
		o.Region = "local"
	}
	if o.DeliveryTimeout <= 0 {
		o.DeliveryTimeout = 30 * time.Second
	}
	if o.ShutdownGrace <= 0 {
		o.ShutdownGrace = 10 * time.Second
	}
	if o.MaxInFlight <= 0 {
		o.MaxInFlight = 16
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		for _, name := range [][]byte{bucketQueue, bucketDLQ} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("localbus: new: %w", err)
	}
	b := &Bus{db: db, match: m, targets: targets, o: o, wake: make(chan struct{}, 1),
		inflight: map[string]bool{}, unread: map[string]bool{}}
	b.abortCtx, b.abort = context.WithCancel(context.Background())
	return b, nil
}

func defaultBackoff(n int) time.Duration {
	return time.Duration(math.Min(float64(100*time.Millisecond)*math.Pow(2, float64(n-1)), float64(time.Minute)))
}

// Match returns the names of the rules ev would be delivered to.
func (b *Bus) Match(ev vigie.Event) ([]string, error) {
	env, err := Envelope(ev, b.o.Account, b.o.Region)
	if err != nil {
		return nil, err
	}
	return b.match.Match(env)
}

// Publish checks every event as PutEvents would (a type, a JSON object
// detail, at most MaxEntryBytes) and keeps one delivery per matching rule in
// the bbolt file, all in one transaction, before it returns nil: an
// accepted event is never lost. An event with no ID gets one, and one with
// no Time gets the clock's, as EventBridge does. Events that match no rule
// are dropped, as EventBridge does.
//
// Errors: Invalid, naming each bad event, and nothing is accepted;
// Unavailable if the file cannot be written, naming each event not
// accepted.
func (b *Bus) Publish(ctx context.Context, evs ...vigie.Event) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("localbus: publish: %w", err)
	}
	now := b.o.Clock.Now().UTC()
	var bad, names []string
	var ds []delivery
	for i, ev := range evs {
		name := ev.ID
		if name == "" {
			name = fmt.Sprintf("#%d", i)
			ev.ID = newEventID()
		}
		names = append(names, name)
		size := len(vigie.EventSource) + len(ev.Type) + len(ev.Detail)
		if !ev.Time.IsZero() {
			size += 14 // what a set Time counts for in PutEvents
		} else {
			ev.Time = now
		}
		switch {
		case ev.Type == "":
			bad = append(bad, name+" (no type)")
			continue
		case !isJSONObject(ev.Detail):
			bad = append(bad, name+" (detail is not a JSON object)")
			continue
		case size > MaxEntryBytes:
			bad = append(bad, fmt.Sprintf("%s (%d bytes, over %d)", name, size, MaxEntryBytes))
			continue
		}
		env, err := Envelope(ev, b.o.Account, b.o.Region)
		if err != nil {
			bad = append(bad, name+" (no envelope)")
			continue
		}
		rules, err := b.match.Match(env)
		if err != nil {
			bad = append(bad, name+" (not matchable JSON)")
			continue
		}
		for _, rn := range rules {
			r, _ := b.match.Rule(rn)
			ds = append(ds, delivery{Rule: rn, Function: r.Function, EventID: ev.ID, EventType: ev.Type,
				Envelope: env, Accepted: now, NextAt: now})
		}
	}
	if len(bad) > 0 {
		return vigie.Invalidf("events", "localbus: publish: cannot publish %s", strings.Join(bad, ", "))
	}
	if len(ds) == 0 {
		return nil
	}
	err := b.db.Update(func(tx *bbolt.Tx) error {
		q := tx.Bucket(bucketQueue)
		for i := range ds {
			// The bucket's sequence orders deliveries by acceptance and,
			// being stored, never gives an id twice, even across runs
			// with a frozen clock.
			seq, err := q.NextSequence()
			if err != nil {
				return err
			}
			ds[i].ID = deliveryID(seq)
			if err := putJSON(q, ds[i].ID, ds[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return &vigie.Error{Kind: vigie.KindUnavailable, Code: vigie.KindUnavailable,
			Message: "localbus: publish: not accepted: " + strings.Join(names, ", "), Err: err}
	}
	b.signal()
	return nil
}

func deliveryID(seq uint64) string {
	var k [8]byte
	binary.BigEndian.PutUint64(k[:], seq)
	return hex.EncodeToString(k[:])
}

// newEventID returns a random UUID (version 4), as EventBridge's ids are.
func newEventID() string {
	var u [16]byte
	_, _ = rand.Read(u[:])
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	h := hex.EncodeToString(u[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func (b *Bus) signal() {
	select {
	case b.wake <- struct{}{}:
	default:
	}
}

// Start starts delivering, beginning with whatever an earlier process left
// queued. Delivery stops when ctx ends or at Close; attempts under way are
// not cut short by ctx, only by Close.
func (b *Bus) Start(ctx context.Context) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case b.closed:
		return errors.New("localbus: start: the bus is closed")
	case b.started:
		return errors.New("localbus: start: already started")
	}
	b.started = true
	ctx, b.cancel = context.WithCancel(ctx)
	b.wg.Add(1)
	go b.loop(ctx)
	b.signal()
	return nil
}

// Close stops delivering and waits for the attempts under way: for
// ShutdownGrace, then it cancels them and waits as long again. An attempt
// cut short stays queued as it was, for the next Start; undelivered events
// stay queued. Close returns an error if attempts are still running after
// that (a target that ignores its context); they record their outcome if
// they ever return.
func (b *Bus) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	cancel := b.cancel
	b.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	done := make(chan struct{})
	go func() {
		b.wg.Wait()
		close(done)
	}()
	grace := time.NewTimer(b.o.ShutdownGrace)
	defer grace.Stop()
	select {
	case <-done:
		b.abort()
		return nil
	case <-grace.C:
	}
	b.abort()
	grace.Reset(b.o.ShutdownGrace)
	select {
	case <-done:
		return nil
	case <-grace.C:
		return fmt.Errorf("localbus: close: deliveries still running %v after being cancelled", b.o.ShutdownGrace)
	}
}

// idlePoll is how often the loop looks at the queue with nothing to wake
// it: it catches retries whose time comes by an injected clock.
const idlePoll = time.Second

func (b *Bus) loop(ctx context.Context) {
	defer b.wg.Done()
	for {
		wait := b.dispatch(ctx)
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-b.wake:
		case <-timer.C:
		}
		timer.Stop()
	}
}

// dispatch starts the due deliveries, up to MaxInFlight at once, and
// returns how long to wait before looking again.
func (b *Bus) dispatch(ctx context.Context) time.Duration {
	now := b.o.Clock.Now()
	// Take the in-flight set before reading the queue: an attempt removes
	// itself from the set only after writing its outcome, so whatever the
	// snapshot says is no longer in flight has its outcome in the read
	// below, and is never started twice.
	b.mu.Lock()
	busy := maps.Clone(b.inflight)
	b.mu.Unlock()
	room := b.o.MaxInFlight - len(busy)
	if room <= 0 {
		return idlePoll // an attempt ending wakes the loop
	}
	wait := idlePoll
	var due []delivery
	errFull := errors.New("full")
	_ = b.db.View(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketQueue).ForEach(func(k, v []byte) error {
			if busy[string(k)] {
				return nil
			}
			var d delivery
			if err := json.Unmarshal(v, &d); err != nil {
				b.logUnreadable(string(k), err)
				return nil
			}
			if w := d.NextAt.Sub(now); w > 0 {
				wait = min(wait, w)
				return nil
			}
			due = append(due, d)
			if len(due) == room {
				return errFull
			}
			return nil
		})
	})
	for _, d := range due {
		if ctx.Err() != nil {
			break
		}
		b.mu.Lock()
		b.inflight[d.ID] = true
		b.mu.Unlock()
		b.wg.Add(1)
		go func() {
			defer b.wg.Done()
			b.attempt(d)
			b.mu.Lock()
			delete(b.inflight, d.ID)
			b.mu.Unlock()
			b.signal()
		}()
	}
	return wait
}

func (b *Bus) logUnreadable(key string, err error) {
	b.mu.Lock()
	seen := b.unread[key]
	b.unread[key] = true
	b.mu.Unlock()
	if !seen {
		b.o.Logger.Error("queued delivery unreadable; left in the queue", "delivery", key, "error", err)
	}
}

// attempt delivers d once and records the outcome.
func (b *Bus) attempt(d delivery) {
	log := b.o.Logger.With("delivery", d.ID, "event_id", d.EventID, "event_type", d.EventType,
		"rule", d.Rule, "function", d.Function, "attempt", d.Attempts+1)
	r, known := b.match.Rule(d.Rule)
	target := b.targets[d.Function]
	var err error
	if !known || target == nil {
		err = fmt.Errorf("rule %s is not routed by this bus (no longer in the template?)", d.Rule)
	} else {
		var ev events.EventBridgeEvent
		if err = json.Unmarshal(d.Envelope, &ev); err == nil {
			ctx, cancel := context.WithTimeout(b.abortCtx, b.o.DeliveryTimeout)
			err = safeCall(ctx, target, ev)
			cancel()
		}
		if err != nil && b.abortCtx.Err() != nil {
			log.Info("event delivery cut short by shutdown; stays queued")
			b.observe(d, outcomeCut)
			return
		}
	}
	now := b.o.Clock.Now().UTC()
	outcome := outcomeDelivered
	werr := b.db.Update(func(tx *bbolt.Tx) error {
		q := tx.Bucket(bucketQueue)
		if err == nil {
			return q.Delete([]byte(d.ID))
		}
		d.Attempts++
		d.LastError = truncate(err.Error(), maxErrorLen)
		// MaximumRetryAttempts counts the retries after the first attempt.
		if !known || d.Attempts > r.RetryAttempts || now.Sub(d.Accepted) >= r.MaxEventAge {
			outcome = outcomeDead
			d.DeadAt = now
			if err := q.Delete([]byte(d.ID)); err != nil {
				return err
			}
			return putJSON(tx.Bucket(bucketDLQ), d.ID, d)
		}
		outcome = outcomeRetry
		d.NextAt = now.Add(b.o.Backoff(d.Attempts))
		return putJSON(q, d.ID, d)
	})
	switch {
	case werr != nil:
		// Not recorded: the delivery stays as it was and is attempted
		// again, so a success may be delivered twice (at least once).
		log.Error("event delivery outcome not recorded", "outcome", outcome, "error", werr)
		return
	case outcome == outcomeDelivered:
		log.Debug("event delivered")
	case outcome == outcomeRetry:
		log.Warn("event delivery failed; will retry", "error", d.LastError, "retry_at", d.NextAt)
	default:
		log.Error("event delivery failed; moved to the dead-letter list", "error", d.LastError)
	}
	b.observe(d, outcome)
}

func (b *Bus) observe(d delivery, outcome string) {
	if b.o.observe != nil {
		b.o.observe(d, outcome)
	}
}

func safeCall(ctx context.Context, t Target, ev events.EventBridgeEvent) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("target panicked: %v", p)
		}
	}()
	return t(ctx, ev)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}

// Pending returns how many deliveries are queued, in flight included.
func (b *Bus) Pending() (int, error) {
	n := 0
	err := b.db.View(func(tx *bbolt.Tx) error {
		n = tx.Bucket(bucketQueue).Stats().KeyN
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("localbus: pending: %w", err)
	}
	return n, nil
}

// DeadLetters lists the dead-letter list, oldest delivery first.
func (b *Bus) DeadLetters(ctx context.Context) ([]DeadLetter, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("localbus: dead letters: %w", err)
	}
	var out []DeadLetter
	err := b.db.View(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketDLQ).ForEach(func(_, v []byte) error {
			var d delivery
			if err := json.Unmarshal(v, &d); err != nil {
				return err
			}
			out = append(out, DeadLetter{ID: d.ID, Rule: d.Rule, Function: d.Function, EventID: d.EventID,
				EventType: d.EventType, Accepted: d.Accepted, Attempts: d.Attempts, LastError: d.LastError, DeadAt: d.DeadAt})
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("localbus: dead letters: %w", err)
	}
	return out, nil
}

// Replay puts a dead letter back on the queue for its rule's function, with
// a fresh retry budget (attempts and event age start again), and removes it
// from the list. Errors: NotFound for an unknown id.
func (b *Bus) Replay(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("localbus: replay: %w", err)
	}
	err := b.db.Update(func(tx *bbolt.Tx) error {
		v := tx.Bucket(bucketDLQ).Get([]byte(id))
		if v == nil {
			return vigie.Errorf(vigie.KindNotFound, "no dead letter %q", id)
		}
		return b.requeue(tx, []byte(id), v)
	})
	if _, ok := vigie.AsError(err); ok {
		return err
	}
	if err != nil {
		return fmt.Errorf("localbus: replay: %w", err)
	}
	b.signal()
	return nil
}

// ReplayAll replays every dead letter and returns how many.
func (b *Bus) ReplayAll(ctx context.Context) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("localbus: replay all: %w", err)
	}
	n := 0
	err := b.db.Update(func(tx *bbolt.Tx) error {
		type kv struct{ k, v []byte }
		var all []kv
		// The bucket must not change under ForEach, and what it yields
		// may not outlive the changes: copy, then move.
		_ = tx.Bucket(bucketDLQ).ForEach(func(k, v []byte) error {
			all = append(all, kv{bytes.Clone(k), bytes.Clone(v)})
			return nil
		})
		for _, e := range all {
			if err := b.requeue(tx, e.k, e.v); err != nil {
				return err
			}
		}
		n = len(all)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("localbus: replay all: %w", err)
	}
	if n > 0 {
		b.signal()
	}
	return n, nil
}

// requeue moves the dead letter at key, whose stored value is v, back to the
// queue with a fresh retry budget.
func (b *Bus) requeue(tx *bbolt.Tx, key, v []byte) error {
	var d delivery
	if err := json.Unmarshal(v, &d); err != nil {
		return err
	}
	now := b.o.Clock.Now().UTC()
	d.Attempts, d.Accepted, d.NextAt, d.LastError, d.DeadAt = 0, now, now, "", time.Time{}
	if err := putJSON(tx.Bucket(bucketQueue), d.ID, d); err != nil {
		return err
	}
	return tx.Bucket(bucketDLQ).Delete(key)
}

func putJSON(bk *bbolt.Bucket, key string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return bk.Put([]byte(key), data)
}
