// Package koodrive is the REST adapter for KooDrive's OSE API: typed methods over one
// request path that sets the headers KooDrive requires, coalesces identical calls,
// retries and breaks the circuit on upstream faults, decodes the {code,msg} envelope
// and maps every failure to *Error. It knows nothing of GraphQL.
package koodrive

import (
	"context"
	"crypto/sha256"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/sony/gobreaker/v2"
	"go.opentelemetry.io/otel/attribute"
)

// Defaults; each has an Option.
const (
	DefaultTimeout        = 10 * time.Second
	DefaultMaxBodyBytes   = 4 << 20
	DefaultMaxConcurrency = 256
	xDateLayout           = "20060102T150405Z"
)

// Client calls KooDrive. It is safe for concurrent use; one per process.
type Client struct {
	baseURL      *url.URL
	httpClient   *http.Client
	timeout      time.Duration
	maxBodyBytes int64
	slots        chan struct{} // caps concurrent calls across all requests
	now          func() time.Time
	retry        RetryPolicy
	breaker      BreakerSettings
	breakers     map[string]*gobreaker.CircuitBreaker[*response] // by operation
	coalescer    *coalescer                                      // nil: every call goes upstream on its own
	userCache    *userCache                                      // nil: off
	shared       Shared                                          // nil: no fleet
	callLimit    CallLimiter                                     // nil: KOODRIVE_RATE_LIMIT off
	tracing      *tracing                                        // nil: not traced
	holds        holds
	observer     Observer
	log          *slog.Logger
	clockMargin  time.Duration
	clock        *upstreamClock
	reach        reachability
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient replaces the pooled default client (tests, custom transports).
func WithHTTPClient(hc *http.Client) Option { return func(c *Client) { c.httpClient = hc } }

// WithTimeout bounds each attempt of a call, including reading its body.
func WithTimeout(d time.Duration) Option { return func(c *Client) { c.timeout = d } }

// WithMaxBodyBytes caps what is read of a response body.
func WithMaxBodyBytes(n int64) Option { return func(c *Client) { c.maxBodyBytes = n } }

// WithMaxConcurrency caps calls in flight to KooDrive across all requests.
func WithMaxConcurrency(n int) Option {
	return func(c *Client) { c.slots = make(chan struct{}, max(n, 1)) }
}

// WithClock sets the clock X-Date is generated from (tests).
func WithClock(now func() time.Time) Option { return func(c *Client) { c.now = now } }

// WithClockMargin sets how far in the past of KooDrive's estimated clock X-Date is
// (DefaultClockMargin).
func WithClockMargin(d time.Duration) Option { return func(c *Client) { c.clockMargin = d } }

// WithLogger receives the client's operational warnings (KooDrive's clock far from ours).
func WithLogger(l *slog.Logger) Option { return func(c *Client) { c.log = l } }

// WithRetryPolicy replaces DefaultRetryPolicy; MaxRetries 0 turns retries off.
func WithRetryPolicy(p RetryPolicy) Option { return func(c *Client) { c.retry = p } }

// WithoutCoalescing makes every call on its own (benchmarks compare against it).
func WithoutCoalescing() Option { return func(c *Client) { c.coalescer = nil } }

// WithBreaker replaces DefaultBreakerSettings.
func WithBreaker(s BreakerSettings) Option { return func(c *Client) { c.breaker = s } }

// WithUserCache keeps GET /users answers for ttl across requests, keyed by the caller's
// credentials and the user id, at most size of them. Errors are never cached.
func WithUserCache(ttl time.Duration, size int) Option {
	return func(c *Client) { c.userCache = newUserCache(ttl, size) }
}

// New returns a client for the KooDrive deployment at baseURL, e.g.
// "https://koodrive.example.com"; the API paths are appended to its path.
func New(baseURL string, opts ...Option) (*Client, error) {
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("koodrive: base URL must be an absolute http(s) URL")
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	u.RawPath = ""
	c := &Client{
		baseURL:      u,
		httpClient:   &http.Client{Transport: newTransport()},
		timeout:      DefaultTimeout,
		maxBodyBytes: DefaultMaxBodyBytes,
		slots:        make(chan struct{}, DefaultMaxConcurrency),
		now:          time.Now,
		retry:        DefaultRetryPolicy,
		breaker:      DefaultBreakerSettings,
		coalescer:    &coalescer{},
		observer:     noObserver{},
		log:          slog.New(slog.DiscardHandler),
		clockMargin:  DefaultClockMargin,
	}
	for _, opt := range opts {
		opt(c)
	}
	c.clock = &upstreamClock{now: c.now, margin: c.clockMargin, log: c.log, onChange: c.observer.ClockOffset}
	onChange := c.breaker.OnStateChange
	c.breaker.OnStateChange = func(endpoint, from, to string) {
		c.observer.BreakerStateChange(endpoint, to)
		if onChange != nil {
			onChange(endpoint, from, to)
		}
	}
	c.breakers = map[string]*gobreaker.CircuitBreaker[*response]{}
	for _, endpoint := range Endpoints {
		c.breakers[endpoint] = newBreaker(endpoint, c.breaker)
	}
	return c, nil
}

// CloseIdleConnections closes pooled connections (shutdown, tests).
func (c *Client) CloseIdleConnections() { c.httpClient.CloseIdleConnections() }

// newTransport keeps enough idle connections for a page's owner fan-out; Go's default
// of 2 per host would open and close connections on every wave.
func newTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 512
	t.MaxIdleConnsPerHost = 256
	t.IdleConnTimeout = 90 * time.Second
	return t
}

// get calls GET path?query for the caller in ctx and decodes the body into out, a
// response type that embeds envelope. path is already escaped. It returns the HTTP
// status of a success, for checks on the body.
func (c *Client) get(ctx context.Context, op, path string, query url.Values, out enveloped) (int, error) {
	caller := CallerFrom(ctx)
	if !caller.Authenticated() {
		return 0, &Error{Op: op, Message: "missing credentials", TraceID: caller.TraceID, kind: ErrUnauthenticated}
	}
	target := c.url(path, query)
	resp, joined, err := c.coalescer.do(ctx, callKey(op, target, caller), func(ctx context.Context) (*response, error) {
		return c.withRetries(ctx, op, target, caller)
	})
	if joined {
		c.event(ctx, "koodrive.coalesced", attribute.String("koodrive.operation", op))
	}
	failure := callFailure(resp, err)
	if failure == nil {
		failure = checkResponse(resp, out)
	}
	resp.endAnswered(failure)
	if failure != nil {
		failure.Op, failure.TraceID = op, caller.TraceID
		return 0, failure
	}
	return resp.status, nil
}

// url is the base URL with path appended and query set.
func (c *Client) url(path string, query url.Values) string {
	u := *c.baseURL
	u.RawPath = c.baseURL.EscapedPath() + path
	u.Path, _ = url.PathUnescape(u.RawPath)
	u.RawQuery = query.Encode()
	return u.String()
}

// callKey identifies calls that may share one answer: same request, same caller
// credentials and language.
func callKey(op, target string, caller Caller) string {
	sum := callerHash(caller, op, target)
	return string(sum[:])
}

// callerHash hashes parts with the caller's credentials and language, for keys that must
// never match across callers; hashed, so tokens are not kept as map keys.
func callerHash(caller Caller, parts ...string) [sha256.Size]byte {
	return sha256.Sum256([]byte(strings.Join(append([]string{caller.Authorization, caller.UserID, caller.Language}, parts...), "\x00")))
}

// withRetries makes the attempts of one call: retrying network errors, 5xx but 501,
// and 429, with backoff, never past ctx's deadline or cancellation; and, once, a 401
// for an X-Date outside KooDrive's window, at once with the corrected clock.
func (c *Client) withRetries(ctx context.Context, op, target string, caller Caller) (*response, error) {
	breaker := c.breakers[op]
	skewRetried := false
	for attempt := 0; ; attempt++ {
		if !c.waitForHold(ctx, op) {
			return nil, errHeld
		}
		resp, err := breaker.Execute(func() (*response, error) {
			if !c.waitForSlot(ctx) { // after the breaker: a call it refuses takes no slot
				return nil, errNoSlot
			}
			resp, err := c.attempt(ctx, op, target, caller, attempt)
			if err == nil && isServerFault(resp.status) {
				return resp, errServerFault // counted by the breaker, then dropped below
			}
			return resp, err
		})
		if errors.Is(err, errServerFault) {
			err = nil
		}
		if errors.Is(err, gobreaker.ErrOpenState) || errors.Is(err, gobreaker.ErrTooManyRequests) {
			c.event(ctx, "koodrive.breaker_open", attribute.String("koodrive.operation", op))
		}
		if err == nil && resp.status == http.StatusTooManyRequests {
			c.held(ctx, op, resp)
		}
		if err == nil && resp.clockSkewed && !skewRetried && ctx.Err() == nil {
			resp.endUnread()
			skewRetried = true
			attempt--
			c.observer.ClockRetry(op)
			continue
		}
		if attempt >= c.retry.MaxRetries || !retryable(ctx, resp, err) || !sleepWithin(ctx, c.retry.delay(attempt, resp)) {
			return resp, err
		}
		resp.endUnread() // a retried answer: its span ends with its status
	}
}

// attempt is one HTTP round trip (retry 0 is the first), bounded by the per-call timeout
// and the global concurrency cap.
func (c *Client) attempt(ctx context.Context, op, target string, caller Caller, retry int) (out *response, err error) {
	callerCtx := ctx
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	select {
	case c.slots <- struct{}{}:
		defer func() { <-c.slots }()
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return nil, err
	}
	xDate := c.setHeaders(req, caller)
	if c.tracing != nil {
		_, span := c.tracing.startAttempt(callerCtx, op, retry, req)
		defer func() { endAttempt(span, out, err) }()
	}
	countCall(callerCtx)
	start := time.Now()
	resp, err := c.httpClient.Do(req)
	if err != nil {
		c.observer.UpstreamCall(op, 0, time.Since(start))
		if callerCtx.Err() == nil { // not the caller leaving: KooDrive did not answer
			c.reach.record(false, start)
		}
		return nil, err
	}
	c.reach.record(true, start)
	defer resp.Body.Close()
	date, receivedAt := resp.Header.Get("Date"), c.now()
	c.clock.observe(date, receivedAt)
	body, err := readBody(resp, c.maxBodyBytes)
	c.observer.UpstreamCall(op, resp.StatusCode, time.Since(start))
	if err != nil {
		return &response{status: resp.StatusCode}, err // keep the status for the error
	}
	out = &response{status: resp.StatusCode, retryAfter: resp.Header.Get("Retry-After"), body: body}
	out.clockSkewed = resp.StatusCode == http.StatusUnauthorized && c.clock.refusedForSkew(xDate, date, receivedAt)
	if int64(len(body)) > c.maxBodyBytes {
		out.body, out.tooLarge = nil, true
	}
	return out, nil
}

// setHeaders sets what KooDrive requires, and returns the X-Date it sent.
func (c *Client) setHeaders(req *http.Request, caller Caller) time.Time {
	xDate := c.clock.xDate()
	h := req.Header
	h.Set("Authorization", caller.Authorization)
	h.Set("X-User-Id", caller.UserID)
	h.Set("X-Date", xDate.Format(xDateLayout))
	h.Set("Accept", "application/json")
	if caller.TraceID != "" {
		h.Set("X-Traceid", caller.TraceID)
	}
	if caller.Language != "" {
		h.Set("language", caller.Language)
	}
	return xDate
}
