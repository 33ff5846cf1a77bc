// Package dynamostore is the vigie.Store on Amazon DynamoDB, in one table
// (single-table design). It passes the same contract (storetest) as the
// embedded boltstore.
//
// Items. Every partition key but the account index's starts with the
// workspace, so no query can reach across workspaces:
//
//	workspace  PK=WS#<ws>  SK=WS      GSI1PK=WORKSPACES  GSI1SK=<ws>
//	API key    PK=WS#<ws>  SK=KEY#<id>
//	mention    PK=WS#<ws>  SK=M#<id>  GSI1PK=WS#<ws>#M   GSI1SK=<created_at>#<id>  ttl=<expiry, epoch s>
//	channel    PK=WS#<ws>  SK=C#<id>
//	watch      PK=WS#<ws>  SK=W#<id>
//	source     PK=WS#<ws>  SK=S#<id>
//	account    PK=ACCOUNT#<platform>#<account id>  SK=ACCOUNT  (workspace, channel)
//
// The account item is the one global lookup: it routes app-level webhooks
// to the channel that connected the account, and makes "one workspace per
// account" a condition (CreateChannel writes both items in one
// TransactWriteItems, each only if absent; DeleteChannel deletes both in
// another). Durations (poll_every_ns) are int64 nanoseconds; zero times
// and empty fields are left out.
//
// Workspaces written before GSI1PK was set on them are not listed by
// ListWorkspaces until their next update.
//
// Times are written as fixed-width UTC strings with nanoseconds
// (store.TimeLayout), so that string order is time order: GSI1SK sorts
// mentions by creation time, and a condition can compare expires_at with
// "now". Entities are stored as plain attributes (snake_case, as in their
// JSON), not as a JSON blob: the items stay readable and queryable in the
// console and with PartiQL, conditions can name fields, and the API key hash
// (which the domain type never serializes to JSON) is an ordinary binary
// attribute.
//
// Costs. CreateMentions makes exactly one conditional PutItem per new
// mention, concurrently; a mention that exists costs one failed conditional
// write (use ExistingMentions first, a read, to skip known ones).
// Options.OnWrite counts write requests, for benchmarks.
//
// Consistency. Gets, ExistingMentions, ChannelByAccount and the listings
// of keys, channels, watches and sources read strongly consistently;
// ListMentions and ListWorkspaces read the GSI, which DynamoDB updates
// asynchronously, so a mention or workspace may show in listings a moment
// after its create returned.
package dynamostore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"vigie/internal/store"
	"vigie/internal/store/cursor"
	"vigie/internal/vigie"
)

// Options configure a Store.
type Options struct {
	// Clock decides which mentions have expired. Defaults to vigie.SystemClock.
	Clock vigie.Clock
	// CursorKey signs pagination cursors. Required; every instance serving
	// the same table must use the same key (32 random bytes, kept secret).
	CursorKey []byte
	// OnWrite, if set, is called once for every write request the store
	// sends (op is the DynamoDB operation, e.g. "PutItem"; items is how many
	// items the request writes), whether or not its condition held: a
	// failed conditional write is still billed as a write. Retries that the
	// SDK makes on its own are not counted. It may be called from several
	// goroutines at once.
	OnWrite func(op string, items int)
}

// Store is a vigie.Store on one DynamoDB table.
type Store struct {
	client  *dynamodb.Client
	table   string
	clock   vigie.Clock
	cursor  *cursor.Codec
	onWrite func(op string, items int)
	sleep   func(context.Context, time.Duration) error // waits between retries; tests skip it
}

var _ vigie.Store = (*Store)(nil)

// New returns a Store on table, which must have TableDefinition's schema.
func New(client *dynamodb.Client, table string, opts Options) (*Store, error) {
	if client == nil {
		return nil, errors.New("dynamostore: nil client")
	}
	if table == "" {
		return nil, errors.New("dynamostore: empty table name")
	}
	codec, err := store.NewCodec(opts.CursorKey)
	if err != nil {
		return nil, fmt.Errorf("dynamostore: %w", err)
	}
	if opts.Clock == nil {
		opts.Clock = vigie.SystemClock{}
	}
	onWrite := opts.OnWrite
	if onWrite == nil {
		onWrite = func(string, int) {}
	}
	return &Store{client: client, table: table, clock: opts.Clock, cursor: codec, onWrite: onWrite, sleep: sleepCtx}, nil
}

// Close does nothing: the client belongs to the caller.
func (s *Store) Close() error { return nil }

// Key prefixes.
const (
	prefixWorkspace = "WS#"
	skWorkspace     = "WS"
	prefixKey       = "KEY#"
	prefixMention   = "M#"
	prefixChannel   = "C#"
	prefixWatch     = "W#"
	prefixSource    = "S#"
	prefixAccount   = "ACCOUNT#"
	skAccount       = "ACCOUNT"
	// gsi1Workspaces is the GSI1 partition of all workspaces.
	gsi1Workspaces = "WORKSPACES"
)

func pk(ws string) string { return prefixWorkspace + ws }

// accountPK is the partition of a platform account's index item. Platforms
// hold no '#' (store.CheckChannel), so the key is unambiguous.
func accountPK(platform, accountID string) string {
	return prefixAccount + platform + "#" + accountID
}

// gsi1pk is the partition of a workspace's mentions in GSI1.
func gsi1pk(ws string) string { return prefixWorkspace + ws + "#M" }

// throttled lists the error codes that mean "slow down and retry", after the
// SDK's own retries gave up.
var throttled = map[string]bool{
	"ProvisionedThroughputExceededException": true,
	"ThrottlingException":                    true,
	"RequestLimitExceeded":                   true,
	"InternalServerError":                    true,
	"ServiceUnavailable":                     true,
	// A write to an item that a transaction (CreateChannel, DeleteChannel)
	// holds at that moment.
	"TransactionConflictException": true,
}

// fail maps an SDK error to a vigie kind: canceled contexts, throttling and
// network failures are Unavailable (retry later); anything else is Internal.
// Conditional-check failures are handled by each caller, as their meaning
// depends on the operation.
func (s *Store) fail(op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return store.Canceled(err, op)
	}
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) && throttled[apiErr.ErrorCode()] {
		return unavailable(op, err)
	}
	var sendErr *smithyhttp.RequestSendError
	if errors.As(err, &sendErr) {
		return unavailable(op, err)
	}
	return store.Internal(op, err)
}

func unavailable(op string, err error) error {
	return &vigie.Error{Kind: vigie.KindUnavailable, Code: vigie.KindUnavailable, Message: op + ": store unavailable, retry later", Err: err}
}

// conditionFailed reports whether err is a failed write condition, and
// returns the item that failed it when DynamoDB sent it back.
func conditionFailed(err error) (map[string]types.AttributeValue, bool) {
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return ccf.Item, true
	}
	return nil, false
}
