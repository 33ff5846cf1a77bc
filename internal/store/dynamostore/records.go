package dynamostore

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"vigie/internal/store"
	"vigie/internal/vigie"
)

// --- channels ---

// Why a transaction was canceled, per item (CancellationReason.Code).
const (
	reasonConditionFailed     = "ConditionalCheckFailed"
	reasonTransactionConflict = "TransactionConflict"
)

// transact writes items in one TransactWriteItems. If DynamoDB cancels it,
// transact returns the reason code of each item (empty when DynamoDB gave
// none) and a nil error; the caller decides what they mean.
func (s *Store) transact(ctx context.Context, op string, items ...types.TransactWriteItem) (reasons []string, err error) {
	s.onWrite("TransactWriteItems", len(items))
	_, err = s.client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	var canceled *types.TransactionCanceledException
	if !errors.As(err, &canceled) {
		return nil, s.fail(op, err)
	}
	reasons = make([]string, len(items))
	for i, r := range canceled.CancellationReasons {
		if i < len(reasons) {
			reasons[i] = aws.ToString(r.Code)
		}
	}
	return reasons, nil
}

// contended returns Unavailable if a transaction was canceled because
// another one held its items: a retry will see the winner's outcome.
func contended(op string, reasons []string) error {
	for _, r := range reasons {
		if r == reasonTransactionConflict {
			return unavailable(op, errors.New("transaction conflict"))
		}
	}
	return nil
}

// CreateChannel implements vigie.ChannelStore: the channel and its account
// index item in one transaction, each written only if absent.
func (s *Store) CreateChannel(ctx context.Context, c *vigie.Channel) error {
	const op = "dynamostore.CreateChannel"
	if err := store.CheckChannel(c); err != nil {
		return err
	}
	if err := store.Canceled(ctx.Err(), op); err != nil {
		return err
	}
	channel, err := marshalChannel(c)
	if err != nil {
		return store.Internal(op, err)
	}
	account, err := marshalAccount(c)
	if err != nil {
		return store.Internal(op, err)
	}
	absent := aws.String("attribute_not_exists(PK)")
	reasons, err := s.transact(ctx, op,
		types.TransactWriteItem{Put: &types.Put{TableName: aws.String(s.table), Item: channel, ConditionExpression: absent}},
		types.TransactWriteItem{Put: &types.Put{TableName: aws.String(s.table), Item: account, ConditionExpression: absent}},
	)
	if err != nil || reasons == nil {
		return err
	}
	if err := contended(op, reasons); err != nil {
		return err
	}
	switch {
	case reasons[0] == reasonConditionFailed:
		return store.Conflict(op, "channel already exists")
	case reasons[1] == reasonConditionFailed:
		return store.Conflict(op, "account already connected")
	}
	// No reasons given: look, to say which.
	found, err := s.getItem(ctx, op, channelKey(c.Workspace, c.ID))
	if err != nil {
		return err
	}
	if found != nil {
		return store.Conflict(op, "channel already exists")
	}
	return store.Conflict(op, "account already connected")
}

// GetChannel implements vigie.ChannelStore.
func (s *Store) GetChannel(ctx context.Context, workspace, id string) (*vigie.Channel, error) {
	const op = "dynamostore.GetChannel"
	if err := store.CheckRef(workspace, id); err != nil {
		return nil, err
	}
	if err := store.Canceled(ctx.Err(), op); err != nil {
		return nil, err
	}
	return s.getChannel(ctx, op, workspace, id)
}

func (s *Store) getChannel(ctx context.Context, op, workspace, id string) (*vigie.Channel, error) {
	item, err := s.getItem(ctx, op, channelKey(workspace, id))
	if err != nil {
		return nil, err
	}
	if item == nil {
		return nil, store.NotFound(op, "channel")
	}
	c, err := unmarshalChannel(item)
	if err != nil {
		return nil, store.Internal(op, err)
	}
	return c, nil
}

// ListChannels implements vigie.ChannelStore.
func (s *Store) ListChannels(ctx context.Context, workspace string) ([]*vigie.Channel, error) {
	const op = "dynamostore.ListChannels"
	if err := store.CheckWorkspaceID(workspace); err != nil {
		return nil, err
	}
	if err := store.Canceled(ctx.Err(), op); err != nil {
		return nil, err
	}
	cs := []*vigie.Channel{}
	err := s.queryPrefix(ctx, op, workspace, prefixChannel, func(item map[string]types.AttributeValue) error {
		c, err := unmarshalChannel(item)
		cs = append(cs, c)
		return err
	})
	if err != nil {
		return nil, err
	}
	store.SortChannels(cs)
	return cs, nil
}

// UpdateChannel implements vigie.ChannelStore with one conditional PutItem
// that also requires the stored platform account to be c's: the account
// index item then needs no change.
func (s *Store) UpdateChannel(ctx context.Context, c *vigie.Channel) error {
	const op = "dynamostore.UpdateChannel"
	if err := store.CheckChannel(c); err != nil {
		return err
	}
	if err := store.Canceled(ctx.Err(), op); err != nil {
		return err
	}
	next := *c
	next.Version++
	item, err := marshalChannel(&next)
	if err != nil {
		return store.Internal(op, err)
	}
	err = s.putCond(ctx, op, channelKey(c.Workspace, c.ID), item, condition{
		expr:  "attribute_exists(PK) AND #v = :v AND #p = :p AND #a = :a",
		names: map[string]string{"#v": attrVersion, "#p": attrPlatform, "#a": attrAccountID},
		values: map[string]types.AttributeValue{
			":v": &types.AttributeValueMemberN{Value: fmtInt(c.Version)},
			":p": &types.AttributeValueMemberS{Value: c.Platform},
			":a": &types.AttributeValueMemberS{Value: c.AccountID},
		},
	}, func(old map[string]types.AttributeValue) error {
		if old == nil {
			return store.NotFound(op, "channel")
		}
		stored, err := unmarshalChannel(old)
		if err != nil {
			return store.Internal(op, err)
		}
		if err := store.CheckChannelUpdate(stored, c); err != nil {
			return err
		}
		return store.Conflict(op, "channel was updated concurrently")
	})
	if err != nil {
		return err
	}
	c.Version++
	return nil
}

// DeleteChannel implements vigie.ChannelStore: a read for the channel's
// account, then one transaction deleting the channel (if still there) and
// its account index item.
func (s *Store) DeleteChannel(ctx context.Context, workspace, id string) error {
	const op = "dynamostore.DeleteChannel"
	if err := store.CheckRef(workspace, id); err != nil {
		return err
	}
	if err := store.Canceled(ctx.Err(), op); err != nil {
		return err
	}
	c, err := s.getChannel(ctx, op, workspace, id)
	if err != nil {
		return err
	}
	reasons, err := s.transact(ctx, op,
		types.TransactWriteItem{Delete: &types.Delete{
			TableName:           aws.String(s.table),
			Key:                 channelKey(workspace, id),
			ConditionExpression: aws.String("attribute_exists(PK)"),
		}},
		types.TransactWriteItem{Delete: &types.Delete{
			TableName: aws.String(s.table),
			Key:       accountKey(c.Platform, c.AccountID),
			// Never unroute another channel's account.
			ConditionExpression:      aws.String("attribute_not_exists(PK) OR (#w = :w AND #c = :c)"),
			ExpressionAttributeNames: map[string]string{"#w": attrWorkspace, "#c": attrChannel},
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":w": &types.AttributeValueMemberS{Value: workspace},
				":c": &types.AttributeValueMemberS{Value: id},
			},
		}},
	)
	if err != nil || reasons == nil {
		return err
	}
	if err := contended(op, reasons); err != nil {
		return err
	}
	if reasons[1] == reasonConditionFailed {
		// Create and delete keep the two items together: a broken index.
		return store.Internal(op, errors.New("the account index names another channel"))
	}
	return store.NotFound(op, "channel") // deleted meanwhile
}

// ChannelByAccount implements vigie.ChannelStore: a strongly consistent
// GetItem of the account index item, then of the channel.
func (s *Store) ChannelByAccount(ctx context.Context, platform, accountID string) (*vigie.Channel, error) {
	const op = "dynamostore.ChannelByAccount"
	if err := store.CheckAccount(platform, accountID); err != nil {
		return nil, err
	}
	if err := store.Canceled(ctx.Err(), op); err != nil {
		return nil, err
	}
	item, err := s.getItem(ctx, op, accountKey(platform, accountID))
	if err != nil {
		return nil, err
	}
	if item == nil {
		return nil, store.NotFound(op, "channel")
	}
	var it accountItem
	if err := attributevalue.UnmarshalMap(item, &it); err != nil {
		return nil, store.Internal(op, err)
	}
	return s.getChannel(ctx, op, it.Workspace, it.Channel)
}

// --- watches ---

// CreateWatch implements vigie.WatchStore.
func (s *Store) CreateWatch(ctx context.Context, w *vigie.Watch) error {
	const op = "dynamostore.CreateWatch"
	if err := store.CheckWatch(w); err != nil {
		return err
	}
	if err := store.Canceled(ctx.Err(), op); err != nil {
		return err
	}
	item, err := marshalWatch(w)
	if err != nil {
		return store.Internal(op, err)
	}
	return s.putNew(ctx, op, item, "watch")
}

// GetWatch implements vigie.WatchStore.
func (s *Store) GetWatch(ctx context.Context, workspace, id string) (*vigie.Watch, error) {
	const op = "dynamostore.GetWatch"
	if err := store.CheckRef(workspace, id); err != nil {
		return nil, err
	}
	if err := store.Canceled(ctx.Err(), op); err != nil {
		return nil, err
	}
	item, err := s.getItem(ctx, op, watchKey(workspace, id))
	if err != nil {
		return nil, err
	}
	if item == nil {
		return nil, store.NotFound(op, "watch")
	}
	w, err := unmarshalWatch(item)
	if err != nil {
		return nil, store.Internal(op, err)
	}
	return w, nil
}

// ListWatches implements vigie.WatchStore.
func (s *Store) ListWatches(ctx context.Context, workspace string) ([]*vigie.Watch, error) {
	const op = "dynamostore.ListWatches"
	if err := store.CheckWorkspaceID(workspace); err != nil {
		return nil, err
	}
	if err := store.Canceled(ctx.Err(), op); err != nil {
		return nil, err
	}
	ws := []*vigie.Watch{}
	err := s.queryPrefix(ctx, op, workspace, prefixWatch, func(item map[string]types.AttributeValue) error {
		w, err := unmarshalWatch(item)
		ws = append(ws, w)
		return err
	})
	if err != nil {
		return nil, err
	}
	store.SortWatches(ws)
	return ws, nil
}

// UpdateWatch implements vigie.WatchStore.
func (s *Store) UpdateWatch(ctx context.Context, w *vigie.Watch) error {
	const op = "dynamostore.UpdateWatch"
	if err := store.CheckWatch(w); err != nil {
		return err
	}
	if err := store.Canceled(ctx.Err(), op); err != nil {
		return err
	}
	next := *w
	next.Version++
	item, err := marshalWatch(&next)
	if err != nil {
		return store.Internal(op, err)
	}
	if err := s.putVersion(ctx, op, watchKey(w.Workspace, w.ID), item, w.Version, "watch"); err != nil {
		return err
	}
	w.Version++
	return nil
}

// DeleteWatch implements vigie.WatchStore.
func (s *Store) DeleteWatch(ctx context.Context, workspace, id string) error {
	const op = "dynamostore.DeleteWatch"
	if err := store.CheckRef(workspace, id); err != nil {
		return err
	}
	if err := store.Canceled(ctx.Err(), op); err != nil {
		return err
	}
	return s.deleteExisting(ctx, op, watchKey(workspace, id), "watch")
}

// --- sources ---

// GetSource implements vigie.SourceStore.
func (s *Store) GetSource(ctx context.Context, workspace, id string) (*vigie.Source, error) {
	const op = "dynamostore.GetSource"
	if err := store.CheckRef(workspace, id); err != nil {
		return nil, err
	}
	if err := store.Canceled(ctx.Err(), op); err != nil {
		return nil, err
	}
	item, err := s.getItem(ctx, op, sourceKey(workspace, id))
	if err != nil {
		return nil, err
	}
	if item == nil {
		return nil, store.NotFound(op, "source")
	}
	src, err := unmarshalSource(item)
	if err != nil {
		return nil, store.Internal(op, err)
	}
	return src, nil
}

// ListSources implements vigie.SourceStore.
func (s *Store) ListSources(ctx context.Context, workspace string) ([]*vigie.Source, error) {
	const op = "dynamostore.ListSources"
	if err := store.CheckWorkspaceID(workspace); err != nil {
		return nil, err
	}
	if err := store.Canceled(ctx.Err(), op); err != nil {
		return nil, err
	}
	ss := []*vigie.Source{}
	err := s.queryPrefix(ctx, op, workspace, prefixSource, func(item map[string]types.AttributeValue) error {
		src, err := unmarshalSource(item)
		ss = append(ss, src)
		return err
	})
	if err != nil {
		return nil, err
	}
	store.SortSources(ss)
	return ss, nil
}

// PutSource implements vigie.SourceStore with one conditional PutItem: if
// absent when src.Version is 0, else if the stored version is src.Version.
// Any refusal is a Conflict, so no read is needed to tell why.
func (s *Store) PutSource(ctx context.Context, src *vigie.Source) error {
	const op = "dynamostore.PutSource"
	if err := store.CheckSource(src); err != nil {
		return err
	}
	if err := store.Canceled(ctx.Err(), op); err != nil {
		return err
	}
	next := *src
	next.Version++
	item, err := marshalSource(&next)
	if err != nil {
		return store.Internal(op, err)
	}
	if src.Version == 0 {
		err = s.putNew(ctx, op, item, "source")
	} else {
		err = s.putCond(ctx, op, nil, item, condition{
			expr:   "attribute_exists(PK) AND #v = :v",
			names:  map[string]string{"#v": attrVersion},
			values: map[string]types.AttributeValue{":v": &types.AttributeValueMemberN{Value: fmtInt(src.Version)}},
		}, func(map[string]types.AttributeValue) error {
			return store.Conflict(op, "source was updated or deleted concurrently")
		})
	}
	if err != nil {
		return err
	}
	src.Version++
	return nil
}

// DeleteSource implements vigie.SourceStore: an unconditional DeleteItem.
func (s *Store) DeleteSource(ctx context.Context, workspace, id string) error {
	const op = "dynamostore.DeleteSource"
	if err := store.CheckRef(workspace, id); err != nil {
		return err
	}
	if err := store.Canceled(ctx.Err(), op); err != nil {
		return err
	}
	s.onWrite("DeleteItem", 1)
	_, err := s.client.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(s.table), Key: sourceKey(workspace, id)})
	return s.fail(op, err)
}
