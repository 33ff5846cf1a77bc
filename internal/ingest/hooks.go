package ingest

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"

	"vigie/internal/metrics"
	"vigie/internal/platform"
	"vigie/internal/secrets"
	"vigie/internal/vigie"
)

// HookResult is what an app-level hook (Meta, X) answers: the pipeline's
// counts over every workspace the delivery reached, and what could not be
// routed.
type HookResult struct {
	Outcome
	// Unrouted counts changes for accounts no workspace connected; Paused
	// those for paused channels. Both are acknowledged and dropped: the
	// platform would otherwise retry them, and Meta disables endpoints that
	// keep failing.
	Unrouted int `json:"unrouted"`
	Paused   int `json:"paused"`
}

// completer fills a thin change (ids only) through the platform's API with
// the channel's credentials.
type completer func(ctx context.Context, ch *vigie.Channel, creds map[string]string, c platform.Change) (platform.Change, error)

// routeAndAccept groups changes by platform account, finds each account's
// channel and runs its changes through the pipeline of the channel's
// workspace. A store or bus failure fails the whole delivery so that the
// platform retries it; what was done already is then found and not
// repeated.
func (s *Service) routeAndAccept(ctx context.Context, log *slog.Logger, changes []platform.Change, complete completer) (HookResult, error) {
	type key struct{ platform, account string }
	var order []key
	groups := map[key][]platform.Change{}
	res := HookResult{Outcome: Outcome{Mentions: []string{}}}
	for _, c := range changes {
		if c.Mention == nil {
			res.Ignored++
			continue
		}
		k := key{c.Mention.Platform, c.Account}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], c)
	}
	p := s.pipeline()
	for _, k := range order {
		group := groups[k]
		ch, err := s.d.Store.ChannelByAccount(ctx, k.platform, k.account)
		if vigie.IsKind(err, vigie.KindNotFound) || vigie.IsKind(err, vigie.KindInvalid) {
			res.Unrouted += len(group)
			log.Warn("delivery for an account no workspace connected", "platform", k.platform, "account", k.account, "changes", len(group))
			metrics.Count(ctx, log, "UnroutedChanges", len(group), "Platform", k.platform)
			continue
		}
		if err != nil {
			return res, fmt.Errorf("ingest: route: %w", err)
		}
		if ch.Status == vigie.StatusPaused {
			res.Paused += len(group)
			continue
		}
		group = s.completeThin(ctx, log, ch, group, complete)
		out, err := p.Accept(ctx, ch.Workspace, ch, group)
		if err != nil {
			return res, err
		}
		log.Info("changes ingested", "workspace", ch.Workspace, "channel", ch.ID, "received", out.Received,
			"created", out.Created, "edited", out.Edited, "removed", out.Removed, "duplicates", out.Duplicates)
		res.Add(out)
	}
	return res, nil
}

// completeThin fetches the text of thin changes. One that cannot be
// completed is kept with what the platform sent (ids), rather than lost:
// the mention is stored and announced without text.
func (s *Service) completeThin(ctx context.Context, log *slog.Logger, ch *vigie.Channel, group []platform.Change, complete completer) []platform.Change {
	var creds map[string]string
	for i, c := range group {
		if !c.Thin || complete == nil {
			continue
		}
		if creds == nil {
			var err error
			if creds, err = ChannelCredentials(ctx, s.d.Secrets, ch); err != nil {
				log.Warn("channel credentials unavailable; thin changes kept as they came", "workspace", ch.Workspace, "channel", ch.ID, "error", err)
				return group
			}
		}
		full, err := complete(ctx, ch, creds, c)
		if err != nil {
			log.Warn("could not complete a thin change", "workspace", ch.Workspace, "channel", ch.ID, "external_id", c.Mention.ExternalID, "error", err)
			continue
		}
		group[i] = full
	}
	return group
}

// ChannelCredentials reads a channel's credentials: a JSON object of
// strings kept as one secret.
func ChannelCredentials(ctx context.Context, src secrets.Source, ch *vigie.Channel) (map[string]string, error) {
	v, err := src.Get(ctx, secrets.ChannelSecret(ch.Workspace, ch.ID))
	if err != nil {
		return nil, err
	}
	m := map[string]string{}
	if err := json.Unmarshal([]byte(v.Reveal()), &m); err != nil {
		// Not the value: it is a secret.
		return nil, vigie.Errorf(vigie.KindInternal, "the credentials of channel %s are not a JSON object of strings", ch.ID)
	}
	return m, nil
}
