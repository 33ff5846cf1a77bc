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
	s.onWrite("PutItem", 1)
	_, err := s.client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                           aws.String(s.table),
		Item:                                item,
		ConditionExpression:                 aws.String("attribute_exists(PK) AND #v = :v"),
		ExpressionAttributeNames:            map[string]string{"#v": attrVersion},
		ExpressionAttributeValues:           map[string]types.AttributeValue{":v": &types.AttributeValueMemberN{Value: fmtInt(version)}},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	old, ok := conditionFailed(err)
	if !ok {
		return s.fail(op, err)
	}
	if len(old) == 0 {
		// Either there is no item, or the server did not send it back:
		// look, to tell NotFound from Conflict.
		found, err := s.getItem(ctx, op, key)
		if err != nil {
			return err
		}
		if found == nil {
			return store.NotFound(op, what)
		}
	}
	return store.Conflict(op, what+" was updated concurrently")
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
	p := dynamodb.NewQueryPaginator(s.client, &dynamodb.QueryInput{
		TableName:              aws.String(s.table),
		KeyConditionExpression: aws.String("PK = :pk AND begins_with(SK, :sk)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": &types.AttributeValueMemberS{Value: pk(workspace)},
			":sk": &types.AttributeValueMemberS{Value: prefixKey},
		},
		ConsistentRead: aws.Bool(true),
	})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return nil, s.fail(op, err)
		}
		for _, item := range out.Items {
			k, err := unmarshalAPIKey(item)
			if err != nil {
				return nil, store.Internal(op, err)
			}
			keys = append(keys, k)
		}
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
