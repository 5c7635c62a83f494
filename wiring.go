package main

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/koodrive/facade/fleet"
	"github.com/koodrive/facade/graph"
	"github.com/koodrive/facade/graph/gqlhttp"
	"github.com/koodrive/facade/koodrive"
	"github.com/koodrive/facade/koodrive/demo"
)

// facade is what run serves, built from the configuration by assemble: the GraphQL
// endpoint, the KooDrive client behind it, and what must be closed once the servers
// have stopped.
type facade struct {
	api        http.Handler
	kd         *koodrive.Client
	metrics    *metrics
	log        *slog.Logger     // with trace ids when tracing
	demoCaller *koodrive.Caller // demo mode only
	closers    []func()         // in the order to run them
}

// close runs the closers: the client's connections, the fleet's Redis, the last spans,
// and the demo KooDrive last, as requests in flight until the end needed it.
func (f *facade) close() {
	for _, c := range slices.Backward(f.closers) {
		c()
	}
}

// assemble wires the layers: server.go → graph/gqlhttp → graph → koodrive, and the
// fleet's shared state, rate limits and tracing that the configuration turns on.
func assemble(ctx context.Context, cfg config, log *slog.Logger, inFlight func() float64) (_ *facade, err error) {
	f := &facade{}
	defer func() {
		if err != nil { // what was started before the error
			f.close()
		}
	}()
	opts := gqlhttp.Options{RequestTimeout: cfg.RequestTimeout, Limits: cfg.Limits, DisableIntrospection: !cfg.Introspection, CacheMaxAge: cfg.CacheMaxAge}
	if cfg.PersistedQueriesOnly || cfg.PersistedAudit {
		manifest, err := loadManifests(cfg.PersistedQueries)
		if err != nil {
			return nil, err
		}
		if cfg.PersistedQueriesOnly {
			opts.PersistedQueries = manifest
			log.Info("persisted queries only", "operations", len(manifest))
		} else {
			opts.AuditPersisted = manifest
			log.Info("persisted queries audited: operations outside the manifest run, and are logged", "operations", len(manifest))
		}
	}
	if cfg.KooDriveBaseURL == "" {
		upstream, err := startDemoUpstream()
		if err != nil {
			return nil, err
		}
		f.closers = append(f.closers, upstream.close)
		cfg.KooDriveBaseURL = upstream.url
		opts.DemoCaller = &koodrive.Caller{Authorization: demo.Authorization, UserID: upstream.callerID}
		log.Warn("DEMO MODE: KOODRIVE_BASE_URL is unset; serving an embedded demo KooDrive with seeded data, and requests without credentials act as the demo user",
			"demo_user_id", upstream.callerID)
	}
	tr, err := newTracer(ctx, os.Getenv)
	if err != nil {
		return nil, err
	}
	var graphOpts graph.Options
	if tr != nil {
		log = slog.New(logTraces{log.Handler()})
		f.closers = append(f.closers, func() { // the last requests' spans
			flushCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := tr.shutdown(flushCtx); err != nil {
				log.Warn("tracing: spans not flushed", "error", err)
			}
		})
		graphOpts.Tracer = tr.provider.Tracer("github.com/koodrive/facade/graph")
		opts.Tracing = &gqlhttp.Tracing{Provider: tr.provider, Propagator: tr.propagator}
		log.Info("tracing: spans exported over OTLP/HTTP")
	}
	m := newMetrics(inFlight)
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
			return nil, err
		}
		f.closers = append(f.closers, func() { _ = shared.Close() })
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
		return nil, err
	}
	f.closers = append(f.closers, kd.CloseIdleConnections)
	if shared != nil {
		go shared.WatchHolds(ctx, koodrive.Endpoints, kd.Hold)
	}
	graphOpts.Observer = m
	resolver := graph.New(kd, log, graphOpts)
	f.api, f.kd, f.metrics, f.log, f.demoCaller = gqlhttp.New(resolver, log, opts), kd, m, log, opts.DemoCaller
	return f, nil
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

// loadManifests reads PERSISTED_QUERIES: one manifest file, or several separated by
// commas (one per client: /explorer's, Relay's, a mobile app's), as one safelist.
func loadManifests(paths string) (map[string]string, error) {
	all := map[string]string{}
	for _, path := range strings.Split(paths, ",") {
		path = strings.TrimSpace(path)
		raw, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("PERSISTED_QUERIES: %w", err)
		}
		manifest, err := gqlhttp.ParseManifest(raw)
		if err != nil {
			return nil, fmt.Errorf("PERSISTED_QUERIES %s: %w", path, err)
		}
		maps.Copy(all, manifest) // a hash names one text: the same operation in two files is one entry
	}
	return all, nil
}
