// Package localbus is the in-process event bus of the local runner. It
// routes events to functions with the rules of template.yaml, matched by
// quamina; keeps every accepted event in the bbolt file until each matching
// function has taken it, so an event accepted before a stop is delivered at
// the next start; retries per each rule's RetryPolicy; and moves what
// exhausts its retries to a dead-letter list that can be listed and
// replayed.
package localbus

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"go.etcd.io/bbolt"

	"vigie/internal/samtemplate"
	"vigie/internal/vigie"
)

// Target receives the events of a function's rules, as EventBridge would
// invoke the function.
type Target func(ctx context.Context, ev events.EventBridgeEvent) error

// Options configure a Bus.
type Options struct {
	Clock   vigie.Clock
	Logger  *slog.Logger
	Backoff func(attempt int) time.Duration // wait before attempt n+1; default exponential from 100 ms to 1 min
	Account string                          // default 000000000000
	Region  string                          // default local
	// DeliveryTimeout bounds one delivery; default 30 s.
	DeliveryTimeout time.Duration
	// ShutdownGrace is how long Close lets deliveries in flight finish
	// before cancelling them; a cancelled one stays queued, its attempt not
	// counted. Default 10 s.
	ShutdownGrace time.Duration
}

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
}

// DeadLetter is a delivery that exhausted its rule's retry policy.
type DeadLetter struct {
	ID        string    `json:"id"`
	Rule      string    `json:"rule"`
	Function  string    `json:"function"`
	EventID   string    `json:"event_id"`
	EventType string    `json:"event_type"`
	Accepted  time.Time `json:"accepted"`
	Attempts  int       `json:"attempts"`
	LastError string    `json:"last_error"`
}

// Bus is the local vigie.Bus.
type Bus struct {
	db      *bbolt.DB
	match   *Matcher
	targets map[string]Target
	o       Options

	wake     chan struct{}
	mu       sync.Mutex
	inflight map[string]bool
	seq      uint64
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	// abort ends deliveries in flight when Close's grace is over.
	abortCtx context.Context
	abort    context.CancelFunc
}

var _ vigie.Bus = (*Bus)(nil)

// New returns a bus keeping its queue in db (buckets "bus/queue" and
// "bus/dlq") and delivering to targets, keyed by function logical id. Every
// rule's function must have a target.
func New(db *bbolt.DB, rules []samtemplate.Rule, targets map[string]Target, o Options) (*Bus, error) {
	m, err := NewMatcher(rules)
	if err != nil {
		return nil, err
	}
	for _, r := range rules {
		if targets[r.Function] == nil {
			return nil, fmt.Errorf("localbus: rule %s: no target for function %s", r.Name, r.Function)
		}
	}
	if o.Clock == nil {
		o.Clock = vigie.SystemClock{}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Backoff == nil {
		o.Backoff = func(n int) time.Duration {
			return time.Duration(math.Min(float64(100*time.Millisecond)*math.Pow(2, float64(n-1)), float64(time.Minute)))
		}
	}
	if o.Account == "" {
		o.Account = "000000000000"
	}
	if o.Region == "" {
		o.Region = "local"
	}
	if o.ShutdownGrace <= 0 {
		o.ShutdownGrace = 10 * time.Second
	}
	if o.DeliveryTimeout <= 0 {
		o.DeliveryTimeout = 30 * time.Second
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		for _, b := range [][]byte{bucketQueue, bucketDLQ} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("localbus: %w", err)
	}
	bus := &Bus{db: db, match: m, targets: targets, o: o, wake: make(chan struct{}, 1), inflight: map[string]bool{}}
	bus.abortCtx, bus.abort = context.WithCancel(context.Background())
	return bus, nil
}

// Publish keeps one delivery per matching rule in the bbolt file, in one
// transaction, before it returns: an accepted event is never lost. Events
// that match no rule are dropped, as EventBridge does.
func (b *Bus) Publish(ctx context.Context, evs ...vigie.Event) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	now := b.o.Clock.Now()
	var ds []delivery
	for _, ev := range evs {
		env, err := Envelope(ev, b.o.Account, b.o.Region)
		if err != nil {
			return err
		}
		rules, err := b.match.Match(env)
		if err != nil {
			return err
		}
		for _, name := range rules {
			r, _ := b.match.Rule(name)
			ds = append(ds, delivery{ID: b.nextID(now), Rule: name, Function: r.Function, EventID: ev.ID,
				EventType: ev.Type, Envelope: env, Accepted: now, NextAt: now})
		}
	}
	if len(ds) == 0 {
		return nil
	}
	err := b.db.Update(func(tx *bbolt.Tx) error {
		q := tx.Bucket(bucketQueue)
		for _, d := range ds {
			if err := putJSON(q, d.ID, d); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return &vigie.Error{Kind: vigie.KindUnavailable, Message: "local bus unavailable", Err: err}
	}
	b.signal()
	return nil
}

// nextID orders deliveries by acceptance time, then by a process counter.
func (b *Bus) nextID(now time.Time) string {
	b.mu.Lock()
	b.seq++
	s := b.seq
	b.mu.Unlock()
	var buf [16]byte
	binary.BigEndian.PutUint64(buf[:8], uint64(now.UnixNano()))
	binary.BigEndian.PutUint64(buf[8:], s)
	return fmt.Sprintf("%x", buf)
}

func (b *Bus) signal() {
	select {
	case b.wake <- struct{}{}:
	default:
	}
}

// Start delivers, beginning with whatever an earlier process left queued.
func (b *Bus) Start(ctx context.Context) error {
	ctx, b.cancel = context.WithCancel(ctx)
	b.wg.Add(1)
	go b.loop(ctx)
	b.signal()
	return nil
}

// Close stops delivering and waits for deliveries in flight, cancelling
// those still running after ShutdownGrace; what is not delivered stays
// queued for the next Start.
func (b *Bus) Close() error {
	if b.cancel != nil {
		b.cancel()
	}
	done := make(chan struct{})
	go func() {
		b.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(b.o.ShutdownGrace):
		b.abort()
		<-done
	}
	return nil
}

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

// dispatch starts every due delivery and returns how long to wait for the
// next one.
func (b *Bus) dispatch(ctx context.Context) time.Duration {
	now := b.o.Clock.Now()
	wait := time.Second
	var due []delivery
	_ = b.db.View(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketQueue).ForEach(func(k, v []byte) error {
			var d delivery
			if json.Unmarshal(v, &d) != nil {
				return nil
			}
			b.mu.Lock()
			busy := b.inflight[d.ID]
			b.mu.Unlock()
			if busy {
				return nil
			}
			if !d.NextAt.After(now) {
				due = append(due, d)
			} else if w := d.NextAt.Sub(now); w < wait {
				wait = w
			}
			return nil
		})
	})
	for _, d := range due {
		if ctx.Err() != nil {
			break
		}
		// The snapshot above may predate a delivery that finished since:
		// claim d only if no attempt is under way and it is still queued.
		// (An attempt deletes its record before it leaves inflight, so one
		// of the two checks sees it.)
		b.mu.Lock()
		claim := !b.inflight[d.ID] && b.queued(d.ID)
		if claim {
			b.inflight[d.ID] = true
		}
		b.mu.Unlock()
		if !claim {
			continue
		}
		b.wg.Add(1)
		go func() {
			defer b.wg.Done()
			b.deliver(d)
			b.mu.Lock()
			delete(b.inflight, d.ID)
			b.mu.Unlock()
			b.signal()
		}()
	}
	return wait
}

// queued reports whether delivery id is still in the queue.
func (b *Bus) queued(id string) bool {
	found := false
	_ = b.db.View(func(tx *bbolt.Tx) error {
		found = tx.Bucket(bucketQueue).Get([]byte(id)) != nil
		return nil
	})
	return found
}

// deliver runs one attempt. Close does not cancel it at once: an attempt
// under way gets ShutdownGrace to finish so that its outcome is recorded.
func (b *Bus) deliver(d delivery) {
	var ev events.EventBridgeEvent
	err := json.Unmarshal(d.Envelope, &ev)
	if err == nil {
		ctx, cancel := context.WithTimeout(b.abortCtx, b.o.DeliveryTimeout)
		err = safeCall(ctx, b.targets[d.Function], ev)
		cancel()
	}
	if err != nil && b.abortCtx.Err() != nil {
		return // cut short by Close: stays queued as it was
	}
	log := b.o.Logger.With("event_id", d.EventID, "event_type", d.EventType, "rule", d.Rule, "attempt", d.Attempts+1)
	now := b.o.Clock.Now()
	_ = b.db.Update(func(tx *bbolt.Tx) error {
		q := tx.Bucket(bucketQueue)
		if err == nil {
			log.Debug("event delivered")
			return q.Delete([]byte(d.ID))
		}
		d.Attempts++
		d.LastError = err.Error()
		r, _ := b.match.Rule(d.Rule)
		// RetryAttempts counts retries after the first attempt.
		if d.Attempts > r.RetryAttempts || now.Sub(d.Accepted) >= r.MaxEventAge {
			log.Warn("event moved to the dead-letter list", "error", err)
			if err := q.Delete([]byte(d.ID)); err != nil {
				return err
			}
			return putJSON(tx.Bucket(bucketDLQ), d.ID, d)
		}
		d.NextAt = now.Add(b.o.Backoff(d.Attempts))
		log.Info("event delivery failed, will retry", "error", err, "retry_at", d.NextAt)
		return putJSON(q, d.ID, d)
	})
}

func safeCall(ctx context.Context, t Target, ev events.EventBridgeEvent) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("target panicked: %v", p)
		}
	}()
	return t(ctx, ev)
}

// Pending returns how many deliveries are queued.
func (b *Bus) Pending() (int, error) {
	n := 0
	err := b.db.View(func(tx *bbolt.Tx) error {
		n = tx.Bucket(bucketQueue).Stats().KeyN
		return nil
	})
	return n, err
}

// DeadLetters lists the dead-letter list, oldest first.
func (b *Bus) DeadLetters(ctx context.Context) ([]DeadLetter, error) {
	var out []DeadLetter
	err := b.db.View(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketDLQ).ForEach(func(_, v []byte) error {
			var d delivery
			if err := json.Unmarshal(v, &d); err != nil {
				return err
			}
			out = append(out, DeadLetter{ID: d.ID, Rule: d.Rule, Function: d.Function, EventID: d.EventID,
				EventType: d.EventType, Accepted: d.Accepted, Attempts: d.Attempts, LastError: d.LastError})
			return nil
		})
	})
	return out, err
}

// Replay puts a dead letter back on the queue for its rule's function, with
// a fresh retry budget. Returns NotFound for an unknown id.
func (b *Bus) Replay(ctx context.Context, id string) error {
	err := b.db.Update(func(tx *bbolt.Tx) error {
		dlq := tx.Bucket(bucketDLQ)
		v := dlq.Get([]byte(id))
		if v == nil {
			return vigie.Errorf(vigie.KindNotFound, "no dead letter %q", id)
		}
		var d delivery
		if err := json.Unmarshal(v, &d); err != nil {
			return err
		}
		now := b.o.Clock.Now()
		d.Attempts, d.Accepted, d.NextAt, d.LastError = 0, now, now, ""
		if err := dlq.Delete([]byte(id)); err != nil {
			return err
		}
		return putJSON(tx.Bucket(bucketQueue), d.ID, d)
	})
	if err == nil {
		b.signal()
	}
	var ve *vigie.Error
	if errors.As(err, &ve) {
		return err
	}
	if err != nil {
		return fmt.Errorf("localbus: replay: %w", err)
	}
	return nil
}

func putJSON(bk *bbolt.Bucket, key string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return bk.Put([]byte(key), data)
}
