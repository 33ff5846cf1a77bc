// Package web holds the HTTP conventions shared by Vigie's APIs: JSON error
// bodies with stable codes, the one mapping from error kinds to statuses, and
// bounded body reading.
package web

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"

	"vigie/internal/vigie"
)

// StatusOf maps an error kind to its HTTP status. Unknown errors are 500.
func StatusOf(err error) int {
	switch vigie.ErrorKind(err) {
	case vigie.KindInvalid:
		return http.StatusBadRequest
	case vigie.KindUnauthorized:
		return http.StatusUnauthorized
	case vigie.KindForbidden:
		return http.StatusForbidden
	case vigie.KindNotFound:
		return http.StatusNotFound
	case vigie.KindConflict:
		return http.StatusConflict
	case vigie.KindTooLarge:
		return http.StatusRequestEntityTooLarge
	case vigie.KindRateLimited:
		return http.StatusTooManyRequests
	case vigie.KindUnavailable:
		return http.StatusServiceUnavailable
	default:
		return http.StatusInternalServerError
	}
}

// ErrorBody is the JSON body of every error answer.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail names what went wrong: Code is stable for programs, Message is
// for people, Field names the offending input when there is one.
type ErrorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

// Error writes err as a JSON error answer. 5xx answers never carry the
// error's text: it is logged instead, and the client gets a generic message.
func Error(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	status := StatusOf(err)
	body := ErrorDetail{Code: vigie.KindInternal, Message: "internal error"}
	if e, ok := vigie.AsError(err); ok && status < 500 {
		body = ErrorDetail{Code: e.Code, Message: e.Message, Field: e.Field}
		if body.Code == "" {
			body.Code = e.Kind
		}
	} else if status == http.StatusServiceUnavailable {
		body = ErrorDetail{Code: vigie.KindUnavailable, Message: "temporarily unavailable, retry later"}
	}
	if log != nil {
		level := slog.LevelInfo
		if status >= 500 {
			level = slog.LevelError
		}
		log.LogAttrs(r.Context(), level, "request failed",
			slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.Int("status", status), slog.String("error", err.Error()))
	}
	JSON(w, status, ErrorBody{Error: body})
}

// JSON writes v as a JSON answer with the given status.
func JSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// ReadBody reads at most limit bytes of r's body. A longer body is a TooLarge
// error; nothing of it is processed.
func ReadBody(r *http.Request, limit int64) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, vigie.Errorf(vigie.KindTooLarge, "body is over %d bytes", limit)
		}
		return nil, vigie.Errorf(vigie.KindInvalid, "could not read body")
	}
	if int64(len(body)) > limit {
		return nil, vigie.Errorf(vigie.KindTooLarge, "body is over %d bytes", limit)
	}
	return body, nil
}

// DecodeJSON decodes a JSON object body strictly: unknown fields and trailing
// data are Invalid errors.
func DecodeJSON(body []byte, v any) error {
	dec := json.NewDecoder(bytesReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return vigie.Errorf(vigie.KindInvalid, "malformed JSON body: %s", jsonProblem(err))
	}
	if dec.More() {
		return vigie.Errorf(vigie.KindInvalid, "malformed JSON body: data after the object")
	}
	return nil
}
