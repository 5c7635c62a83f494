// Package gqlhttp is the facade's GraphQL-over-HTTP edge: the transports and their
// responses, the limits and persisted queries that refuse operations before execution,
// and the scope each request runs in (caller, trace id, budget, loaders, one log line).
// What runs inside is graph's.
package gqlhttp

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/koodrive/facade/graph"
	"github.com/koodrive/facade/koodrive"
)

// Options tune the edge; zero values take the defaults.
type Options struct {
	// DemoCaller, when set, stands in for requests that carry no credentials at all
	// (demo mode only: against a real KooDrive such requests are refused).
	DemoCaller *koodrive.Caller
	// RequestTimeout is the budget of one GraphQL request, retries included; when it
	// ends, or the client goes away, every upstream call of the request is cancelled.
	RequestTimeout time.Duration
	// Limits bound the operations clients may send.
	Limits Limits
	// PersistedQueries, when set, is the safelist (by sha256, from ParseManifest): no
	// other operation is accepted, and automatic persisted queries are off.
	PersistedQueries map[string]string
	// AuditPersisted, when set (and PersistedQueries is not), is a manifest whose
	// operations are the only ones expected: the others still run, and are logged and
	// counted (rolling a safelist out).
	AuditPersisted map[string]string
	// SharedQueries, in a fleet, is the register of automatic persisted queries every
	// replica shares; nil keeps them in this process.
	SharedQueries SharedQueries
	// DisableIntrospection turns off introspection and field suggestions (production).
	DisableIntrospection bool
	// RateLimit, when set, limits each caller by the KooDrive calls its operations
	// cause (RATE_LIMIT); every response then carries extensions.cost.
	RateLimit *RateLimit
	// CacheMaxAge lets clients keep an answer to a query over GET this long without
	// asking (private, max-age); 0 makes them revalidate every time (no-cache).
	CacheMaxAge time.Duration
	// Tracing, when set, traces every request (tracing.go); nil traces nothing.
	Tracing *Tracing
	// Observer receives request and error metrics; nil records none.
	Observer Observer
}

// DefaultRequestTimeout is Options.RequestTimeout's default.
const DefaultRequestTimeout = 15 * time.Second

// queryCacheSize bounds the parsed-query LRU: clients send a handful of distinct
// operations, so this many covers them with room for GraphiQL experiments.
const queryCacheSize = 1000

// apqCacheSize bounds the persisted queries kept by hash: the app's operations and more.
const apqCacheSize = 1000

// New is the GraphQL endpoint over r: GET and POST only (no multipart, no websocket),
// parsed queries cached, limits checked before execution, errors presented by
// r.PresentError, and every request in its own scope.
func New(r *graph.Resolver, log *slog.Logger, opts Options) http.Handler {
	if opts.RequestTimeout <= 0 {
		opts.RequestTimeout = DefaultRequestTimeout
	}
	if opts.Observer == nil {
		opts.Observer = noObserver{}
	}
	opts.Limits = withDefaults(opts.Limits)
	srv := handler.New(r.ExecutableSchema())
	for _, t := range httpTransports(opts.Limits.MaxTokens, &httpCache{maxAge: opts.CacheMaxAge}) {
		srv.AddTransport(t)
	}
	srv.SetQueryCache(lru.New[*ast.QueryDocument](queryCacheSize))
	srv.SetParserTokenLimit(opts.Limits.MaxTokens)
	if !opts.DisableIntrospection {
		srv.Use(extension.Introspection{})
	}
	srv.SetDisableSuggestion(opts.DisableIntrospection) // "did you mean" reveals the schema too
	if opts.PersistedQueries != nil {
		srv.Use(safelist{byHash: opts.PersistedQueries}) // and no APQ: it would register anything
	} else {
		srv.Use(extension.AutomaticPersistedQuery{Cache: newAPQCache(apqCacheSize, opts.SharedQueries)})
		if opts.AuditPersisted != nil {
			srv.Use(auditList{byHash: opts.AuditPersisted, log: log, observer: opts.Observer})
		}
	}
	// The shape check walks within a budget, so it runs before the complexity walk.
	srv.Use(shapeLimit{limits: opts.Limits})
	srv.Use(extension.FixedComplexityLimit(opts.Limits.MaxComplexity))
	srv.Use(newFieldUsage(opts.Observer))
	if opts.RateLimit != nil {
		srv.Use(callerLimit{limit: *opts.RateLimit, maxCalls: r.MaxCalls, observer: opts.Observer})
	}
	srv.SetErrorPresenter(recordingPresenter(r.PresentError, opts.Observer))
	srv.SetRecoverFunc(r.Recover)
	srv.AroundResponses(observeResponses)
	if opts.Tracing != nil {
		srv.Use(operationTracer{tracer: opts.Tracing.Provider.Tracer(instrumentation)})
		srv.AroundRootFields(r.TraceRootField)
		return opts.Tracing.traced(scope{resolver: r, log: log, opts: opts, next: srv})
	}
	return scope{resolver: r, log: log, opts: opts, next: srv}
}
