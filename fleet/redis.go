// Package fleet is the state the replicas of a facade fleet share, on Redis: automatic
// persisted queries, the user cache's second tier, and KooDrive's 429 holds. Redis is
// an optimisation, never a dependency of an answer: every call has a short timeout, a
// failure reads as a miss, and while Redis is down each replica works from its own
// local state, trying Redis again now and then.
package fleet

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Defaults of Options.
const (
	DefaultPrefix  = "kdf:"
	DefaultTimeout = 50 * time.Millisecond
	// downFor: after a failure, Redis is left alone this long before one call tries it
	// again, so a Redis that hangs costs requests nothing, not a timeout each.
	downFor = time.Second
)

// Options configure Connect.
type Options struct {
	URL      string        // redis:// or rediss:// (TLS), password and database in the URL
	Prefix   string        // on every key; DefaultPrefix when empty
	Timeout  time.Duration // of each Redis call; DefaultTimeout when 0
	Log      *slog.Logger
	Observer Observer
}

// Observer receives what the fleet's Redis does, for metrics. Its methods must be fast
// and safe for concurrent use.
type Observer interface {
	// RedisFallback reports a Redis call that failed, or was not tried while Redis is
	// down: the replica used its local state instead.
	RedisFallback(op string)
	// RedisUp reports whether Redis answers.
	RedisUp(up bool)
}

// Redis is the fleet's connection: one per process.
type Redis struct {
	client   *redis.Client
	prefix   string
	timeout  time.Duration
	log      *slog.Logger
	observer Observer
	downFor  time.Duration

	mu        sync.Mutex
	up        bool
	downUntil time.Time // while down: when to try again
	probing   bool      // one call is trying it again
}

// Connect opens the fleet's Redis and pings it once. A bad URL is an error; a failed
// ping is not: it is logged, and the replica starts degraded, on its local state.
func Connect(ctx context.Context, o Options) (*Redis, error) {
	opts, err := redis.ParseURL(o.URL)
	if err != nil {
		return nil, errors.New("REDIS_URL: not a redis:// or rediss:// URL") // the URL may hold a password
	}
	if o.Prefix == "" {
		o.Prefix = DefaultPrefix
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Observer == nil {
		o.Observer = noObserver{}
	}
	// The per-call context bounds each call; the client's own timeouts only back it up.
	opts.DialTimeout, opts.ReadTimeout, opts.WriteTimeout = o.Timeout, o.Timeout, o.Timeout
	opts.MaxRetries = -1 // a retry would double the timeout; the next request tries again
	opts.ContextTimeoutEnabled = true
	r := &Redis{client: redis.NewClient(opts), prefix: o.Prefix, timeout: o.Timeout, log: o.Log, observer: o.Observer, downFor: downFor, up: true}
	pingCtx, cancel := context.WithTimeout(ctx, max(o.Timeout, time.Second)) // a cold start may take longer
	defer cancel()
	if err := r.client.Ping(pingCtx).Err(); err != nil {
		r.markDown("ping", err)
	} else {
		o.Log.Info("fleet: shared state on Redis", "prefix", o.Prefix)
		o.Observer.RedisUp(true)
	}
	return r, nil
}

// Close closes the connections.
func (r *Redis) Close() error { return r.client.Close() }

// key is name under the fleet's prefix.
func (r *Redis) key(parts ...string) string { return r.prefix + strings.Join(parts, ":") }

// do runs one Redis call within the timeout, unless Redis is down and not due for
// another try; false means the caller uses its local state. A miss (redis.Nil) is not
// a failure.
func (r *Redis) do(ctx context.Context, op string, call func(ctx context.Context) error) (ok bool, miss bool) {
	if !r.mayTry() {
		r.observer.RedisFallback(op)
		return false, false
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.timeout)
	defer cancel()
	err := call(ctx)
	switch {
	case err == nil:
		r.markUp()
		return true, false
	case errors.Is(err, redis.Nil):
		r.markUp()
		return true, true
	}
	r.observer.RedisFallback(op)
	r.markDown(op, err)
	return false, false
}

// mayTry: always while up; while down, one call at a time once downFor has passed.
func (r *Redis) mayTry() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.up {
		return true
	}
	if r.probing || time.Now().Before(r.downUntil) {
		return false
	}
	r.probing = true
	return true
}

func (r *Redis) markUp() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.probing = false
	if r.up {
		return
	}
	r.up = true
	r.log.Info("fleet: Redis answers again; sharing resumes")
	r.observer.RedisUp(true)
}

func (r *Redis) markDown(op string, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.probing = false
	r.downUntil = time.Now().Add(r.downFor)
	if !r.up {
		return
	}
	r.up = false
	// go-redis errors name the address at most, never the password.
	r.log.Warn("fleet: Redis is not answering; each replica works from its local state until it does",
		"op", op, "error", fmt.Sprint(err))
	r.observer.RedisUp(false)
}

type noObserver struct{}

func (noObserver) RedisFallback(string) {}
func (noObserver) RedisUp(bool)         {}
