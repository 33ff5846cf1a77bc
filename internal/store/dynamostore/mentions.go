package dynamostore

import (
	"context"
	"errors"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"vigie/internal/store"
	"vigie/internal/vigie"
)

const (
	// writeConcurrency bounds the PutItems in flight for one CreateMentions:
	// enough to hide latency, few enough not to trip throttling on a burst.
	writeConcurrency = 8
	// batchGetMax is BatchGetItem's limit on keys per request.
	batchGetMax = 100
	// batchGetAttempts bounds the retries of unprocessed keys.
	batchGetAttempts = 8
)

func fmtInt(n int64) string { return strconv.FormatInt(n, 10) }

// CreateMentions implements vigie.MentionStore with one conditional PutItem
// per new mention, up to writeConcurrency at a time. The condition lets the
// write through if no item has the key, or if the item there has expired
// (expires_at <= now), so an expired mention is replaced exactly as if it
// were absent, still in one write. On error it returns no flags: some
// mentions may be stored, and a retry reports them as existing.
func (s *Store) CreateMentions(ctx context.Context, workspace string, ms []*vigie.Mention) ([]bool, error) {
	const op = "dynamostore.CreateMentions"
	if err := store.CheckMentions(workspace, ms); err != nil {
		return nil, err
	}
	if err := store.Canceled(ctx.Err(), op); err != nil {
		return nil, err
	}
	first := store.FirstOccurrences(ms)
	items := make([]map[string]types.AttributeValue, len(ms))
	for i, m := range ms {
		if !first[i] {
			continue
		}
		item, err := marshalMention(m)
		if err != nil {
			return nil, store.Internal(op, err)
		}
		items[i] = item
	}
	now := store.FormatTime(s.clock.Now())

	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		created  = make([]bool, len(ms))
		sem      = make(chan struct{}, writeConcurrency)
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
loop:
	for i, item := range items {
		if item == nil {
			continue
		}
		select {
		case sem <- struct{}{}:
		case <-wctx.Done():
			break loop
		}
		wg.Go(func() {
			defer func() { <-sem }()
			ok, err := s.putMention(wctx, op, item, now)
			if err != nil {
				mu.Lock()
				if firstErr == nil {
					firstErr = err
					cancel() // the rest would be retried anyway
				}
				mu.Unlock()
				return
			}
			created[i] = ok
		})
	}
	wg.Wait()
	if firstErr == nil {
		firstErr = store.Canceled(ctx.Err(), op)
	}
	if firstErr != nil {
		return nil, firstErr
	}
	return created, nil
}

// condExpired holds for an item that has expired at :now. An item without
// expires_at never expires: the comparison is false.
const condExpired = "#exp <= :now"

// putMention writes one mention if absent or expired, and reports whether it
// did.
func (s *Store) putMention(ctx context.Context, op string, item map[string]types.AttributeValue, now string) (bool, error) {
	s.onWrite("PutItem", 1)
	_, err := s.client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                 aws.String(s.table),
		Item:                      item,
		ConditionExpression:       aws.String("attribute_not_exists(PK) OR " + condExpired),
		ExpressionAttributeNames:  map[string]string{"#exp": attrExpiresAt},
		ExpressionAttributeValues: map[string]types.AttributeValue{":now": &types.AttributeValueMemberS{Value: now}},
	})
	if _, failed := conditionFailed(err); failed {
		return false, nil
	}
	if err != nil {
		return false, s.fail(op, err)
	}
	return true, nil
}

// UpdateMention implements vigie.MentionStore with one conditional
// PutItem: the mention must be there, not expired (the negation of the
// create condition), and have the same creation time, so that its GSI1
// keys, rebuilt from the same time and id, stay as they are. Only when the
// condition fails does the item that failed it tell NotFound from Invalid.
func (s *Store) UpdateMention(ctx context.Context, m *vigie.Mention) error {
	const op = "dynamostore.UpdateMention"
	if err := store.CheckMention(m); err != nil {
		return err
	}
	if err := store.Canceled(ctx.Err(), op); err != nil {
		return err
	}
	item, err := marshalMention(m)
	if err != nil {
		return store.Internal(op, err)
	}
	now := s.clock.Now()
	return s.putCond(ctx, op, mentionKey(m.Workspace, m.ID), item, condition{
		expr:  "attribute_exists(PK) AND NOT (" + condExpired + ") AND #c = :c",
		names: map[string]string{"#exp": attrExpiresAt, "#c": attrCreatedAt},
		values: map[string]types.AttributeValue{
			":now": &types.AttributeValueMemberS{Value: store.FormatTime(now)},
			":c":   &types.AttributeValueMemberS{Value: store.FormatTime(m.CreatedAt)},
		},
	}, func(old map[string]types.AttributeValue) error {
		if old == nil {
			return store.NotFound(op, "mention")
		}
		stored, err := unmarshalMention(old)
		if err != nil {
			return store.Internal(op, err)
		}
		if store.Expired(stored, now) {
			return store.NotFound(op, "mention")
		}
		if err := store.CheckMentionUpdate(stored, m); err != nil {
			return err
		}
		// The item read after the failure passes: it changed meanwhile.
		return store.Conflict(op, "mention was updated concurrently")
	})
}

// ExistingMentions implements vigie.MentionStore with strongly consistent
// BatchGetItems of up to 100 keys, retrying unprocessed keys with backoff.
func (s *Store) ExistingMentions(ctx context.Context, workspace string, ids []string) (map[string]bool, error) {
	const op = "dynamostore.ExistingMentions"
	if err := store.CheckIDs(workspace, ids); err != nil {
		return nil, err
	}
	if err := store.Canceled(ctx.Err(), op); err != nil {
		return nil, err
	}
	seen := make(map[string]bool, len(ids))
	var keys []map[string]types.AttributeValue
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			keys = append(keys, mentionKey(workspace, id))
		}
	}
	now := s.clock.Now()
	found := make(map[string]bool)
	for start := 0; start < len(keys); start += batchGetMax {
		chunk := keys[start:min(start+batchGetMax, len(keys))]
		items, err := s.batchGet(ctx, op, chunk)
		if err != nil {
			return nil, err
		}
		for _, item := range items {
			var it struct {
				ID        string `dynamodbav:"id"`
				ExpiresAt string `dynamodbav:"expires_at"`
			}
			if err := attributevalue.UnmarshalMap(item, &it); err != nil {
				return nil, store.Internal(op, err)
			}
			exp, err := parsePtr(it.ExpiresAt)
			if err != nil {
				return nil, store.Internal(op, err)
			}
			if !store.Expired(&vigie.Mention{ExpiresAt: exp}, now) {
				found[it.ID] = true
			}
		}
	}
	return found, nil
}

// batchGet reads the id and expiry of the mentions at keys (at most 100):
// that is all ExistingMentions needs, and a smaller response.
func (s *Store) batchGet(ctx context.Context, op string, keys []map[string]types.AttributeValue) ([]map[string]types.AttributeValue, error) {
	req := map[string]types.KeysAndAttributes{s.table: {
		Keys:                     keys,
		ConsistentRead:           aws.Bool(true),
		ProjectionExpression:     aws.String("#id, #exp"),
		ExpressionAttributeNames: map[string]string{"#id": "id", "#exp": attrExpiresAt},
	}}
	var items []map[string]types.AttributeValue
	for attempt := 1; ; attempt++ {
		out, err := s.client.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: req})
		if err != nil {
			return nil, s.fail(op, err)
		}
		items = append(items, out.Responses[s.table]...)
		rest, ok := out.UnprocessedKeys[s.table]
		if !ok || len(rest.Keys) == 0 {
			return items, nil
		}
		if attempt == batchGetAttempts {
			return nil, unavailable(op, errUnprocessed)
		}
		if err := s.sleep(ctx, backoff(attempt)); err != nil {
			return nil, store.Canceled(err, op)
		}
		req = map[string]types.KeysAndAttributes{s.table: rest}
	}
}

var errUnprocessed = errors.New("keys still unprocessed after retries")

// backoff is the wait before retry attempt n (from 1): exponential from
// 25 ms, capped at 1 s, with full jitter so that concurrent callers spread.
func backoff(n int) time.Duration {
	d := min(25*time.Millisecond<<(n-1), time.Second)
	return d/2 + rand.N(d/2+1)
}

// sleepCtx waits d, or until ctx is done.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// GetMention implements vigie.MentionStore.
func (s *Store) GetMention(ctx context.Context, workspace, id string) (*vigie.Mention, error) {
	const op = "dynamostore.GetMention"
	if err := store.CheckWorkspaceID(workspace); err != nil {
		return nil, err
	}
	if err := store.CheckID("id", id); err != nil {
		return nil, err
	}
	if err := store.Canceled(ctx.Err(), op); err != nil {
		return nil, err
	}
	item, err := s.getItem(ctx, op, mentionKey(workspace, id))
	if err != nil {
		return nil, err
	}
	if item == nil {
		return nil, store.NotFound(op, "mention")
	}
	m, err := unmarshalMention(item)
	if err != nil {
		return nil, store.Internal(op, err)
	}
	if store.Expired(m, s.clock.Now()) {
		return nil, store.NotFound(op, "mention")
	}
	return m, nil
}

// Bounds of GSI1SK when a query has none: every key starts with a
// four-digit year, so "0" sorts before all and "~" after all.
const (
	sortKeyMin = "0"
	sortKeyMax = "~"
)

// ListMentions implements vigie.MentionStore: Query on GSI1, newest first,
// within the key range of the query and cursor. Expired mentions are
// skipped, and queries repeat until the page is full or the range is
// exhausted, reading one mention more than the page to know whether another
// page follows.
func (s *Store) ListMentions(ctx context.Context, workspace string, q vigie.MentionQuery) (*vigie.MentionPage, error) {
	const op = "dynamostore.ListMentions"
	l, err := store.PrepareList(s.cursor, workspace, q)
	if err != nil {
		return nil, err
	}
	if err := store.Canceled(ctx.Err(), op); err != nil {
		return nil, err
	}
	lo, hi := l.Lo, l.Hi
	if lo == "" {
		lo = sortKeyMin
	}
	if hi == "" {
		hi = sortKeyMax
	}
	now := s.clock.Now()
	page := &vigie.MentionPage{Mentions: []*vigie.Mention{}}
	if lo > hi {
		return page, nil // an empty range; DynamoDB would refuse BETWEEN
	}
	var keys []string
	in := &dynamodb.QueryInput{
		TableName:              aws.String(s.table),
		IndexName:              aws.String(GSI1),
		KeyConditionExpression: aws.String("GSI1PK = :pk AND GSI1SK BETWEEN :lo AND :hi"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": &types.AttributeValueMemberS{Value: gsi1pk(workspace)},
			":lo": &types.AttributeValueMemberS{Value: lo},
			":hi": &types.AttributeValueMemberS{Value: hi},
		},
		ScanIndexForward: aws.Bool(false),
	}
	for len(page.Mentions) <= l.Limit {
		// BETWEEN includes hi, which (for a cursor) is the last mention of
		// the previous page: read one more to make up for skipping it.
		in.Limit = aws.Int32(int32(l.Limit - len(page.Mentions) + 2))
		out, err := s.client.Query(ctx, in)
		if err != nil {
			return nil, s.fail(op, err)
		}
		for _, item := range out.Items {
			m, err := unmarshalMention(item)
			if err != nil {
				return nil, store.Internal(op, err)
			}
			key := store.MentionSortKey(m.CreatedAt, m.ID)
			if !l.InRange(key) || store.Expired(m, now) {
				continue
			}
			page.Mentions = append(page.Mentions, m)
			keys = append(keys, key)
			if len(page.Mentions) > l.Limit {
				break
			}
		}
		if len(out.LastEvaluatedKey) == 0 {
			break
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
	if len(page.Mentions) > l.Limit {
		page.Mentions = page.Mentions[:l.Limit]
		page.Next = l.Next(keys[l.Limit-1])
	}
	return page, nil
}
