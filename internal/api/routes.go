package api

import (
	"net/http"
	"slices"
	"strings"

	"vigie/internal/vigie"
	"vigie/internal/web"
)

// route is one method and path of the API, who may call it, and what
// serves it.
type route struct {
	method, path string
	who          role
	serve        http.HandlerFunc
}

// table is the API. template.yaml lists the same method and path pairs for
// the api function, and events/api has a sample of each (tests check both).
func (s *server) table() []route {
	return []route{
		{"GET", "/v1/health", public, s.health},
		{"POST", "/v1/workspaces", admin, s.createWorkspace},
		{"GET", "/v1/workspace", member, s.getWorkspace},
		{"POST", "/v1/workspace/webhook-secret", member, s.rotateWebhookSecret},
		{"GET", "/v1/keys", member, s.listKeys},
		{"POST", "/v1/keys", member, s.createKey},
		{"DELETE", "/v1/keys/{id}", member, s.revokeKey},
		{"GET", "/v1/mentions", member, s.listMentions},
		{"GET", "/v1/channels", member, s.listChannels},
		{"POST", "/v1/channels", member, s.createChannel},
		{"GET", "/v1/channels/{id}", member, s.getChannel},
		{"PATCH", "/v1/channels/{id}", member, s.updateChannel},
		{"DELETE", "/v1/channels/{id}", member, s.deleteChannel},
		{"GET", "/v1/watches", member, s.listWatches},
		{"POST", "/v1/watches", member, s.createWatch},
		{"GET", "/v1/watches/{id}", member, s.getWatch},
		{"PATCH", "/v1/watches/{id}", member, s.updateWatch},
		{"DELETE", "/v1/watches/{id}", member, s.deleteWatch},
		{"GET", "/v1/sources", member, s.listSources},
	}
}

func (s *server) routes() http.Handler {
	mux := http.NewServeMux()
	allowed := map[string][]string{}
	for _, rt := range s.table() {
		mux.HandleFunc(rt.method+" "+rt.path, s.guard(rt.who, rt.serve))
		allowed[rt.path] = append(allowed[rt.path], rt.method)
	}
	// A known path with another method: 405 with Allow, as JSON (the mux's
	// own answers are text).
	for path, methods := range allowed {
		if slices.Contains(methods, http.MethodGet) {
			methods = append(methods, http.MethodHead) // GET patterns serve HEAD
		}
		allow := strings.Join(methods, ", ")
		mux.HandleFunc(path, func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Allow", allow)
			web.JSON(w, http.StatusMethodNotAllowed, web.ErrorBody{Error: web.ErrorDetail{
				Code: "method_not_allowed", Message: "this route takes " + allow,
			}})
		})
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		web.Error(w, r, nil, vigie.Errorf(vigie.KindNotFound, "no such route"))
	})
	return noStore(mux)
}

// noStore keeps answers out of caches: some carry keys and secrets, all are
// per-caller.
func noStore(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

func (s *server) health(w http.ResponseWriter, _ *http.Request) {
	web.JSON(w, http.StatusOK, map[string]string{"status": "ok"})
}
