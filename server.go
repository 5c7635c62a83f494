// Command facade serves KooDrive's user and user-group API as GraphQL. Without
// KOODRIVE_BASE_URL it starts an embedded demo KooDrive, so `go run .` works anywhere.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/klauspost/compress/gzhttp"
	"github.com/rs/cors"

	"github.com/koodrive/facade/fleet"
	"github.com/koodrive/facade/graph"
	"github.com/koodrive/facade/graph/gqlhttp"
	"github.com/koodrive/facade/koodrive"
	"github.com/koodrive/facade/koodrive/demo"
	"github.com/koodrive/facade/web"
)

// defaultGCPercent: the live heap is a few MiB, so Go's default of 100 collects every
// few requests; 400 spends tens of MiB of RSS for about a third less CPU per request
// (go test -bench HandlerUserGroups50 ./graph with GOGC=100/200/400). GOGC overrides it.
const defaultGCPercent = 400

// version is stamped by the release build (deploy/build-image.sh: -ldflags -X main.version).
var version = "dev"

func main() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(defaultGCPercent)
	}
	cfg, err := parseConfig(os.Args[1:], os.Getenv)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	log := newLogger(cfg.LogFormat, os.Stderr)
	if err != nil {
		log.Error("bad configuration", "error", err)
		os.Exit(2)
	}
	log.Info("koodrive facade", "version", version)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg, log, nil); err != nil {
		log.Error("server stopped", "error", err)
		os.Exit(1)
	}
}

// newLogger writes JSON for log collectors and text for a person at a terminal.
func newLogger(format string, out *os.File) *slog.Logger {
	if format == "auto" {
		format = "json"
		if fi, err := out.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			format = "text"
		}
	}
	if format == "text" {
		return slog.New(slog.NewTextHandler(out, nil))
	}
	return slog.New(slog.NewJSONHandler(out, nil))
}

// run serves until ctx ends, then lets in-flight requests finish within the grace
// period. ready, when set, receives the listening address.
func run(ctx context.Context, cfg config, log *slog.Logger, ready chan<- string) error {
	opts := gqlhttp.Options{RequestTimeout: cfg.RequestTimeout, Limits: cfg.Limits, DisableIntrospection: !cfg.Introspection}
	if cfg.PersistedQueriesOnly {
		manifest, err := os.ReadFile(cfg.PersistedQueries)
		if err != nil {
			return fmt.Errorf("PERSISTED_QUERIES: %w", err)
		}
		if opts.PersistedQueries, err = gqlhttp.ParseManifest(manifest); err != nil {
			return err
		}
		log.Info("persisted queries only", "operations", len(opts.PersistedQueries))
	}
	if cfg.KooDriveBaseURL == "" {
		upstream, err := startDemoUpstream()
		if err != nil {
			return err
		}
		defer upstream.close() // after the facade's own shutdown: in-flight requests need it
		cfg.KooDriveBaseURL = upstream.url
		opts.DemoCaller = &koodrive.Caller{Authorization: demo.Authorization, UserID: upstream.callerID}
		log.Warn("DEMO MODE: KOODRIVE_BASE_URL is unset; serving an embedded demo KooDrive with seeded data, and requests without credentials act as the demo user",
			"demo_user_id", upstream.callerID)
	}
	tr, err := newTracer(ctx, os.Getenv)
	if err != nil {
		return err
	}
	var graphOpts graph.Options
	if tr != nil {
		log = slog.New(logTraces{log.Handler()})
		defer func() { // after the servers: the last requests' spans are flushed
			flushCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := tr.shutdown(flushCtx); err != nil {
				log.Warn("tracing: spans not flushed", "error", err)
			}
		}()
		graphOpts.Tracer = tr.provider.Tracer("github.com/koodrive/facade/graph")
		opts.Tracing = &gqlhttp.Tracing{Provider: tr.provider, Propagator: tr.propagator}
		log.Info("tracing: spans exported over OTLP/HTTP")
	}
	var inFlight atomic.Int64
	m := newMetrics(func() float64 { return float64(inFlight.Load()) })
	opts.Observer = m
	kdOpts := []koodrive.Option{koodrive.WithTimeout(cfg.KooDriveTimeout), koodrive.WithObserver(m),
		koodrive.WithClockMargin(cfg.KooDriveClockMargin), koodrive.WithLogger(log)}
	if cfg.UserCacheTTL > 0 {
		kdOpts = append(kdOpts, koodrive.WithUserCache(cfg.UserCacheTTL, userCacheSize))
	}
	if tr != nil {
		kdOpts = append(kdOpts, koodrive.WithTracer(tr.provider, tr.propagator))
	}
	var shared *fleet.Redis
	if cfg.RedisURL != "" {
		var err error
		if shared, err = fleet.Connect(ctx, fleet.Options{URL: cfg.RedisURL, Prefix: cfg.RedisPrefix, Timeout: cfg.RedisTimeout, Log: log, Observer: m}); err != nil {
			return err
		}
		defer shared.Close()
		kdOpts = append(kdOpts, koodrive.WithShared(shared))
		opts.SharedQueries = shared
	}
	if r := cfg.KooDriveRateLimit; r != nil {
		kdOpts = append(kdOpts, koodrive.WithCallLimit(limiter(shared, "koodrive", *r)))
	}
	if r := cfg.RateLimit; r != nil {
		opts.RateLimit = &gqlhttp.RateLimit{Limiter: limiter(shared, "caller", *r), Burst: float64(r.N), RestorePerSecond: r.PerSecond()}
	}
	kd, err := koodrive.New(cfg.KooDriveBaseURL, kdOpts...)
	if err != nil {
		return err
	}
	defer kd.CloseIdleConnections()
	if shared != nil {
		go shared.WatchHolds(ctx, koodrive.Endpoints, kd.Hold)
	}
	graphOpts.Observer = m
	resolver := graph.New(kd, log, graphOpts)
	api := gqlhttp.New(resolver, log, opts)

	var shuttingDown atomic.Bool
	mux := http.NewServeMux()
	mux.Handle("/", gzhttp.GzipHandler(newMux(cfg, api, opts.DemoCaller)))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		switch {
		case shuttingDown.Load():
			http.Error(w, "shutting down", http.StatusServiceUnavailable)
		case kd.UnreachableFor() > cfg.UnreachableAfter:
			http.Error(w, "KooDrive unreachable", http.StatusServiceUnavailable)
		default:
			fmt.Fprintln(w, "ready")
		}
	})
	// Each server with the address it listens on and what it serves.
	type listener struct {
		srv        *http.Server
		addr, what string
	}
	listeners := []listener{{newServer(cfg, countInFlight(&inFlight, mux)), ":" + cfg.Port, "GraphiQL at /, example frontend at /explorer, GraphQL at /query"}}
	if cfg.MetricsAddr == "" {
		mux.Handle("GET /metrics", m.handler())
	} else {
		metricsMux := http.NewServeMux()
		metricsMux.Handle("GET /metrics", m.handler())
		listeners = append(listeners, listener{newServer(cfg, metricsMux), cfg.MetricsAddr, "/metrics"})
	}
	errc := make(chan error, len(listeners))
	for i, l := range listeners {
		ln, err := net.Listen("tcp", l.addr)
		if err != nil {
			return err
		}
		log.Info("serving", "url", "http://"+displayAddr(ln.Addr())+"/", "what", l.what)
		if ready != nil && i == 0 {
			ready <- ln.Addr().String()
		}
		go func() { errc <- l.srv.Serve(ln) }()
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shuttingDown.Store(true)
	if cfg.ShutdownDelay > 0 {
		log.Info("shutting down: not ready, still serving", "delay", cfg.ShutdownDelay.String())
		time.Sleep(cfg.ShutdownDelay)
	}
	log.Info("shutting down: no new connections; waiting for requests in flight", "in_flight", inFlight.Load(), "grace", cfg.ShutdownGrace.String())
	graceCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownGrace)
	defer cancel()
	var cut bool
	for _, l := range listeners {
		if err := l.srv.Shutdown(graceCtx); err != nil {
			cut = true
			_ = l.srv.Close()
		}
	}
	if cut {
		log.Error("grace period over: cut requests still in flight", "in_flight", inFlight.Load())
		return nil
	}
	log.Info("shut down cleanly")
	return nil
}

// limiter keeps a rate's buckets in the fleet's Redis, with this process's own as the
// fallback, or in process alone without a fleet.
func limiter(shared *fleet.Redis, name string, r fleet.Rate) interface {
	gqlhttp.Limiter
	koodrive.CallLimiter
} {
	local := fleet.NewLocalLimiter(r)
	if shared == nil {
		return local
	}
	return shared.Limiter(name, r, local)
}

func newServer(cfg config, h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      cfg.RequestTimeout + 5*time.Second, // the request budget ends first
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
}

func countInFlight(n *atomic.Int64, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		defer n.Add(-1)
		next.ServeHTTP(w, r)
	})
}

func newMux(cfg config, api http.Handler, demoCaller *koodrive.Caller) http.Handler {
	playground := web.Options{Endpoint: "/query"}
	if demoCaller != nil {
		playground.Headers = map[string]string{"Authorization": demoCaller.Authorization, "X-User-Id": demoCaller.UserID}
	}
	mux := http.NewServeMux()
	mux.Handle("/query", corsFor(cfg.CORSAllowedOrigins).Handler(limitBody(cfg.MaxBodyBytes, api)))
	mux.Handle("/", web.Handler(playground))
	return mux
}

// corsFor lets the configured browser origins send KooDrive's headers and read the
// trace id back.
func corsFor(origins []string) *cors.Cors {
	return cors.New(cors.Options{
		AllowedOrigins: origins,
		AllowedMethods: []string{http.MethodGet, http.MethodPost},
		AllowedHeaders: []string{"Authorization", "X-User-Id", "X-Traceid", "language", "Accept-Language", "Content-Type", "traceparent", "tracestate", "baggage"},
		ExposedHeaders: []string{"X-Traceid"},
		MaxAge:         600,
	})
}

// limitBody caps what is read of a body; the POST transport answers 413 when a body
// goes past it (graph/gqlhttp/transport.go), and nothing else reads one.
func limitBody(limit int64, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		next.ServeHTTP(w, r)
	})
}

type demoUpstream struct {
	url, callerID string
	close         func()
}

// startDemoUpstream serves the demo KooDrive on a loopback port, so the facade reaches
// it through the same HTTP path as a real one.
func startDemoUpstream() (demoUpstream, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return demoUpstream{}, err
	}
	up := demo.New(demo.Options{})
	srv := &http.Server{Handler: up, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return demoUpstream{url: "http://" + ln.Addr().String(), callerID: up.CallerID(), close: func() { _ = srv.Close() }}, nil
}

func displayAddr(a net.Addr) string {
	if tcp, ok := a.(*net.TCPAddr); ok && tcp.IP.IsUnspecified() {
		return fmt.Sprintf("localhost:%d", tcp.Port)
	}
	return a.String()
}
