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

// metaDelivery handles a signed Meta delivery: Page feed and Instagram
// comments and mentions, for every client of the agency at once.
func (s *Service) metaDelivery(w http.ResponseWriter, r *http.Request) {
	log := s.d.Logger.With("hook", "meta")
	body, err := web.ReadBody(r, s.d.MaxBodyBytes)
	if err != nil {
		web.Error(w, r, log, err)
		return
	}
	secret, err := s.appSecret(r.Context(), secrets.MetaAppSecret)
	if err != nil {
		web.Error(w, r, log, err)
		return
	}
	if err := meta.VerifySignature(secret, r.Header.Get("X-Hub-Signature-256"), body); err != nil {
		web.Error(w, r, log, err)
		return
	}
	d, err := meta.ParseDelivery(body)
	if err != nil {
		web.Error(w, r, log, err)
		return
	}
	res, err := s.routeAndAccept(r.Context(), log, d.Changes, s.completeMeta)
	if err != nil {
		web.Error(w, r, log, err)
		return
	}
	res.Ignored += d.Ignored
	log.Info("meta delivery", "object", d.Object, "changes", len(d.Changes), "created", res.Created, "unrouted", res.Unrouted, "ignored", res.Ignored)
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

// xDelivery handles a signed X Account Activity delivery.
func (s *Service) xDelivery(w http.ResponseWriter, r *http.Request) {
	log := s.d.Logger.With("hook", "x")
	body, err := web.ReadBody(r, s.d.MaxBodyBytes)
	if err != nil {
		web.Error(w, r, log, err)
		return
	}
	secret, err := s.appSecret(r.Context(), secrets.XConsumerSecret)
	if err != nil {
		web.Error(w, r, log, err)
		return
	}
	if err := x.VerifySignature(secret, r.Header.Get("x-twitter-webhooks-signature"), body); err != nil {
		web.Error(w, r, log, err)
		return
	}
	a, err := x.ParseActivity(body)
	if err != nil {
		web.Error(w, r, log, err)
		return
	}
	res, err := s.routeAndAccept(r.Context(), log, a.Changes, nil)
	if err != nil {
		web.Error(w, r, log, err)
		return
	}
	res.Ignored += a.Ignored
	log.Info("x delivery", "for_user_id", a.ForUserID, "changes", len(a.Changes), "created", res.Created, "unrouted", res.Unrouted)
	web.JSON(w, http.StatusOK, res)
}
