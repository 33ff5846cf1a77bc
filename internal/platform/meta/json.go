package meta

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"time"
)

var stringType = reflect.TypeFor[string]()

// id is a Graph id: a string, though older payloads sent some as numbers.
type id string

func (i *id) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*i = id(s)
	case string(b) == "null":
	case len(b) > 0 && (b[0] == '-' || b[0] >= '0' && b[0] <= '9'):
		*i = id(b)
	default:
		return &json.UnmarshalTypeError{Value: valueKind(b), Type: stringType}
	}
	return nil
}

// unixTime is a time Meta sends as unix seconds (created_time, entry
// time), milliseconds (messaging), or at times as a string, ISO 8601 with
// a +0000 offset.
type unixTime struct{ time.Time }

var timeType = reflect.TypeFor[time.Time]()

func (t *unixTime) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	s := string(b)
	if s == "null" {
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		if s == "" {
			return nil
		}
		if tm, ok := parseGraphTime(s); ok {
			t.Time = tm
			return nil
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < 0 || f > 1e15 {
		return &json.UnmarshalTypeError{Value: valueKind(b), Type: timeType}
	}
	if f > 1e11 { // milliseconds: seconds would be after the year 5000
		t.Time = time.UnixMilli(int64(f)).UTC()
	} else {
		t.Time = time.Unix(int64(f), 0).UTC()
	}
	return nil
}

// parseGraphTime parses the Graph API's time formats.
func parseGraphTime(s string) (time.Time, bool) {
	for _, layout := range []string{"2006-01-02T15:04:05-0700", time.RFC3339Nano} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

func valueKind(b []byte) string {
	if len(b) == 0 {
		return "nothing"
	}
	switch b[0] {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "bool"
	}
	if strings.HasPrefix(string(b), "null") {
		return "null"
	}
	return "number"
}
