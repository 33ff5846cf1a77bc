package ingest

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"vigie/internal/analysis"
	"vigie/internal/platform"
	"vigie/internal/secrets"
	"vigie/internal/vigie"
	"vigie/internal/web"
	"vigie/internal/webhook"
)

// Deps is what ingestion needs.
type Deps struct {
	Store        vigie.Store
	Bus          vigie.Bus
	Secrets      secrets.Source
	Clock        vigie.Clock
	Logger       *slog.Logger
	MaxBodyBytes int64         // default 1 MiB
	Tolerance    time.Duration // allowed webhook clock skew; default webhook.DefaultTolerance
	Retention    time.Duration // 0 keeps mentions forever
	// Analyzer scores each mention inline; nil uses the embedded models.
	Analyzer *analysis.Analyzer
	// Platforms are the platform APIs' addresses (tests point them at
	// fakes).
	Platforms Platforms
}

// Platforms configures the platform clients.
type Platforms struct {
	MetaGraphURL string       // default https://graph.facebook.com
	HTTP         *http.Client // default: 10 s timeout
}

// Service ingests signed generic deliveries.
type Service struct {
	d Deps
}

// NewService fills Deps' defaults.
func NewService(d Deps) *Service {
	if d.Clock == nil {
		d.Clock = vigie.SystemClock{}
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.MaxBodyBytes <= 0 {
		d.MaxBodyBytes = 1 << 20
	}
	if d.Tolerance <= 0 {
		d.Tolerance = webhook.DefaultTolerance
	}
	if d.Platforms.HTTP == nil {
		d.Platforms.HTTP = &http.Client{Timeout: 10 * time.Second}
	}
	return &Service{d: d}
}

func (s *Service) pipeline() *Pipeline {
	return &Pipeline{Store: s.d.Store, Bus: s.d.Bus, Clock: s.d.Clock, Logger: s.d.Logger, Retention: s.d.Retention, Analyzer: s.d.Analyzer}
}

// Result tells what a delivery brought.
type Result struct {
	Received   int      `json:"received"`
	Created    int      `json:"created"`
	Duplicates int      `json:"duplicates"`
	Mentions   []string `json:"mentions"`
}

// Ingest verifies, parses, stores and announces one delivery to workspace.
// body is the exact bytes received; h holds the webhook-* headers.
//
// The checks run cheapest and least revealing first: size, workspace,
// signature, and only then the body, so an unsigned sender learns nothing
// about the format and a signed one learns every problem of its batch
// before anything is stored.
//
// Errors: TooLarge (body over MaxBodyBytes), NotFound (no such workspace),
// Unauthorized (signature or timestamp), Invalid (body), Unavailable or
// Internal (store, bus, secrets: the sender should retry).
//
// It costs one store write and one bus entry per new mention, and none for a
// redelivery. The order is what makes that safe: known mentions are found
// with reads (ExistingMentions), the new ones are announced, and only then
// stored. If the store fails midway the delivery fails and the sender
// retries; the retry finds which mentions were stored and announces and
// stores only the others, so no mention is lost and none stored twice. A
// mention is announced twice only when the store failed after announcing
// it, or when two deliveries of it race; consumers drop the repeat by its
// event id, derived from the mention id. Storing first would instead lose
// the announcement of a mention whose publish failed (the retry finds it
// stored and says nothing), or cost a second write to mark it announced.
// If the bus fails, nothing is stored and the retry starts afresh. A
// redelivery with the same webhook-id carries the same signed body, hence
// the same mention ids, and finds them all stored.
func (s *Service) Ingest(ctx context.Context, workspace string, h http.Header, body []byte) (Result, error) {
	if int64(len(body)) > s.d.MaxBodyBytes {
		return Result{}, vigie.Errorf(vigie.KindTooLarge, "body is over %d bytes", s.d.MaxBodyBytes)
	}
	if !vigie.ValidID(workspace) {
		// Not echoed: it is unchecked input of any length.
		return Result{}, vigie.Errorf(vigie.KindNotFound, "no such workspace")
	}
	ws, err := s.d.Store.GetWorkspace(ctx, workspace)
	if err != nil {
		return Result{}, fmt.Errorf("ingest: workspace: %w", err)
	}
	master, err := s.d.Secrets.Get(ctx, secrets.MasterSecret)
	if err != nil {
		return Result{}, &vigie.Error{Kind: vigie.KindUnavailable, Message: "secrets unavailable", Err: err}
	}
	now := s.d.Clock.Now()
	secret := webhook.Secret(secrets.WebhookSecret(master, ws.ID, ws.SecretGeneration))
	webhookID, err := webhook.Verify(secret, h, body, now, s.d.Tolerance)
	if err != nil {
		return Result{}, err
	}
	log := s.d.Logger.With("workspace", ws.ID, "webhook_id", webhookID)

	mentions, err := Parse(ws.ID, body, now)
	if err != nil {
		return Result{}, err
	}
	changes := make([]platform.Change, len(mentions))
	for i, m := range mentions {
		changes[i] = platform.Change{Op: platform.OpNew, Mention: m}
	}
	out, err := s.pipeline().Accept(ctx, ws.ID, nil, changes)
	if err != nil {
		return Result{}, err
	}
	res := Result{Received: out.Received, Created: out.Created, Mentions: out.Mentions}
	res.Duplicates = res.Received - res.Created
	log.Info("delivery ingested", "received", res.Received, "created", res.Created, "duplicates", res.Duplicates)
	return res, nil
}

// NewHandler serves POST /v1/hooks/{workspace}/generic. Another method on
// that path answers 405, any other path 404, both as JSON errors.
func NewHandler(d Deps) http.Handler {
	s := NewService(d)
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/hooks/{workspace}/generic", func(w http.ResponseWriter, r *http.Request) {
		// Refusals are logged with what identifies the delivery, never with
		// its body or signature. The webhook-id is the sender's claim until
		// verified; both are bounded before they reach a log line.
		log := s.d.Logger
		if ws := r.PathValue("workspace"); vigie.ValidID(ws) {
			log = log.With("workspace", ws)
		}
		if id := r.Header.Get(webhook.HeaderID); id != "" && len(id) <= 256 {
			log = log.With("webhook_id", id)
		}
		body, err := web.ReadBody(r, s.d.MaxBodyBytes)
		if err != nil {
			web.Error(w, r, log, err)
			return
		}
		res, err := s.Ingest(r.Context(), r.PathValue("workspace"), r.Header, body)
		if err != nil {
			web.Error(w, r, log, err)
			return
		}
		web.JSON(w, http.StatusOK, res)
	})
	mux.HandleFunc("/v1/hooks/{workspace}/generic", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", http.MethodPost)
		web.JSON(w, http.StatusMethodNotAllowed, web.ErrorBody{Error: web.ErrorDetail{
			Code: "method_not_allowed", Message: "only POST is allowed here"}})
	})
	mux.HandleFunc("GET /v1/hooks/meta", s.metaHandshake)
	mux.HandleFunc("POST /v1/hooks/meta", s.metaDelivery)
	mux.HandleFunc("GET /v1/hooks/x", s.xCRC)
	mux.HandleFunc("POST /v1/hooks/x", s.xDelivery)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		web.Error(w, r, nil, vigie.Errorf(vigie.KindNotFound, "no route %s %s", r.Method, r.URL.Path))
	})
	return mux
}
