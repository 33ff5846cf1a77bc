package platform

import (
	"errors"
	"io"
)

var errTooLarge = errors.New("response is over the size limit")

// readAll reads r up to limit bytes; more is an error, not a silent cut.
func readAll(r io.Reader, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, errTooLarge
	}
	return b, nil
}
