package vigie

import (
	"errors"
	"fmt"
)

// Error kinds. Ports document which kinds they return; one place (package web)
// maps kinds to HTTP statuses.
const (
	KindInvalid      = "invalid"      // input is malformed or fails validation
	KindUnauthorized = "unauthorized" // missing or wrong credentials or signature
	KindForbidden    = "forbidden"    // credentials are valid but not for this
	KindNotFound     = "not_found"    // the thing does not exist (or is not visible to the caller)
	KindConflict     = "conflict"     // already exists, or a concurrent update won
	KindTooLarge     = "too_large"    // the input is over a size limit
	KindRateLimited  = "rate_limited" // slow down and try later
	KindUnavailable  = "unavailable"  // a dependency failed; retrying later may work
	KindInternal     = "internal"     // a bug or an unexpected failure
)

// Error is a failure with a stable kind, a machine-readable code and a
// message safe to show to the caller. Wrap causes with Err; the cause is never
// shown to API clients.
type Error struct {
	Kind    string
	Code    string // stable, e.g. "field_missing"; defaults to Kind
	Message string // safe for clients: never secrets, tokens or request bodies
	Field   string // the offending input field, when there is one
	Err     error  // the cause, for logs only
}

func (e *Error) Error() string {
	msg := e.Message
	if msg == "" {
		msg = e.Kind
	}
	if e.Err != nil {
		return msg + ": " + e.Err.Error()
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error of the given kind with a formatted client-safe message.
func Errorf(kind, format string, args ...any) *Error {
	return &Error{Kind: kind, Code: kind, Message: fmt.Sprintf(format, args...)}
}

// Invalidf returns an Invalid error naming the field at fault.
func Invalidf(field, format string, args ...any) *Error {
	return &Error{Kind: KindInvalid, Code: KindInvalid, Field: field, Message: fmt.Sprintf(format, args...)}
}

// ErrorKind returns the kind of the first *Error in err's chain, or
// KindInternal when there is none.
func ErrorKind(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindInternal
}

// IsKind reports whether err carries the given kind.
func IsKind(err error, kind string) bool { return err != nil && ErrorKind(err) == kind }

// AsError returns the first *Error in err's chain, if any.
func AsError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}
