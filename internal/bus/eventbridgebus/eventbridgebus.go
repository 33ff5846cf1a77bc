// Package eventbridgebus is the cloud vigie.Bus: it publishes events to an
// Amazon EventBridge bus with PutEvents, in batches that stay within
// EventBridge's limits, and retries the entries that EventBridge did not
// accept.
package eventbridgebus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/smithy-go"

	"vigie/internal/vigie"
)

// EventBridge's PutEvents limits.
const (
	// MaxBatchEntries is the most entries one PutEvents call may carry.
	MaxBatchEntries = 10
	// MaxBatchBytes is the most one PutEvents call may carry, as counted by
	// EntrySize; it is also the largest event that can be published.
	MaxBatchBytes = 256 * 1024
)

// timeSize is what a set Time counts for in an entry's size, per AWS's
// "Calculating PutEvents event entry size".
const timeSize = 14

// PutEventsAPI is the part of the EventBridge client that Bus uses;
// *eventbridge.Client satisfies it.
type PutEventsAPI interface {
	PutEvents(ctx context.Context, in *eventbridge.PutEventsInput, optFns ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error)
}

// Options tune a Bus. The zero value is usable.
type Options struct {
	// MaxAttempts is how many times an entry is sent before Publish gives
	// up on it; 0 means 5. The SDK client's own retries of a failed call
	// happen within one attempt.
	MaxAttempts int
	// Backoff is the wait after failed attempt number attempt (1-based)
	// before the next one; nil means exponential with jitter, capped at
	// 2s. Tests pass a func returning 0.
	Backoff func(attempt int) time.Duration
	// OnPut, when set, is called before each PutEvents call with the
	// number of entries it carries (benchmarks count entries with it).
	OnPut func(entries int)
}

// Bus publishes events to one EventBridge bus.
type Bus struct {
	client  PutEventsAPI
	busName string
	opts    Options
}

var _ vigie.Bus = (*Bus)(nil)

// New returns a Bus that puts events on the bus named busName (a name or
// an ARN) through client.
func New(client PutEventsAPI, busName string, opts Options) *Bus {
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = 5
	}
	if opts.Backoff == nil {
		opts.Backoff = defaultBackoff
	}
	return &Bus{client: client, busName: busName, opts: opts}
}

// defaultBackoff waits 100ms, 200ms, 400ms... capped at 2s, half of it
// random so that concurrent publishers that were throttled together do not
// come back together.
func defaultBackoff(attempt int) time.Duration {
	const base, ceiling = 100 * time.Millisecond, 2 * time.Second
	d := ceiling
	if attempt < 6 {
		d = min(base<<max(attempt-1, 0), ceiling)
	}
	half := d / 2
	return half + rand.N(half+1)
}

// Failure is one event that EventBridge did not accept.
type Failure struct {
	EventID string
	// Code is EventBridge's per-entry ErrorCode, the API error code of a
	// failed call, "RequestFailed" for a call that failed without one,
	// "IncompleteResponse" when EventBridge's answer did not cover every
	// entry, or "NotSent" for an event that Publish gave up on (its context
	// ended) before sending it.
	Code string
}

// NotAcceptedError lists the events that Publish could not get accepted.
// Publish returns it wrapped in a *vigie.Error of kind Unavailable; find it
// with errors.As.
type NotAcceptedError struct {
	Failures []Failure
	Attempts int
	// Err is the last whole-call error, or the context's error, if any.
	Err error
}

func (e *NotAcceptedError) Error() string {
	var b strings.Builder
	for i, f := range e.Failures {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s (%s)", f.EventID, f.Code)
	}
	if e.Attempts == 1 {
		b.WriteString(" not accepted after 1 attempt")
	} else {
		fmt.Fprintf(&b, " not accepted after %d attempts", e.Attempts)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func (e *NotAcceptedError) Unwrap() error { return e.Err }

// pending is an event on its way, with its last failure.
type pending struct {
	index int // in Publish's arguments
	id    string
	entry types.PutEventsRequestEntry
	size  int
	code  string
	// permanent is set when resending the entry cannot help.
	permanent bool
}

// Publish puts events on the bus. It returns nil only when EventBridge
// accepted every one. Before sending anything it checks every event and
// returns Invalid, naming each bad one, if any has no type, a detail that is
// not a JSON object, or is larger than MaxBatchBytes; then nothing is sent.
// Entries that EventBridge rejects with a transient code, and calls that
// fail transiently (throttling, 5xx, network), are retried with backoff, up
// to MaxAttempts; after that, or when ctx ends, it returns Unavailable
// wrapping a *NotAcceptedError that names every event not accepted. Events
// it reports as not accepted may still have been delivered (a call can fail
// after EventBridge took it), so consumers must tolerate repeats.
func (b *Bus) Publish(ctx context.Context, events ...vigie.Event) error {
	if len(events) == 0 {
		return nil
	}
	todo, err := b.entries(events)
	if err != nil {
		return err
	}
	var (
		gaveUp  []*pending // failed for good: not resent
		lastErr error
		attempt int
	)
	for attempt = 1; ; attempt++ {
		var failed []*pending
		failed, lastErr = b.attempt(ctx, todo)
		todo = nil
		for _, p := range failed {
			if p.permanent {
				gaveUp = append(gaveUp, p)
			} else {
				todo = append(todo, p)
			}
		}
		if len(todo) == 0 || ctx.Err() != nil || attempt == b.opts.MaxAttempts {
			break
		}
		if err := sleep(ctx, b.opts.Backoff(attempt)); err != nil {
			break
		}
	}
	notAccepted := append(gaveUp, todo...)
	if len(notAccepted) == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		lastErr = err
	}
	slices.SortFunc(notAccepted, func(a, b *pending) int { return a.index - b.index })
	nae := &NotAcceptedError{Attempts: attempt, Err: lastErr}
	for _, p := range notAccepted {
		nae.Failures = append(nae.Failures, Failure{EventID: p.id, Code: p.code})
	}
	return &vigie.Error{Kind: vigie.KindUnavailable, Code: vigie.KindUnavailable, Message: "eventbridgebus: publish", Err: nae}
}

// entries checks events and turns them into PutEvents entries.
func (b *Bus) entries(events []vigie.Event) ([]*pending, error) {
	out := make([]*pending, 0, len(events))
	var bad []string
	for i, ev := range events {
		name := ev.ID
		if name == "" {
			name = fmt.Sprintf("#%d", i)
		}
		e := types.PutEventsRequestEntry{
			EventBusName: aws.String(b.busName),
			Source:       aws.String(vigie.EventSource),
			DetailType:   aws.String(ev.Type),
			Detail:       aws.String(string(ev.Detail)),
		}
		if !ev.Time.IsZero() {
			e.Time = aws.Time(ev.Time)
		}
		size := EntrySize(e)
		switch {
		case ev.Type == "":
			bad = append(bad, name+" (no type)")
		case !isJSONObject(ev.Detail):
			bad = append(bad, name+" (detail is not a JSON object)")
		case size > MaxBatchBytes:
			bad = append(bad, fmt.Sprintf("%s (%d bytes, over %d)", name, size, MaxBatchBytes))
		}
		out = append(out, &pending{index: i, id: name, entry: e, size: size})
	}
	if len(bad) > 0 {
		return nil, vigie.Invalidf("events", "eventbridgebus: publish: cannot publish %s", strings.Join(bad, ", "))
	}
	return out, nil
}

func isJSONObject(raw json.RawMessage) bool {
	s := strings.TrimLeft(string(raw), " \t\r\n")
	return strings.HasPrefix(s, "{") && json.Valid(raw)
}

// EntrySize is the size EventBridge counts for an entry, per AWS's
// "Calculating PutEvents event entry size": 14 bytes for a set Time, plus the
// UTF-8 bytes of Source, DetailType, Detail and each of Resources. The
// EventBusName does not count.
func EntrySize(e types.PutEventsRequestEntry) int {
	n := 0
	if e.Time != nil {
		n += timeSize
	}
	n += len(aws.ToString(e.Source)) + len(aws.ToString(e.DetailType)) + len(aws.ToString(e.Detail))
	for _, r := range e.Resources {
		n += len(r)
	}
	return n
}

// batches splits ps, in order, into runs of at most MaxBatchEntries entries
// and MaxBatchBytes bytes.
func batches(ps []*pending) [][]*pending {
	var out [][]*pending
	var cur []*pending
	size := 0
	for _, p := range ps {
		if len(cur) == MaxBatchEntries || (len(cur) > 0 && size+p.size > MaxBatchBytes) {
			out = append(out, cur)
			cur, size = nil, 0
		}
		cur = append(cur, p)
		size += p.size
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// attempt sends ps once and returns those not accepted, each with its code,
// and the last whole-call error. Once ctx ends, the batches not yet sent
// count as failed with code NotSent.
func (b *Bus) attempt(ctx context.Context, ps []*pending) (failed []*pending, lastErr error) {
	for _, batch := range batches(ps) {
		if ctx.Err() != nil {
			for _, p := range batch {
				if p.code == "" {
					p.code = codeNotSent
				}
			}
			failed = append(failed, batch...)
			continue
		}
		f, err := b.put(ctx, batch)
		failed = append(failed, f...)
		if err != nil {
			lastErr = err
		}
	}
	return failed, lastErr
}

const (
	codeNotSent       = "NotSent"
	codeRequestFailed = "RequestFailed"
)

// put makes one PutEvents call for batch and returns the entries not
// accepted.
func (b *Bus) put(ctx context.Context, batch []*pending) ([]*pending, error) {
	in := &eventbridge.PutEventsInput{Entries: make([]types.PutEventsRequestEntry, len(batch))}
	for i, p := range batch {
		in.Entries[i] = p.entry
	}
	if b.opts.OnPut != nil {
		b.opts.OnPut(len(batch))
	}
	out, err := b.client.PutEvents(ctx, in)
	if err != nil {
		code := codeRequestFailed
		var ae smithy.APIError
		if errors.As(err, &ae) && ae.ErrorCode() != "" {
			code = ae.ErrorCode()
		}
		permanent := !retryableCall(err)
		for _, p := range batch {
			p.code, p.permanent = code, permanent
		}
		return batch, fmt.Errorf("put events: %w", err)
	}
	if out.FailedEntryCount == 0 && len(out.Entries) == len(batch) {
		return nil, nil
	}
	// The result entries match the request entries by index. A response
	// that does not (never seen, but then nothing can be told) fails the
	// whole batch rather than guess.
	if len(out.Entries) != len(batch) {
		for _, p := range batch {
			p.code = "IncompleteResponse"
		}
		return batch, nil
	}
	var failed []*pending
	for i, r := range out.Entries {
		if r.ErrorCode == nil && r.EventId != nil {
			continue
		}
		p := batch[i]
		p.code = aws.ToString(r.ErrorCode)
		if p.code == "" {
			p.code = "Unknown"
		}
		p.permanent = permanentEntryCodes[p.code]
		failed = append(failed, p)
	}
	return failed, nil
}

// permanentEntryCodes are the per-entry error codes that resending the same
// entry cannot fix (EventBridge's documented non-retryable ones). Unknown
// codes are retried: a needless retry costs less than a lost event.
var permanentEntryCodes = map[string]bool{
	"AccessDeniedException":               true,
	"InvalidAccountIdException":           true,
	"InvalidArgument":                     true,
	"MalformedDetail":                     true,
	"RedactionFailure":                    true,
	"NotAuthorizedForSourceException":     true,
	"NotAuthorizedForDetailTypeException": true,
}

// retryableCall tells whether a failed call may succeed if made again:
// throttling, 5xx and connection errors may; an API error the caller caused
// (validation, missing bus, access denied) will not. Unknown errors are
// retried.
func retryableCall(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	switch retry.IsErrorRetryables(retry.DefaultRetryables).IsErrorRetryable(err) {
	case aws.TrueTernary:
		return true
	case aws.FalseTernary:
		return false
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorFault() == smithy.FaultServer
	}
	var hs interface{ HTTPStatusCode() int }
	if errors.As(err, &hs) {
		return hs.HTTPStatusCode() >= 500
	}
	return true
}

// sleep waits d, or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
