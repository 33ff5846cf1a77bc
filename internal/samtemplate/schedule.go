package samtemplate

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Next tells when a schedule fires next.
type Next interface {
	// Next returns the first firing strictly after after, in UTC, or the
	// zero time if the schedule never fires again.
	Next(after time.Time) time.Time
}

// ParseSchedule parses an EventBridge schedule expression, in UTC:
//
//   - rate(N unit), unit minute, hour or day, singular for 1 and plural
//     otherwise, as EventBridge requires. EventBridge counts a rate from the
//     rule's creation; locally it fires on whole multiples of the period
//     (rate(1 day) at 00:00 UTC, rate(15 minutes) at :00, :15, :30, :45),
//     so that firings do not depend on when the runner started.
//   - cron(minutes hours day-of-month month day-of-week year), each field
//     *, a number, a list a,b, a range a-b, a step */n or a/n or a-b/n;
//     months JAN-DEC and days SUN-SAT (1-7) by name; exactly one of
//     day-of-month and day-of-week is ?. L, W and # are refused.
func ParseSchedule(expr string) (Next, error) {
	switch {
	case strings.HasPrefix(expr, "rate(") && strings.HasSuffix(expr, ")"):
		return parseRate(strings.TrimSuffix(strings.TrimPrefix(expr, "rate("), ")"))
	case strings.HasPrefix(expr, "cron(") && strings.HasSuffix(expr, ")"):
		return parseCron(strings.TrimSuffix(strings.TrimPrefix(expr, "cron("), ")"))
	}
	return nil, fmt.Errorf("schedule %q: want rate(...) or cron(...)", expr)
}

type rate time.Duration

func (r rate) Next(after time.Time) time.Time {
	d := time.Duration(r)
	return after.UTC().Truncate(d).Add(d)
}

func parseRate(s string) (Next, error) {
	f := strings.Fields(s)
	if len(f) != 2 {
		return nil, fmt.Errorf("rate(%s): want rate(N unit)", s)
	}
	n, err := strconv.Atoi(f[0])
	if err != nil || n < 1 {
		return nil, fmt.Errorf("rate(%s): %q is not a positive number", s, f[0])
	}
	units := map[string]time.Duration{"minute": time.Minute, "hour": time.Hour, "day": 24 * time.Hour}
	unit, ok := units[strings.TrimSuffix(f[1], "s")]
	if !ok || (n == 1) != !strings.HasSuffix(f[1], "s") {
		return nil, fmt.Errorf("rate(%s): unit must be minute(s), hour(s) or day(s), singular for 1", s)
	}
	if n > int(time.Duration(math.MaxInt64)/unit) {
		return nil, fmt.Errorf("rate(%s): too long", s)
	}
	return rate(time.Duration(n) * unit), nil
}

// maxYear is the last year EventBridge's cron accepts.
const maxYear = 2199

type cron struct {
	minute, hour, dom, month, dow, year map[int]bool // nil means any
}

var (
	monthNames = map[string]int{"JAN": 1, "FEB": 2, "MAR": 3, "APR": 4, "MAY": 5, "JUN": 6, "JUL": 7, "AUG": 8, "SEP": 9, "OCT": 10, "NOV": 11, "DEC": 12}
	dayNames   = map[string]int{"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}
)

func parseCron(s string) (Next, error) {
	f := strings.Fields(s)
	if len(f) != 6 {
		return nil, fmt.Errorf("cron(%s): want 6 fields: minutes hours day-of-month month day-of-week year", s)
	}
	if (f[2] == "?") == (f[4] == "?") {
		return nil, fmt.Errorf("cron(%s): exactly one of day-of-month and day-of-week must be ?", s)
	}
	var c cron
	var err error
	fields := []struct {
		dst      *map[int]bool
		text     string
		lo, hi   int
		names    map[string]int
		fieldErr string
	}{
		{&c.minute, f[0], 0, 59, nil, "minutes"},
		{&c.hour, f[1], 0, 23, nil, "hours"},
		{&c.dom, f[2], 1, 31, nil, "day-of-month"},
		{&c.month, f[3], 1, 12, monthNames, "month"},
		{&c.dow, f[4], 1, 7, dayNames, "day-of-week"},
		{&c.year, f[5], 1970, maxYear, nil, "year"},
	}
	for _, fl := range fields {
		if *fl.dst, err = cronField(fl.text, fl.lo, fl.hi, fl.names); err != nil {
			return nil, fmt.Errorf("cron(%s): %s: %w", s, fl.fieldErr, err)
		}
	}
	return c, nil
}

func cronField(s string, lo, hi int, names map[string]int) (map[int]bool, error) {
	if s == "*" || s == "?" {
		return nil, nil
	}
	if strings.ContainsAny(strings.ToUpper(s), "LW#") && !hasName(s, names) {
		return nil, fmt.Errorf("%q: L, W and # are not supported", s)
	}
	num := func(t string) (int, error) {
		if n, ok := names[strings.ToUpper(t)]; ok {
			return n, nil
		}
		n, err := strconv.Atoi(t)
		if err != nil || n < lo || n > hi {
			return 0, fmt.Errorf("%q is not in %d-%d", t, lo, hi)
		}
		return n, nil
	}
	set := map[int]bool{}
	for _, part := range strings.Split(s, ",") {
		rng, stepText, hasStep := strings.Cut(part, "/")
		step := 1
		if hasStep {
			n, err := strconv.Atoi(stepText)
			if err != nil || n < 1 {
				return nil, fmt.Errorf("step %q is not a positive number", stepText)
			}
			step = n
		}
		from, to := lo, hi
		switch {
		case rng == "*":
		case strings.Contains(rng, "-"):
			a, b, _ := strings.Cut(rng, "-")
			var err error
			if from, err = num(a); err != nil {
				return nil, err
			}
			if to, err = num(b); err != nil {
				return nil, err
			}
			if from > to {
				return nil, fmt.Errorf("range %q is backwards", rng)
			}
		default:
			n, err := num(rng)
			if err != nil {
				return nil, err
			}
			from = n
			if !hasStep {
				to = n
			}
		}
		for v := from; v <= to; v += step {
			set[v] = true
		}
	}
	return set, nil
}

// hasName tells whether s is made of names (JUL, WED) rather than of the
// L, W and # operators that share their letters.
func hasName(s string, names map[string]int) bool {
	for _, part := range strings.FieldsFunc(strings.ToUpper(s), func(r rune) bool { return r == ',' || r == '-' || r == '/' }) {
		if strings.ContainsAny(part, "LW#") {
			if _, ok := names[part]; !ok {
				return false
			}
		}
	}
	return true
}

func in(set map[int]bool, v int) bool { return set == nil || set[v] }

// Next walks minute by minute, skipping whole days and months that cannot
// match, so even yearly schedules are found quickly; it gives up after the
// last year a cron expression can name.
func (c cron) Next(after time.Time) time.Time {
	t := after.UTC().Truncate(time.Minute).Add(time.Minute)
	for t.Year() <= maxYear {
		if !in(c.year, t.Year()) || !in(c.month, int(t.Month())) {
			t = time.Date(t.Year(), t.Month()+1, 1, 0, 0, 0, 0, time.UTC)
			continue
		}
		if !in(c.dom, t.Day()) || !in(c.dow, int(t.Weekday())+1) {
			t = time.Date(t.Year(), t.Month(), t.Day()+1, 0, 0, 0, 0, time.UTC)
			continue
		}
		if !in(c.hour, t.Hour()) {
			t = time.Date(t.Year(), t.Month(), t.Day(), t.Hour()+1, 0, 0, 0, time.UTC)
			continue
		}
		if in(c.minute, t.Minute()) {
			return t
		}
		t = t.Add(time.Minute)
	}
	return time.Time{} // never fires again (e.g. a past year)
}
