package koodrive

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"

	"github.com/sony/gobreaker/v2"
)

// RetryPolicy bounds the retries of KooDrive's idempotent GETs.
type RetryPolicy struct {
	MaxRetries    int           // retries after the first attempt
	BaseDelay     time.Duration // backoff before the first retry, doubled each time
	MaxDelay      time.Duration // cap of the exponential backoff
	MaxRetryAfter time.Duration // cap of a Retry-After the upstream asks for
}

// DefaultRetryPolicy: at most 2 retries with full-jitter backoff from 50 ms.
var DefaultRetryPolicy = RetryPolicy{MaxRetries: 2, BaseDelay: 50 * time.Millisecond, MaxDelay: time.Second, MaxRetryAfter: 2 * time.Second}

// retryable: network errors, 5xx but 501 (a 501 will not change), and 429. Never a
// call whose caller has gone.
func retryable(ctx context.Context, resp *response, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	if errors.Is(err, gobreaker.ErrOpenState) || errors.Is(err, gobreaker.ErrTooManyRequests) || errors.Is(err, errNoSlot) {
		return false
	}
	if err != nil { // a network error, or an attempt over its own timeout
		return true
	}
	return isServerFault(resp.status) || resp.status == http.StatusTooManyRequests
}

func isServerFault(status int) bool {
	return status >= 500 && status != http.StatusNotImplemented
}

// delay is the wait before retry number attempt+1: full-jitter exponential backoff, or
// the upstream's Retry-After (capped) when it sent one.
func (p RetryPolicy) delay(attempt int, resp *response) time.Duration {
	if resp != nil {
		if d, ok := parseRetryAfter(resp.retryAfter, time.Now()); ok {
			return min(d, p.MaxRetryAfter)
		}
	}
	ceiling := min(p.BaseDelay<<attempt, p.MaxDelay)
	if ceiling <= 0 {
		return 0
	}
	return rand.N(ceiling + 1)
}

// parseRetryAfter reads delay-seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

// sleepWithin waits d unless ctx ends first or would end before d has passed, so a
// retry never outlives the request's deadline.
func sleepWithin(ctx context.Context, d time.Duration) bool {
	if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) <= d {
		return false
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
