// Package koodrive is the REST adapter for KooDrive's OSE API: typed methods over one
// request path that sets the headers KooDrive requires, decodes its {code,msg} envelope
// and maps every failure to *Error. It knows nothing of GraphQL.
package koodrive

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
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
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient replaces the pooled default client (tests, custom transports).
func WithHTTPClient(hc *http.Client) Option { return func(c *Client) { c.httpClient = hc } }

// WithTimeout bounds each call, including reading its body.
func WithTimeout(d time.Duration) Option { return func(c *Client) { c.timeout = d } }

// WithMaxBodyBytes caps what is read of a response body.
func WithMaxBodyBytes(n int64) Option { return func(c *Client) { c.maxBodyBytes = n } }

// WithMaxConcurrency caps calls in flight to KooDrive across all requests.
func WithMaxConcurrency(n int) Option {
	return func(c *Client) { c.slots = make(chan struct{}, max(n, 1)) }
}

// WithClock sets the clock X-Date is generated from (tests).
func WithClock(now func() time.Time) Option { return func(c *Client) { c.now = now } }

// New returns a client for the KooDrive deployment at baseURL, e.g.
// "https://koodrive.example.com"; the API paths are appended to its path.
func New(baseURL string, opts ...Option) (*Client, error) {
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("koodrive: base URL must be an absolute http(s) URL")
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	c := &Client{
		baseURL:      u,
		httpClient:   &http.Client{Transport: newTransport()},
		timeout:      DefaultTimeout,
		maxBodyBytes: DefaultMaxBodyBytes,
		slots:        make(chan struct{}, DefaultMaxConcurrency),
		now:          time.Now,
	}
	for _, opt := range opts {
		opt(c)
	}
	return c, nil
}

// newTransport keeps enough idle connections for a page's owner fan-out; Go's default
// of 2 per host would open and close connections on every wave.
func newTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 512
	t.MaxIdleConnsPerHost = 256
	t.IdleConnTimeout = 90 * time.Second
	t.ResponseHeaderTimeout = DefaultTimeout
	return t
}

// envelope is the part of every KooDrive answer that says whether it succeeded.
type envelope struct {
	Code *int   `json:"code"`
	Msg  string `json:"msg"`
}

// get calls GET path?query for the caller in ctx and decodes the envelope and the
// rest of the body into out, which must embed nothing but the resource fields.
func (c *Client) get(ctx context.Context, op, path string, query url.Values, out any) error {
	caller := CallerFrom(ctx)
	fail := func(status, code int, msg string, kind, cause error) error {
		return &Error{Op: op, StatusCode: status, Code: code, Message: msg, TraceID: caller.TraceID, kind: kind, cause: cause}
	}
	if !caller.Authenticated() {
		return fail(0, 0, "missing credentials", ErrUnauthenticated, nil)
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()

	select {
	case c.slots <- struct{}{}:
		defer func() { <-c.slots }()
	case <-ctx.Done():
		return fail(0, 0, "waiting for a connection slot", transportKind(ctx.Err()), ctx.Err())
	}

	u := *c.baseURL
	u.Path += path
	u.RawQuery = query.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return fail(0, 0, "building request", nil, nil)
	}
	c.setHeaders(req, caller)

	resp, err := c.httpClient.Do(req)
	if err != nil {
		cause := stripURL(err)
		return fail(0, 0, "request failed", transportKind(cause), cause)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, c.maxBodyBytes+1))
	if err != nil {
		cause := stripURL(err)
		return fail(resp.StatusCode, 0, "reading response", transportKind(cause), cause)
	}
	if int64(len(body)) > c.maxBodyBytes {
		return fail(resp.StatusCode, 0, "response body over the size limit", ErrBadResponse, nil)
	}

	var env envelope
	jsonErr := json.Unmarshal(body, &env)
	ok2xx := resp.StatusCode >= 200 && resp.StatusCode < 300
	switch {
	case !ok2xx && (jsonErr != nil || env.Code == nil):
		return fail(resp.StatusCode, 0, http.StatusText(resp.StatusCode), kindForStatus(resp.StatusCode), nil)
	case !ok2xx:
		return fail(resp.StatusCode, *env.Code, env.Msg, kindForStatus(resp.StatusCode), nil)
	case jsonErr != nil || env.Code == nil:
		return fail(resp.StatusCode, 0, "malformed response body", ErrBadResponse, nil)
	case *env.Code != 0:
		return fail(resp.StatusCode, *env.Code, env.Msg, nil, nil)
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fail(resp.StatusCode, 0, "malformed response body", ErrBadResponse, nil)
	}
	return nil
}

func (c *Client) setHeaders(req *http.Request, caller Caller) {
	h := req.Header
	h.Set("Authorization", caller.Authorization)
	h.Set("X-User-Id", caller.UserID)
	h.Set("X-Date", c.now().UTC().Format(xDateLayout))
	h.Set("Accept", "application/json")
	if caller.TraceID != "" {
		h.Set("X-Traceid", caller.TraceID)
	}
	if caller.Language != "" {
		h.Set("language", caller.Language)
	}
}

// stripURL drops the *url.Error wrapper, whose text carries the upstream URL.
func stripURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

func transportKind(err error) error {
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		return ErrTimeout
	}
	return nil
}
