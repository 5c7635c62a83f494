package koodrive

import (
	"context"
	"errors"
	"time"

	"github.com/sony/gobreaker/v2"
)

// BreakerSettings shape the circuit breaker kept per KooDrive endpoint.
type BreakerSettings struct {
	ConsecutiveFailures uint32        // 5xx, timeouts and network errors in a row that open it
	OpenFor             time.Duration // how long it fails fast before a half-open probe
	OnStateChange       func(endpoint, from, to string)
}

// DefaultBreakerSettings: open after 5 failures in a row, probe again after 10 s.
var DefaultBreakerSettings = BreakerSettings{ConsecutiveFailures: 5, OpenFor: 10 * time.Second}

// errServerFault marks a 5xx answer for the breaker; it never leaves the package.
var errServerFault = errors.New("koodrive: server fault")

func newBreaker(endpoint string, s BreakerSettings) *gobreaker.CircuitBreaker[*response] {
	return gobreaker.NewCircuitBreaker[*response](gobreaker.Settings{
		Name:        endpoint,
		MaxRequests: 1,
		Timeout:     s.OpenFor,
		ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= s.ConsecutiveFailures },
		// A caller that went away, or a call our own rate limit held back, says nothing
		// about KooDrive's health.
		IsExcluded: func(err error) bool { return errors.Is(err, context.Canceled) || errors.Is(err, errNoSlot) },
		OnStateChange: func(name string, from, to gobreaker.State) {
			if s.OnStateChange != nil {
				s.OnStateChange(name, from.String(), to.String())
			}
		},
	})
}
