package koodrive

import (
	"context"
	"errors"
	"sync"
	"time"
)

// Shared is state the replicas of a fleet share (the fleet package keeps it on Redis):
// the user cache's second tier and KooDrive's 429 holds. It is best effort: a failure
// reads as a miss, and the client goes on with what it holds locally. Keys are hashes
// bound to the caller's credentials: never a token.
type Shared interface {
	// GetUser is a cached user and when it expires, if another replica (or this one)
	// cached it.
	GetUser(ctx context.Context, key string) (u *User, expires time.Time, ok bool)
	// AddUser caches u until expires for every replica.
	AddUser(ctx context.Context, key string, u *User, expires time.Time)
	// Hold tells every replica to hold calls to endpoint until then; they learn of it
	// through Client.Hold.
	Hold(ctx context.Context, endpoint string, until time.Time)
}

// WithShared puts a fleet's shared state behind the client's own: users cached by any
// replica are read from it (WithUserCache must be on), and a 429 holds every replica.
func WithShared(s Shared) Option { return func(c *Client) { c.shared = s } }

// errHeld: a call's endpoint is held past the request's budget; it never leaves the package.
var errHeld = errors.New("koodrive: endpoint held after a 429")

// CallLimiter is a bucket of calls (fleet's: in process, or on Redis for the fleet).
type CallLimiter interface {
	Take(ctx context.Context, key string, n float64) (ok bool, wait time.Duration, left float64)
}

// WithCallLimit makes every attempt take a slot from limit first (KOODRIVE_RATE_LIMIT:
// KooDrive's calls per second across the fleet, all callers together). A call waits for
// its slot within its request's budget, then fails with ErrRateLimited.
func WithCallLimit(limit CallLimiter) Option { return func(c *Client) { c.callLimit = limit } }

// callLimitKey is the one bucket every call shares.
const callLimitKey = "koodrive"

// errNoSlot: no slot within the request's budget; it never leaves the package.
var errNoSlot = errors.New("koodrive: no call slot within the budget")

// waitForSlot takes a call slot, waiting for one within ctx.
func (c *Client) waitForSlot(ctx context.Context) bool {
	if c.callLimit == nil {
		return true
	}
	for {
		ok, wait, _ := c.callLimit.Take(ctx, callLimitKey, 1)
		if ok {
			return true
		}
		if wait < 0 || !sleepWithin(ctx, wait) {
			c.observer.CallLimited()
			return false
		}
	}
}

// maxHold bounds how long one 429's Retry-After may hold an endpoint: a wrong header
// must not stop every replica for a day.
const maxHold = time.Minute

// holds are the times (this host's clock: they are waited out, not sent) until which
// calls to each endpoint wait, after KooDrive answered 429 with Retry-After. Read before every attempt, so a lock-free map of atomics would
// gain nothing measurable over one mutex held for a map read.
type holds struct {
	mu    sync.Mutex
	until map[string]time.Time
}

func (h *holds) get(endpoint string) time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.until[endpoint]
}

// set extends endpoint's hold to until; it reports whether that moved it.
func (h *holds) set(endpoint string, until time.Time) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !until.After(h.until[endpoint]) {
		return false
	}
	if h.until == nil {
		h.until = map[string]time.Time{}
	}
	h.until[endpoint] = until
	return true
}

// Hold makes calls to endpoint ("GetUser", "ListUserGroups") wait until then, as if this
// client had been answered 429: the fleet calls it with another replica's holds.
func (c *Client) Hold(endpoint string, until time.Time) {
	if limit := time.Now().Add(maxHold); until.After(limit) {
		until = limit
	}
	if c.holds.set(endpoint, until) {
		c.observer.Held(endpoint, until)
	}
}

// held records a 429's Retry-After as a hold on endpoint, here and, with a fleet, in
// every replica.
func (c *Client) held(ctx context.Context, endpoint string, resp *response) {
	d, ok := parseRetryAfter(resp.retryAfter, time.Now())
	if !ok || d <= 0 {
		return
	}
	until := time.Now().Add(min(d, maxHold))
	c.Hold(endpoint, until)
	if c.shared != nil {
		c.shared.Hold(context.WithoutCancel(ctx), endpoint, until)
	}
}

// waitForHold waits out endpoint's hold, if any, within ctx; false means the hold
// outlasts the request's budget, or the request ended.
func (c *Client) waitForHold(ctx context.Context, endpoint string) bool {
	until := c.holds.get(endpoint)
	if until.IsZero() {
		return true
	}
	d := time.Until(until)
	return d <= 0 || sleepWithin(ctx, d)
}
