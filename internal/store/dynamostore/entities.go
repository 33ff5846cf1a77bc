package dynamostore

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"vigie/internal/store"
	"vigie/internal/vigie"
)

// putNew writes item unless an item with its key exists (Conflict).
func (s *Store) putNew(ctx context.Context, op string, item map[string]types.AttributeValue, what string) error {
	s.onWrite("PutItem", 1)
	_, err := s.client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:           aws.String(s.table),
		Item:                item,
		ConditionExpression: aws.String("attribute_not_exists(PK)"),
	})
	if _, ok := conditionFailed(err); ok {
		return store.Conflict(op, what+" already exists")
	}
	return s.fail(op, err)
}

// putVersion replaces the item at key with item if the stored version is
// version: NotFound if there is no item, Conflict if the version differs.
func (s *Store) putVersion(ctx context.Context, op string, key, item map[string]types.AttributeValue, version int64, what string) error {
	return s.putCond(ctx, op, key, item, condition{
		expr:   "attribute_exists(PK) AND #v = :v",
		names:  map[string]string{"#v": attrVersion},
		values: map[string]types.AttributeValue{":v": &types.AttributeValueMemberN{Value: fmtInt(version)}},
	}, func(old map[string]types.AttributeValue) error {
		if old == nil {
			return store.NotFound(op, what)
		}
		return store.Conflict(op, what+" was updated concurrently")
	})
}

// condition is a condition expression with its names and values.
type condition struct {
	expr   string
	names  map[string]string
	values map[string]types.AttributeValue
}

// putCond writes item if cond holds. If it does not, refused gets the item
// that failed it (nil if there was none) and returns the error to report.
// DynamoDB sends that item back; if it did not, putCond reads it at key,
// unless key is nil (refused then gets nil).
func (s *Store) putCond(ctx context.Context, op string, key, item map[string]types.AttributeValue, cond condition, refused func(old map[string]types.AttributeValue) error) error {
	s.onWrite("PutItem", 1)
	_, err := s.client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                           aws.String(s.table),
		Item:                                item,
		ConditionExpression:                 aws.String(cond.expr),
		ExpressionAttributeNames:            cond.names,
		ExpressionAttributeValues:           cond.values,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	old, ok := conditionFailed(err)
	if !ok {
		return s.fail(op, err)
	}
	if len(old) == 0 && key != nil {
		// Either there is no item, or the server did not send it back:
		// look.
		if old, err = s.getItem(ctx, op, key); err != nil {
			return err
		}
	}
	if len(old) == 0 {
		old = nil
	}
	return refused(old)
}

// deleteExisting deletes the item at key: NotFound if there is none.
func (s *Store) deleteExisting(ctx context.Context, op string, key map[string]types.AttributeValue, what string) error {
	s.onWrite("DeleteItem", 1)
	_, err := s.client.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:           aws.String(s.table),
		Key:                 key,
		ConditionExpression: aws.String("attribute_exists(PK)"),
	})
	if _, ok := conditionFailed(err); ok {
		return store.NotFound(op, what)
	}
	return s.fail(op, err)
}

// queryPrefix reads, strongly consistently, every item of workspace whose
// sort key starts with prefix, and passes each to fn.
func (s *Store) queryPrefix(ctx context.Context, op, workspace, prefix string, fn func(item map[string]types.AttributeValue) error) error {
	p := dynamodb.NewQueryPaginator(s.client, &dynamodb.QueryInput{
		TableName:              aws.String(s.table),
		KeyConditionExpression: aws.String("PK = :pk AND begins_with(SK, :sk)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": &types.AttributeValueMemberS{Value: pk(workspace)},
			":sk": &types.AttributeValueMemberS{Value: prefix},
		},
		ConsistentRead: aws.Bool(true),
	})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return s.fail(op, err)
		}
		for _, item := range out.Items {
			if err := fn(item); err != nil {
				return store.Internal(op, err)
			}
		}
	}
	return nil
}

// getItem reads one item strongly consistently; nil if there is none.
func (s *Store) getItem(ctx context.Context, op string, key map[string]types.AttributeValue) (map[string]types.AttributeValue, error) {
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.table),
		Key:            key,
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, s.fail(op, err)
	}
	if len(out.Item) == 0 {
		return nil, nil
	}
	return out.Item, nil
}

// CreateWorkspace implements vigie.WorkspaceStore.
func (s *Store) CreateWorkspace(ctx context.Context, w *vigie.Workspace) error {
	const op = "dynamostore.CreateWorkspace"
	if err := store.CheckWorkspace(w); err != nil {
		return err
	}
	if err := store.Canceled(ctx.Err(), op); err != nil {
		return err
	}
	item, err := marshalWorkspace(w)
	if err != nil {
		return store.Internal(op, err)
	}
	return s.putNew(ctx, op, item, "workspace")
}

// GetWorkspace implements vigie.WorkspaceStore.
func (s *Store) GetWorkspace(ctx context.Context, id string) (*vigie.Workspace, error) {
	const op = "dynamostore.GetWorkspace"
	if err := store.CheckWorkspaceID(id); err != nil {
		return nil, err
	}
	if err := store.Canceled(ctx.Err(), op); err != nil {
		return nil, err
	}
	item, err := s.getItem(ctx, op, workspaceKey(id))
	if err != nil {
		return nil, err
	}
	if item == nil {
		return nil, store.NotFound(op, "workspace")
	}
	w, err := unmarshalWorkspace(item)
	if err != nil {
		return nil, store.Internal(op, err)
	}
	return w, nil
}

// UpdateWorkspace implements vigie.WorkspaceStore.
func (s *Store) UpdateWorkspace(ctx context.Context, w *vigie.Workspace) error {
	const op = "dynamostore.UpdateWorkspace"
	if err := store.CheckWorkspace(w); err != nil {
		return err
	}
	if err := store.Canceled(ctx.Err(), op); err != nil {
		return err
	}
	next := *w
	next.Version++
	item, err := marshalWorkspace(&next)
	if err != nil {
		return store.Internal(op, err)
	}
	if err := s.putVersion(ctx, op, workspaceKey(w.ID), item, w.Version, "workspace"); err != nil {
		return err
	}
	w.Version++
	return nil
}

// ListWorkspaces implements vigie.WorkspaceStore: a Query of GSI1's
// workspace partition, in id order. GSI1 is updated asynchronously, so a
// workspace may be listed a moment after its create returned.
func (s *Store) ListWorkspaces(ctx context.Context) ([]*vigie.Workspace, error) {
	const op = "dynamostore.ListWorkspaces"
	if err := store.Canceled(ctx.Err(), op); err != nil {
		return nil, err
	}
	wss := []*vigie.Workspace{}
	p := dynamodb.NewQueryPaginator(s.client, &dynamodb.QueryInput{
		TableName:              aws.String(s.table),
		IndexName:              aws.String(GSI1),
		KeyConditionExpression: aws.String("GSI1PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": &types.AttributeValueMemberS{Value: gsi1Workspaces},
		},
	})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return nil, s.fail(op, err)
		}
		for _, item := range out.Items {
			w, err := unmarshalWorkspace(item)
			if err != nil {
				return nil, store.Internal(op, err)
			}
			wss = append(wss, w)
		}
	}
	store.SortWorkspaces(wss)
	return wss, nil
}

// CreateAPIKey implements vigie.APIKeyStore.
func (s *Store) CreateAPIKey(ctx context.Context, k *vigie.APIKey) error {
	const op = "dynamostore.CreateAPIKey"
	if err := store.CheckAPIKey(k); err != nil {
		return err
	}
	if err := store.Canceled(ctx.Err(), op); err != nil {
		return err
	}
	item, err := marshalAPIKey(k)
	if err != nil {
		return store.Internal(op, err)
	}
	return s.putNew(ctx, op, item, "API key")
}

// GetAPIKey implements vigie.APIKeyStore.
func (s *Store) GetAPIKey(ctx context.Context, workspace, id string) (*vigie.APIKey, error) {
	const op = "dynamostore.GetAPIKey"
	if err := store.CheckWorkspaceID(workspace); err != nil {
		return nil, err
	}
	if err := store.CheckID("id", id); err != nil {
		return nil, err
	}
	if err := store.Canceled(ctx.Err(), op); err != nil {
		return nil, err
	}
	item, err := s.getItem(ctx, op, apiKeyKey(workspace, id))
	if err != nil {
		return nil, err
	}
	if item == nil {
		return nil, store.NotFound(op, "API key")
	}
	k, err := unmarshalAPIKey(item)
	if err != nil {
		return nil, store.Internal(op, err)
	}
	return k, nil
}

// ListAPIKeys implements vigie.APIKeyStore.
func (s *Store) ListAPIKeys(ctx context.Context, workspace string) ([]*vigie.APIKey, error) {
	const op = "dynamostore.ListAPIKeys"
	if err := store.CheckWorkspaceID(workspace); err != nil {
		return nil, err
	}
	if err := store.Canceled(ctx.Err(), op); err != nil {
		return nil, err
	}
	keys := []*vigie.APIKey{}
	err := s.queryPrefix(ctx, op, workspace, prefixKey, func(item map[string]types.AttributeValue) error {
		k, err := unmarshalAPIKey(item)
		keys = append(keys, k)
		return err
	})
	if err != nil {
		return nil, err
	}
	store.SortAPIKeys(keys)
	return keys, nil
}

// UpdateAPIKey implements vigie.APIKeyStore.
func (s *Store) UpdateAPIKey(ctx context.Context, k *vigie.APIKey) error {
	const op = "dynamostore.UpdateAPIKey"
	if err := store.CheckAPIKey(k); err != nil {
		return err
	}
	if err := store.Canceled(ctx.Err(), op); err != nil {
		return err
	}
	next := *k
	next.Version++
	item, err := marshalAPIKey(&next)
	if err != nil {
		return store.Internal(op, err)
	}
	if err := s.putVersion(ctx, op, apiKeyKey(k.Workspace, k.ID), item, k.Version, "API key"); err != nil {
		return err
	}
	k.Version++
	return nil
}
