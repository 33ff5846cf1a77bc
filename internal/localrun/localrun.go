// Package localrun runs the whole of Vigie on one machine, as `make run`
// does: it reads template.yaml, serves the HTTP API routes on a local address
// by turning each request into the API Gateway event Lambda would receive and
// invoking the very handler that functions/*/main.go give to lambda.Start,
// routes events between functions with the template's own rules (local bus),
// fires the template's schedules from a clock, and keeps everything in a
// bbolt file.
package localrun

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"vigie/internal/app"
	"vigie/internal/bus/localbus"
	"vigie/internal/config"
	"vigie/internal/handler"
	"vigie/internal/samtemplate"
	"vigie/internal/secrets"
	"vigie/internal/store/boltstore"
	"vigie/internal/vigie"
	"vigie/internal/web"
)

// Options adjust a Runner for tests.
type Options struct {
	// Handlers replaces the handler of the named functions, or adds
	// handlers for template functions that Vigie has not built (tests with a
	// fixture template). Values are what would be given to lambda.Start.
	Handlers map[string]any
	// Out receives the start banner. Defaults to io.Discard.
	Out io.Writer
	// Logger defaults to JSON on stderr at the configured level.
	Logger *slog.Logger
	// Backoff between local bus delivery attempts; nil keeps the bus default.
	Backoff func(attempt int) time.Duration
	// Clock and After drive the schedules (and Clock the services); they
	// default to the system clock and time.After.
	Clock vigie.Clock
	After func(time.Duration) <-chan time.Time
	// NoDemo skips creating the demo workspace (templates without the api).
	NoDemo bool
	// ShutdownGrace bounds how long Close lets event deliveries finish.
	ShutdownGrace time.Duration
}

// Runner is a running local Vigie.
type Runner struct {
	cfg      config.Config
	deps     *app.Deps
	bus      *localbus.Bus
	tmpl     *samtemplate.Template
	invokers map[string]lambda.Handler // by function logical id
	ln       net.Listener
	srv      *http.Server
	log      *slog.Logger
	out      io.Writer
	clock    vigie.Clock
	after    func(time.Duration) <-chan time.Time
	stop     context.CancelFunc
	wg       sync.WaitGroup
}

// DemoWorkspace is the workspace created on first start.
const DemoWorkspace = "demo"

// Start opens the store and the bus, listens on cfg.Addr and starts the
// schedules. Call Close to stop; events accepted before then are delivered
// or kept for the next start.
func Start(ctx context.Context, cfg config.Config, opts Options) (*Runner, error) {
	if opts.Out == nil {
		opts.Out = io.Discard
	}
	if opts.Clock == nil {
		opts.Clock = vigie.SystemClock{}
	}
	if opts.After == nil {
		opts.After = time.After
	}
	r := &Runner{cfg: cfg, out: opts.Out, log: opts.Logger, clock: opts.Clock, after: opts.After}
	if r.log == nil {
		r.log = app.NewLogger(defaultLogOutput, cfg.LogLevel)
	}
	tmpl, err := samtemplate.Load(cfg.Template)
	if err != nil {
		return nil, err
	}
	r.tmpl = tmpl
	if _, err := (secrets.File{Path: cfg.SecretsFile}).Ensure(secrets.MasterSecret, secrets.AdminKey); err != nil {
		return nil, err
	}
	cfg.Store, cfg.Bus, cfg.Secrets = "bolt", "local", "file"
	deps, err := app.Build(ctx, cfg, app.Options{Logger: r.log, Clock: opts.Clock})
	if err != nil {
		return nil, err
	}
	r.deps = deps
	closeOnErr := func(err error) (*Runner, error) {
		_ = deps.Close()
		return nil, err
	}

	// Handlers publish to the bus, and the bus delivers to handlers: the
	// handlers get a forwarder to the bus made just after them.
	deps.Bus = busForwarder{r}
	r.invokers = map[string]lambda.Handler{}
	for _, fn := range tmpl.Functions {
		h, ok := opts.Handlers[fn.LogicalID]
		if !ok {
			if h, err = app.Handler(fn.Name(), deps); err != nil {
				return closeOnErr(fmt.Errorf("localrun: template function %s: %w", fn.LogicalID, err))
			}
		}
		r.invokers[fn.LogicalID] = lambda.NewHandler(h)
	}
	targets := map[string]localbus.Target{}
	for id, inv := range r.invokers {
		targets[id] = eventTarget(inv)
	}
	bs := deps.Store.(*boltstore.Store)
	r.bus, err = localbus.New(bs.DB(), tmpl.Rules(), targets, localbus.Options{Logger: r.log, Backoff: opts.Backoff, Clock: opts.Clock, ShutdownGrace: opts.ShutdownGrace})
	if err != nil {
		return closeOnErr(err)
	}

	runCtx, cancel := context.WithCancel(context.Background())
	r.stop = cancel
	if err := r.bus.Start(runCtx); err != nil {
		cancel()
		return closeOnErr(err)
	}
	r.ln, err = net.Listen("tcp", cfg.Addr)
	if err != nil {
		cancel()
		_ = r.bus.Close()
		return closeOnErr(fmt.Errorf("localrun: listen on %s: %w", cfg.Addr, err))
	}
	r.srv = &http.Server{Handler: r.routes(), ReadHeaderTimeout: 10 * time.Second}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		if err := r.srv.Serve(r.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			r.log.Error("local server stopped", "error", err)
		}
	}()
	r.startSchedules(runCtx)
	if opts.NoDemo {
		return r, nil
	}
	if err := r.seedDemo(ctx); err != nil {
		_ = r.Close()
		return nil, err
	}
	return r, nil
}

// URL is the base URL the runner serves.
func (r *Runner) URL() string { return "http://" + r.ln.Addr().String() }

// Bus is the runner's local bus, for listing and replaying dead letters.
func (r *Runner) Bus() *localbus.Bus { return r.bus }

// Close stops accepting requests, lets in-flight ones finish, stops the
// schedules and the bus (undelivered events stay queued in the bbolt file)
// and closes the store.
func (r *Runner) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := r.srv.Shutdown(ctx)
	r.stop()
	r.wg.Wait()
	return errors.Join(err, r.bus.Close(), r.deps.Close())
}

// routes mounts each HttpApi route of the template as a Go ServeMux pattern
// that invokes the route's function with an API Gateway v2 event.
func (r *Runner) routes() http.Handler {
	mux := http.NewServeMux()
	for _, fn := range r.tmpl.Functions {
		inv := r.invokers[fn.LogicalID]
		for _, rt := range fn.Routes {
			routeKey := rt.Method + " " + rt.Path
			pattern := strings.ReplaceAll(rt.Path, "+}", "...}")
			if rt.Method != "ANY" {
				pattern = rt.Method + " " + pattern
			}
			mux.Handle(pattern, r.httpRoute(inv, routeKey, pathParams(rt.Path)))
		}
	}
	// The local bus's dead-letter list, which in the cloud is the SQS DLQ.
	mux.HandleFunc("GET /local/dead-letters", func(w http.ResponseWriter, req *http.Request) {
		dl, err := r.bus.DeadLetters(req.Context())
		if err != nil {
			web.Error(w, req, r.log, err)
			return
		}
		if dl == nil {
			dl = []localbus.DeadLetter{}
		}
		web.JSON(w, http.StatusOK, map[string]any{"dead_letters": dl})
	})
	mux.HandleFunc("POST /local/dead-letters/{id}/replay", func(w http.ResponseWriter, req *http.Request) {
		if err := r.bus.Replay(req.Context(), req.PathValue("id")); err != nil {
			web.Error(w, req, r.log, err)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		// API Gateway's own answer for a route it does not have.
		web.JSON(w, http.StatusNotFound, map[string]string{"message": "Not Found"})
	})
	return mux
}

// pathParams lists the names of a route's {parameters}.
func pathParams(path string) []string {
	var names []string
	for _, seg := range strings.Split(path, "/") {
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
			names = append(names, strings.TrimSuffix(strings.Trim(seg, "{}"), "+"))
		}
	}
	return names
}

func (r *Runner) httpRoute(inv lambda.Handler, routeKey string, names []string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		params := map[string]string{}
		for _, n := range names {
			params[n] = req.PathValue(n)
		}
		ev, err := handler.Request(req, routeKey, params, 10<<20)
		if err != nil {
			web.Error(w, req, r.log, err)
			return
		}
		payload, err := json.Marshal(ev)
		if err != nil {
			web.Error(w, req, r.log, err)
			return
		}
		out, err := inv.Invoke(req.Context(), payload)
		if err != nil {
			// What API Gateway answers when the function fails.
			r.log.Error("function failed", "route", routeKey, "error", err)
			web.JSON(w, http.StatusInternalServerError, map[string]string{"message": "Internal Server Error"})
			return
		}
		var resp events.APIGatewayV2HTTPResponse
		if err := json.Unmarshal(out, &resp); err != nil {
			web.JSON(w, http.StatusBadGateway, map[string]string{"message": "Internal Server Error"})
			return
		}
		if err := handler.WriteResponse(w, resp); err != nil {
			r.log.Error("write response", "route", routeKey, "error", err)
		}
	})
}

// eventTarget delivers a bus event to a function as EventBridge would.
func eventTarget(inv lambda.Handler) localbus.Target {
	return func(ctx context.Context, ev events.EventBridgeEvent) error {
		payload, err := json.Marshal(ev)
		if err != nil {
			return err
		}
		_, err = inv.Invoke(ctx, payload)
		return err
	}
}

// busForwarder publishes on the runner's bus once it exists.
type busForwarder struct{ r *Runner }

func (f busForwarder) Publish(ctx context.Context, evs ...vigie.Event) error {
	return f.r.bus.Publish(ctx, evs...)
}
