package koodrive

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// Observer receives what the client does, for metrics. Its methods must be fast and
// safe for concurrent use.
type Observer interface {
	// UpstreamCall reports one attempt; status 0 means no answer (network error, timeout).
	UpstreamCall(endpoint string, status int, d time.Duration)
	UserCacheLookup(hit bool)
	BreakerStateChange(endpoint, state string)
	// ClockOffset reports a new estimate of KooDrive's clock minus ours.
	ClockOffset(offset time.Duration)
	// ClockRetry reports a call retried after a 401 for an X-Date outside KooDrive's window.
	ClockRetry(endpoint string)
}

// WithObserver reports calls, cache lookups and breaker changes to o.
func WithObserver(o Observer) Option { return func(c *Client) { c.observer = o } }

type noObserver struct{}

func (noObserver) UpstreamCall(string, int, time.Duration) {}
func (noObserver) UserCacheLookup(bool)                    {}
func (noObserver) BreakerStateChange(string, string)       {}
func (noObserver) ClockOffset(time.Duration)               {}
func (noObserver) ClockRetry(string)                       {}

type callCountKey struct{}

// WithCallCount returns a context whose upstream attempts are counted, for a
// per-request log line; CallCount reads the count.
func WithCallCount(ctx context.Context) context.Context {
	return context.WithValue(ctx, callCountKey{}, new(atomic.Int64))
}

// CallCount is the number of upstream attempts made with ctx since WithCallCount.
func CallCount(ctx context.Context) int64 {
	if n, ok := ctx.Value(callCountKey{}).(*atomic.Int64); ok {
		return n.Load()
	}
	return 0
}

func countCall(ctx context.Context) {
	if n, ok := ctx.Value(callCountKey{}).(*atomic.Int64); ok {
		n.Add(1)
	}
}

// reachability tracks whether KooDrive answers at all, for readiness.
type reachability struct {
	mu          sync.Mutex
	failingFrom time.Time // first failure since the last answer; zero while answering
}

func (r *reachability) record(answered bool, now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case answered:
		r.failingFrom = time.Time{}
	case r.failingFrom.IsZero():
		r.failingFrom = now
	}
}

// UnreachableFor is how long every attempt has failed without any answer from
// KooDrive (network errors, timeouts); 0 while it answers, even with errors.
func (c *Client) UnreachableFor() time.Duration {
	c.reach.mu.Lock()
	defer c.reach.mu.Unlock()
	if c.reach.failingFrom.IsZero() {
		return 0
	}
	return time.Since(c.reach.failingFrom)
}
