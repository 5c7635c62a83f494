// Command facade serves KooDrive's user and user-group API as GraphQL. Without
// KOODRIVE_BASE_URL it starts an embedded demo KooDrive, so `go run .` works anywhere.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/rs/cors"

	"github.com/koodrive/facade/graph"
	"github.com/koodrive/facade/koodrive"
	"github.com/koodrive/facade/koodrive/demo"
	"github.com/koodrive/facade/web"
)

// config is read from environment variables, each overridable by its flag.
type config struct {
	Port               string
	KooDriveBaseURL    string
	KooDriveTimeout    time.Duration
	CORSAllowedOrigins []string
}

const maxRequestBodyBytes = 1 << 20

func parseConfig(args []string, getenv func(string) string) (config, error) {
	fs := flag.NewFlagSet("facade", flag.ContinueOnError)
	port := fs.String("port", envOr(getenv, "PORT", "8080"), "port to listen on (env `PORT`)")
	baseURL := fs.String("koodrive-base-url", getenv("KOODRIVE_BASE_URL"),
		"KooDrive API base URL, e.g. https://koodrive.example.com; empty starts the embedded demo KooDrive (env `KOODRIVE_BASE_URL`)")
	timeout := fs.String("koodrive-timeout", envOr(getenv, "KOODRIVE_TIMEOUT", koodrive.DefaultTimeout.String()),
		"timeout of each KooDrive call, a Go duration (env `KOODRIVE_TIMEOUT`)")
	origins := fs.String("cors-allowed-origins", getenv("CORS_ALLOWED_ORIGINS"),
		"comma-separated origins allowed to call /query from a browser, * for any; empty allows same-origin only (env `CORS_ALLOWED_ORIGINS`)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: facade [flags]\n\nEach flag defaults to the environment variable it names.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	d, err := time.ParseDuration(*timeout)
	if err != nil || d <= 0 {
		return config{}, fmt.Errorf("KOODRIVE_TIMEOUT: %q is not a positive duration", *timeout)
	}
	cfg := config{Port: *port, KooDriveBaseURL: *baseURL, KooDriveTimeout: d}
	for _, o := range strings.Split(*origins, ",") {
		if o = strings.TrimSpace(o); o != "" {
			cfg.CORSAllowedOrigins = append(cfg.CORSAllowedOrigins, o)
		}
	}
	return cfg, nil
}

func envOr(getenv func(string) string, key, fallback string) string {
	if v := getenv(key); v != "" {
		return v
	}
	return fallback
}

func main() {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	cfg, err := parseConfig(os.Args[1:], os.Getenv)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		log.Error("bad configuration", "error", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg, log, nil); err != nil {
		log.Error("server stopped", "error", err)
		os.Exit(1)
	}
}

// run serves until ctx ends. ready, when set, receives the listening address.
func run(ctx context.Context, cfg config, log *slog.Logger, ready chan<- string) error {
	var opts graph.Options
	if cfg.KooDriveBaseURL == "" {
		upstream, err := startDemoUpstream(ctx)
		if err != nil {
			return err
		}
		cfg.KooDriveBaseURL = upstream.url
		opts.DemoCaller = &koodrive.Caller{Authorization: demo.Authorization, UserID: upstream.callerID}
		log.Warn("DEMO MODE: KOODRIVE_BASE_URL is unset; serving an embedded demo KooDrive with seeded data, and requests without credentials act as the demo user",
			"demo_user_id", upstream.callerID)
	}
	kd, err := koodrive.New(cfg.KooDriveBaseURL, koodrive.WithTimeout(cfg.KooDriveTimeout))
	if err != nil {
		return err
	}
	resolver := graph.New(kd, log, opts)

	ln, err := net.Listen("tcp", ":"+cfg.Port)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           newMux(cfg, resolver, opts.DemoCaller),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      cfg.KooDriveTimeout*3 + 10*time.Second, // room for a few upstream waves
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
	log.Info("serving", "graphiql", "http://"+displayAddr(ln.Addr()), "graphql", "/query")
	if ready != nil {
		ready <- ln.Addr().String()
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return srv.Shutdown(shutdownCtx)
}

func newMux(cfg config, resolver *graph.Resolver, demoCaller *koodrive.Caller) http.Handler {
	playground := web.Options{Endpoint: "/query"}
	if demoCaller != nil {
		playground.Headers = map[string]string{"Authorization": demoCaller.Authorization, "X-User-Id": demoCaller.UserID}
	}
	mux := http.NewServeMux()
	mux.Handle("/query", corsFor(cfg.CORSAllowedOrigins).Handler(limitBody(resolver.NewHandler())))
	mux.Handle("/", web.Handler(playground))
	return mux
}

// corsFor lets the configured browser origins send KooDrive's headers and read the
// trace id back.
func corsFor(origins []string) *cors.Cors {
	return cors.New(cors.Options{
		AllowedOrigins: origins,
		AllowedMethods: []string{http.MethodGet, http.MethodPost},
		AllowedHeaders: []string{"Authorization", "X-User-Id", "X-Traceid", "language", "Accept-Language", "Content-Type"},
		ExposedHeaders: []string{"X-Traceid"},
		MaxAge:         600,
	})
}

// limitBody refuses bodies over maxRequestBodyBytes with 413 before GraphQL sees them.
func limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequestBodyBytes))
		var tooLarge *http.MaxBytesError
		switch {
		case errors.As(err, &tooLarge):
			http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
			return
		case err != nil:
			http.Error(w, "could not read request body", http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		next.ServeHTTP(w, r)
	})
}

type demoUpstream struct{ url, callerID string }

// startDemoUpstream serves the demo KooDrive on a loopback port, so the facade reaches
// it through the same HTTP path as a real one.
func startDemoUpstream(ctx context.Context) (demoUpstream, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return demoUpstream{}, err
	}
	up := demo.New(demo.Options{})
	srv := &http.Server{Handler: up, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	context.AfterFunc(ctx, func() { _ = srv.Close() })
	return demoUpstream{url: "http://" + ln.Addr().String(), callerID: up.CallerID()}, nil
}

func displayAddr(a net.Addr) string {
	if tcp, ok := a.(*net.TCPAddr); ok && tcp.IP.IsUnspecified() {
		return fmt.Sprintf("localhost:%d", tcp.Port)
	}
	return a.String()
}
