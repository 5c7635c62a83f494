package graph

import (
	"log/slog"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/koodrive/facade/koodrive"
)

// Options tune the GraphQL layer; zero values take the defaults below.
type Options struct {
	// LoaderWait is how long the user loader gathers keys before a batch. KooDrive has
	// no batch endpoint, so a batch is only a fan-out of single GETs: split batches run
	// concurrently and share the request's calls, costing no round trip and no call.
	// Waiting only delays the first call (250 µs left the facade 1.5 ms behind the
	// floor, bench/). A page's owners do not wait at all: they start with the page.
	LoaderWait time.Duration
	// UserFanout caps one request's concurrent GET /users calls; at or above a page's
	// distinct owners (at most 100) a page's owners are fetched in one wave.
	UserFanout int
	// MaxUpstreamPages bounds the upstream pages one userGroups field may read.
	MaxUpstreamPages int
	// NaiveUserFetch resolves every user field with a GET of its own, no loader: the
	// N+1 baseline that benchmarks compare batching against. Never in production.
	NaiveUserFetch bool
	// Observer receives loader metrics; nil records none.
	Observer Observer
	// Tracer, when set, makes spans of the resolvers that reach KooDrive (tracing.go).
	Tracer trace.Tracer
}

// Observer receives what the resolvers do, for metrics. Its methods must be fast and
// safe for concurrent use.
type Observer interface {
	// UserBatch reports how many GET /users calls started together: a page's owners, or
	// the new users of one loader batch.
	UserBatch(size int)
}

type noObserver struct{}

func (noObserver) UserBatch(int) {}

const (
	defaultLoaderWait       = 20 * time.Microsecond
	defaultUserFanout       = 100
	defaultMaxUpstreamPages = 10
)

// Resolver holds the dependencies of every resolver; server.go builds it with New.
type Resolver struct {
	kd       *koodrive.Client
	log      *slog.Logger
	opts     Options
	observer Observer
	resolved map[string]bool // resolvedFields, read once
	tracer   trace.Tracer    // nil: no spans
}

// New returns the root resolver.
func New(kd *koodrive.Client, log *slog.Logger, opts Options) *Resolver {
	if opts.LoaderWait <= 0 {
		opts.LoaderWait = defaultLoaderWait
	}
	if opts.UserFanout <= 0 {
		opts.UserFanout = defaultUserFanout
	}
	if opts.MaxUpstreamPages <= 0 {
		opts.MaxUpstreamPages = defaultMaxUpstreamPages
	}
	r := &Resolver{kd: kd, log: log, opts: opts, observer: opts.Observer, resolved: resolvedFields(), tracer: opts.Tracer}
	if r.observer == nil {
		r.observer = noObserver{}
	}
	return r
}
