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

	"github.com/rs/cors"

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
	var inFlight atomic.Int64
	f, err := assemble(ctx, cfg, log, func() float64 { return float64(inFlight.Load()) })
	if err != nil {
		return err
	}
	defer f.close() // after the servers have shut down: see assemble
	log, kd, m := f.log, f.kd, f.metrics

	var shuttingDown atomic.Bool
	mux := http.NewServeMux()
	mux.Handle("/", gzipped(newMux(cfg, f.api, f.demoCaller)))
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
	// Every address listens before any is announced: ready means all of them answer.
	lns := make([]net.Listener, len(listeners))
	for i, l := range listeners {
		if lns[i], err = net.Listen("tcp", l.addr); err != nil {
			for _, ln := range lns[:i] {
				_ = ln.Close()
			}
			return err
		}
	}
	errc := make(chan error, len(listeners))
	for i, l := range listeners {
		log.Info("serving", "url", "http://"+displayAddr(lns[i].Addr())+"/", "what", l.what)
		go func() { errc <- l.srv.Serve(lns[i]) }()
	}
	if ready != nil {
		ready <- lns[0].Addr().String()
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
