package koodrive

import (
	"sync"
	"time"
)

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
