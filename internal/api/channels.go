package api

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"time"

	"vigie/internal/platform"
	"vigie/internal/secrets"
	"vigie/internal/vigie"
	"vigie/internal/web"
)

// channelView is a channel as the API shows it: never its credentials.
type channelView struct {
	ID             string    `json:"id"`
	Platform       string    `json:"platform"`
	AccountID      string    `json:"account_id"`
	Instance       string    `json:"instance,omitempty"`
	Handle         string    `json:"handle,omitempty"`
	Name           string    `json:"name"`
	Status         string    `json:"status"`
	PollEvery      string    `json:"poll_every,omitempty"`
	HasCredentials bool      `json:"has_credentials"`
	CreatedAt      time.Time `json:"created_at"`
}

func viewChannel(c *vigie.Channel) channelView {
	v := channelView{ID: c.ID, Platform: c.Platform, AccountID: c.AccountID, Instance: c.Instance, Handle: c.Handle,
		Name: c.Name, Status: c.Status, HasCredentials: true, CreatedAt: c.CreatedAt}
	if c.PollEvery > 0 {
		v.PollEvery = c.PollEvery.String()
	}
	return v
}

// platformRules says, per platform, what identifies an account and which
// credentials connecting it takes.
var platformRules = map[string]struct {
	account  func(string) bool
	instance bool     // an instance URL is required (Mastodon) or allowed (Bluesky)
	creds    []string // required credential names
	hint     string
}{
	platform.Facebook:  {account: digits, creds: []string{"access_token"}, hint: "the Page id (digits)"},
	platform.Instagram: {account: digits, creds: []string{"access_token"}, hint: "the Instagram professional account id (digits)"},
	platform.X:         {account: digits, hint: "the X user id (digits)"},
	platform.YouTube: {account: func(s string) bool {
		return len(s) == 24 && strings.HasPrefix(s, "UC") && strings.Trim(s[2:], "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") == ""
	}, hint: "the channel id (UC followed by 22 characters)"},
	platform.Mastodon: {account: digits, instance: true, creds: []string{"access_token"}, hint: "the account id on its instance (digits)"},
	platform.Bluesky: {account: func(s string) bool {
		return (strings.HasPrefix(s, "did:plc:") || strings.HasPrefix(s, "did:web:")) && len(s) <= 255 && !strings.ContainsAny(s, " \t\n")
	}, creds: []string{"identifier", "app_password"}, hint: "the account's DID (did:plc:…)"},
}

func digits(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	return strings.Trim(s, "0123456789") == ""
}

// MaxCredentialBytes bounds a channel's credentials.
const MaxCredentialBytes = 8 << 10

func (s *server) listChannels(w http.ResponseWriter, r *http.Request) {
	chs, err := s.Store.ListChannels(r.Context(), keyOf(r).Workspace)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := make([]channelView, len(chs))
	for i, c := range chs {
		out[i] = viewChannel(c)
	}
	web.JSON(w, http.StatusOK, map[string]any{"channels": out})
}

func (s *server) getChannel(w http.ResponseWriter, r *http.Request) {
	c, err := s.channel(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	web.JSON(w, http.StatusOK, viewChannel(c))
}

// channel reads the channel of the path, in the caller's workspace.
func (s *server) channel(r *http.Request) (*vigie.Channel, error) {
	id := r.PathValue("id")
	if !validRecordID("ch_", id) {
		return nil, vigie.Errorf(vigie.KindNotFound, "no such channel")
	}
	return s.Store.GetChannel(r.Context(), keyOf(r).Workspace, id)
}

// createChannel connects a platform account. The credentials go to the
// secret store first, under the new channel's id; if the channel then
// cannot be stored (the account is connected already) they are removed.
func (s *server) createChannel(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Platform    string            `json:"platform"`
		AccountID   string            `json:"account_id"`
		Instance    string            `json:"instance"`
		Handle      string            `json:"handle"`
		Name        string            `json:"name"`
		PollEvery   string            `json:"poll_every"`
		Credentials map[string]string `json:"credentials"`
	}
	if !s.decode(w, r, &in) {
		return
	}
	c, err := s.checkChannel(in.Platform, in.AccountID, in.Instance, in.Handle, in.Name, in.PollEvery, in.Credentials)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	c.Workspace, c.ID, c.Status, c.CreatedAt = keyOf(r).Workspace, newRecordID("ch_"), vigie.StatusActive, s.Clock.Now()
	creds, _ := json.Marshal(in.Credentials)
	if in.Credentials == nil {
		creds = []byte("{}")
	}
	name := secrets.ChannelSecret(c.Workspace, c.ID)
	if err := s.Secrets.Put(r.Context(), name, string(creds)); err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.Store.CreateChannel(r.Context(), c); err != nil {
		if derr := s.Secrets.Delete(r.Context(), name); derr != nil {
			s.log(r).Error("could not remove the credentials of a channel not created", "channel", c.ID, "error", derr)
		}
		if vigie.IsKind(err, vigie.KindConflict) {
			err = &vigie.Error{Kind: vigie.KindConflict, Code: "account_connected", Field: "account_id",
				Message: "this " + c.Platform + " account is connected already", Err: err}
		}
		s.fail(w, r, err)
		return
	}
	s.log(r).InfoContext(r.Context(), "channel connected", "channel", c.ID, "platform", c.Platform, "account", c.AccountID)
	web.JSON(w, http.StatusCreated, viewChannel(c))
}

// checkChannel validates a channel's fields; each error names its field.
func (s *server) checkChannel(plat, account, instance, handle, name, pollEvery string, creds map[string]string) (*vigie.Channel, error) {
	rules, ok := platformRules[plat]
	if !ok {
		return nil, vigie.Invalidf("platform", "platform must be one of facebook, instagram, x, youtube, mastodon, bluesky")
	}
	if !rules.account(account) {
		return nil, vigie.Invalidf("account_id", "account_id must be %s", rules.hint)
	}
	c := &vigie.Channel{Platform: plat, AccountID: account}
	switch {
	case plat == platform.Mastodon && instance == "":
		return nil, &vigie.Error{Kind: vigie.KindInvalid, Code: "field_missing", Field: "instance", Message: "instance is required for mastodon (e.g. https://mastodon.social)"}
	case instance != "" && !rules.instance:
		return nil, vigie.Invalidf("instance", "instance is only for mastodon and bluesky")
	case instance != "":
		u, err := checkURL("instance", instance)
		if err != nil {
			return nil, err
		}
		c.Instance = u
	}
	if len(handle) > 255 || strings.ContainsFunc(handle, func(r rune) bool { return r <= ' ' }) {
		return nil, vigie.Invalidf("handle", "handle must be at most 255 characters without spaces")
	}
	c.Handle = strings.TrimPrefix(handle, "@")
	var err error
	if c.Name, err = cleanName("name", name); err != nil {
		return nil, err
	}
	if c.PollEvery, err = checkPollEvery(pollEvery); err != nil {
		return nil, err
	}
	size := 0
	for k, v := range creds {
		size += len(k) + len(v)
		if v == "" {
			return nil, vigie.Invalidf("credentials."+k, "credentials.%s is empty", k)
		}
	}
	if size > MaxCredentialBytes {
		return nil, vigie.Invalidf("credentials", "credentials must be at most %d bytes", MaxCredentialBytes)
	}
	for _, need := range rules.creds {
		if creds[need] == "" {
			return nil, &vigie.Error{Kind: vigie.KindInvalid, Code: "field_missing", Field: "credentials." + need,
				Message: "credentials." + need + " is required for " + plat}
		}
	}
	return c, nil
}

// updateChannel pauses or resumes a channel, renames it or changes its
// polling interval. The account and credentials are not changed here:
// connect the account again for that.
func (s *server) updateChannel(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Name      *string `json:"name"`
		Status    *string `json:"status"`
		PollEvery *string `json:"poll_every"`
	}
	if !s.decode(w, r, &in) {
		return
	}
	for range retries {
		c, err := s.channel(r)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if err := applyCommon(&c.Name, &c.Status, &c.PollEvery, in.Name, in.Status, in.PollEvery); err != nil {
			s.fail(w, r, err)
			return
		}
		err = s.Store.UpdateChannel(r.Context(), c)
		if vigie.IsKind(err, vigie.KindConflict) {
			continue
		}
		if err != nil {
			s.fail(w, r, err)
			return
		}
		s.log(r).InfoContext(r.Context(), "channel updated", "channel", c.ID, "status", c.Status)
		web.JSON(w, http.StatusOK, viewChannel(c))
		return
	}
	s.fail(w, r, vigie.Errorf(vigie.KindConflict, "the channel is being changed concurrently; try again"))
}

// deleteChannel disconnects a channel: the record, its credentials and its
// polling state. Its mentions stay.
func (s *server) deleteChannel(w http.ResponseWriter, r *http.Request) {
	c, err := s.channel(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.Store.DeleteChannel(r.Context(), c.Workspace, c.ID); err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.Secrets.Delete(r.Context(), secrets.ChannelSecret(c.Workspace, c.ID)); err != nil {
		s.log(r).Error("channel removed but not its credentials", "channel", c.ID, "error", err)
	}
	s.dropSources(r, c.ID)
	s.log(r).InfoContext(r.Context(), "channel removed", "channel", c.ID)
	w.WriteHeader(http.StatusNoContent)
}

// dropSources removes the polling state of a removed channel or watch
// (source ids start with its id). Left over, it is only unused.
func (s *server) dropSources(r *http.Request, owner string) {
	ws := keyOf(r).Workspace
	srcs, err := s.Store.ListSources(r.Context(), ws)
	if err != nil {
		s.log(r).Warn("polling state of a removed item not listed", "owner", owner, "error", err)
		return
	}
	for _, src := range srcs {
		if strings.HasPrefix(src.ID, owner+":") {
			if err := s.Store.DeleteSource(r.Context(), ws, src.ID); err != nil {
				s.log(r).Warn("polling state of a removed item not deleted", "source", src.ID, "error", err)
			}
		}
	}
}

// applyCommon applies the optional name, status and poll_every of an
// update.
func applyCommon(name, status *string, every *time.Duration, inName, inStatus, inEvery *string) error {
	if inName != nil {
		n, err := cleanName("name", *inName)
		if err != nil {
			return err
		}
		*name = n
	}
	if inStatus != nil {
		if *inStatus != vigie.StatusActive && *inStatus != vigie.StatusPaused {
			return vigie.Invalidf("status", "status must be active or paused")
		}
		*status = *inStatus
	}
	if inEvery != nil {
		d, err := checkPollEvery(*inEvery)
		if err != nil {
			return err
		}
		*every = d
	}
	return nil
}

// Polling intervals allowed per source.
const (
	MinPollEvery = time.Minute
	MaxPollEvery = 24 * time.Hour
)

func checkPollEvery(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < MinPollEvery || d > MaxPollEvery {
		return 0, vigie.Invalidf("poll_every", "poll_every must be a duration from 1m to 24h, such as 5m or 1h")
	}
	return d, nil
}

// checkURL accepts absolute http(s) URLs with a host, at most 2048 bytes.
func checkURL(field, raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || len(raw) > 2048 || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
		return "", vigie.Invalidf(field, "%s must be an http or https URL", field)
	}
	return u.String(), nil
}

// newRecordID returns prefix and 16 random hex digits.
func newRecordID(prefix string) string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

func validRecordID(prefix, id string) bool {
	if len(id) != len(prefix)+16 || !strings.HasPrefix(id, prefix) {
		return false
	}
	_, err := hex.DecodeString(id[len(prefix):])
	return err == nil
}
