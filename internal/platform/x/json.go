package x

import (
	"bytes"
	"encoding/json"
	"reflect"
)

var stringType = reflect.TypeFor[string]()

// str is a v1.1 field sent as a string or, at times, a number or boolean
// (timestamp_ms, user_has_blocked, ids).
type str string

func (s *str) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) > 0 && b[0] == '"':
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*s = str(v)
	case string(b) == "null":
	case string(b) == "true" || string(b) == "false" || len(b) > 0 && (b[0] == '-' || b[0] >= '0' && b[0] <= '9'):
		*s = str(b)
	default:
		kind := "object"
		if len(b) > 0 && b[0] == '[' {
			kind = "array"
		}
		return &json.UnmarshalTypeError{Value: kind, Type: stringType}
	}
	return nil
}
