package koodrive

import "time"

// Observer receives what the client does, for metrics. Its methods must be fast and
// safe for concurrent use.
type Observer interface {
	// UpstreamCall reports one attempt; status 0 means no answer (network error, timeout).
	UpstreamCall(endpoint string, status int, d time.Duration)
	// UserCacheLookup reports a lookup: "hit" (this process), "shared_hit" (the fleet's)
	// or "miss".
	UserCacheLookup(result string)
	// Held reports a hold on endpoint's calls until then: KooDrive answered 429 here or
	// in another replica.
	Held(endpoint string, until time.Time)
	// CallLimited reports a call that found no slot under KOODRIVE_RATE_LIMIT in time.
	CallLimited()
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
func (noObserver) UserCacheLookup(string)                  {}
func (noObserver) Held(string, time.Time)                  {}
func (noObserver) CallLimited()                            {}
func (noObserver) BreakerStateChange(string, string)       {}
func (noObserver) ClockOffset(time.Duration)               {}
func (noObserver) ClockRetry(string)                       {}
