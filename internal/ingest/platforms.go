package ingest

import (
	"context"
	"net/http"

	"vigie/internal/platform"
	"vigie/internal/platform/meta"
	"vigie/internal/platform/x"
	"vigie/internal/secrets"
	"vigie/internal/vigie"
	"vigie/internal/web"
)

// appSecret reads an app-level platform secret. Missing, the hook is not
// configured: the answer is 503, which the platform retries, so that
// deliveries sent before the operator sets it are not lost.
func (s *Service) appSecret(ctx context.Context, name string) ([]byte, error) {
	v, err := s.d.Secrets.Get(ctx, name)
	if vigie.IsKind(err, vigie.KindNotFound) {
		return nil, &vigie.Error{Kind: vigie.KindUnavailable, Code: "not_configured", Message: "this hook is not configured: set the secret " + name}
	}
	if err != nil {
		return nil, err
	}
	return []byte(v.Reveal()), nil
}

// metaHandshake answers Meta's subscription check (GET ?hub.mode=…).
func (s *Service) metaHandshake(w http.ResponseWriter, r *http.Request) {
	log := s.d.Logger.With("hook", "meta")
	token, err := s.appSecret(r.Context(), secrets.MetaVerifyToken)
	if err != nil {
		web.Error(w, r, log, err)
		return
	}
	challenge, err := meta.VerifyChallenge(r.URL.Query(), string(token))
	if err != nil {
		web.Error(w, r, log, err)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(challenge))
}

// appHook is an app-level platform webhook: the secret its deliveries are
// signed with, how the signature is checked, and how a delivery is read.
type appHook struct {
	name      string // in logs
	secret    string // the secret's name
	signature string // the signature header
	verify    func(secret []byte, header string, body []byte) error
	// parse returns the delivery's changes and how many events it held
	// that are not mentions, with attributes for the log.
	parse    func(body []byte) (changes []platform.Change, ignored int, attrs []any, err error)
	complete completer // nil: the platform sends whole changes
}

// metaDelivery handles a signed Meta delivery: Page feed and Instagram
// comments and mentions, for every client of the agency at once.
func (s *Service) metaDelivery(w http.ResponseWriter, r *http.Request) {
	s.delivery(w, r, appHook{name: "meta", secret: secrets.MetaAppSecret, signature: "X-Hub-Signature-256", verify: meta.VerifySignature,
		parse: func(body []byte) ([]platform.Change, int, []any, error) {
			d, err := meta.ParseDelivery(body)
			return d.Changes, d.Ignored, []any{"object", d.Object}, err
		},
		complete: s.completeMeta})
}

// xDelivery handles a signed X Account Activity delivery.
func (s *Service) xDelivery(w http.ResponseWriter, r *http.Request) {
	s.delivery(w, r, appHook{name: "x", secret: secrets.XConsumerSecret, signature: "x-twitter-webhooks-signature", verify: x.VerifySignature,
		parse: func(body []byte) ([]platform.Change, int, []any, error) {
			a, err := x.ParseActivity(body)
			return a.Changes, a.Ignored, []any{"for_user_id", a.ForUserID}, err
		}})
}

// delivery reads, verifies and parses a delivery of h, then routes its
// changes to their workspaces. Nothing is stored unless the signature
// holds and the whole body parses.
func (s *Service) delivery(w http.ResponseWriter, r *http.Request, h appHook) {
	log := s.d.Logger.With("hook", h.name)
	body, err := web.ReadBody(r, s.d.MaxBodyBytes)
	if err != nil {
		web.Error(w, r, log, err)
		return
	}
	secret, err := s.appSecret(r.Context(), h.secret)
	if err != nil {
		web.Error(w, r, log, err)
		return
	}
	if err := h.verify(secret, r.Header.Get(h.signature), body); err != nil {
		web.Error(w, r, log, err)
		return
	}
	changes, ignored, attrs, err := h.parse(body)
	if err != nil {
		web.Error(w, r, log, err)
		return
	}
	res, err := s.routeAndAccept(r.Context(), log, changes, h.complete)
	if err != nil {
		web.Error(w, r, log, err)
		return
	}
	res.Ignored += ignored
	log.Info("delivery", append(attrs, "changes", len(changes), "created", res.Created, "unrouted", res.Unrouted, "ignored", res.Ignored)...)
	web.JSON(w, http.StatusOK, res)
}

// completeMeta fetches a thin Instagram mention's text through the Graph
// API with the channel's token.
func (s *Service) completeMeta(ctx context.Context, ch *vigie.Channel, creds map[string]string, c platform.Change) (platform.Change, error) {
	return s.meta().CompleteMention(ctx, creds["access_token"], ch.AccountID, c)
}

func (s *Service) meta() *meta.Client {
	return &meta.Client{BaseURL: s.d.Platforms.MetaGraphURL, HTTP: s.d.Platforms.HTTP, Now: s.d.Clock.Now}
}

// xCRC answers X's challenge-response check (GET ?crc_token=…).
func (s *Service) xCRC(w http.ResponseWriter, r *http.Request) {
	log := s.d.Logger.With("hook", "x")
	secret, err := s.appSecret(r.Context(), secrets.XConsumerSecret)
	if err != nil {
		web.Error(w, r, log, err)
		return
	}
	body, err := x.CRCResponse(secret, r.URL.Query().Get("crc_token"))
	if err != nil {
		web.Error(w, r, log, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}
