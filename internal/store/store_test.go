package store

import (
	"slices"
	"testing"
	"time"
)

// TestMentionSortKey_OrdersLikeTime checks the property listings rest on:
// byte order of sort keys is (creation time, id) order.
func TestMentionSortKey_OrdersLikeTime(t *testing.T) {
	base := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	times := []time.Time{
		time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(999, 12, 31, 23, 59, 59, 999_999_999, time.UTC),
		base.Add(-time.Nanosecond),
		base,
		base.In(time.FixedZone("ahead", 14*3600)).Add(time.Nanosecond),
		base.Add(time.Second),
		base.Add(10 * time.Second),
		time.Date(9999, 12, 31, 23, 59, 59, 999_999_999, time.UTC),
	}
	var keys []string
	for _, tm := range times {
		keys = append(keys, MentionSortKey(tm, "a"), MentionSortKey(tm, "b"))
	}
	if !slices.IsSorted(keys) {
		t.Errorf("sort keys are not in time order: %q", keys)
	}
	for _, k := range keys {
		if len(k) != len(TimeLayout)+2 {
			t.Errorf("key %q is not fixed width", k)
		}
	}
	if got := SortKeyID(MentionSortKey(base, "m_1#x")); got != "m_1#x" {
		t.Errorf("SortKeyID = %q, want m_1#x", got)
	}
	got, err := ParseTime(FormatTime(base.Add(5)))
	if err != nil || !got.Equal(base.Add(5)) {
		t.Errorf("ParseTime(FormatTime(t)) = %v, %v", got, err)
	}
}
