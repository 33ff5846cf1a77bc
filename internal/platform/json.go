package platform

import (
	"encoding/json"
	"errors"
	"reflect"
	"time"

	"vigie/internal/vigie"
)

// Decode unmarshals raw into v and turns a failure into a vigie Invalid
// error naming the field, path being where raw sits in the body ("" for
// the body itself), so that a platform's malformed delivery answers 400
// with what was wrong.
func Decode(raw []byte, v any, path string) error {
	err := json.Unmarshal(raw, v)
	if err == nil {
		return nil
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		field := path
		if te.Field != "" {
			field = JoinPath(path, te.Field)
		}
		if field == "" {
			field = "body"
		}
		return vigie.Invalidf(field, "%s must be %s, not %s", field, jsonType(te.Type), te.Value)
	}
	if path == "" {
		return vigie.Invalidf("body", "the body is not valid JSON")
	}
	return vigie.Invalidf(path, "%s is not valid JSON", path)
}

// JoinPath names field inside path, as Decode's errors do.
func JoinPath(path, field string) string {
	if path == "" {
		return field
	}
	return path + "." + field
}

var timeType = reflect.TypeFor[time.Time]()

func jsonType(t reflect.Type) string {
	if t == nil {
		return "another type"
	}
	if t == timeType {
		return "a time"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Bool:
		return "a boolean"
	default:
		return "a number"
	}
}
