package koodrive

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// baseURLPath is a non-empty base path, so that a client building absolute paths
// ("/koodrive/...") instead of appending them to its base URL fails the tests.
const baseURLPath = "/api-v1"

const (
	testToken   = "tok-SECRET-10f88c69b0f4791e9ff"
	testUserID  = "1008600000293202821"
	testTraceID = "trace-7f3a9c1e0b2d4e6f8a0c2e4f6a8c0e2f4a6c8e0a2c4e6f8a0c2e4f6a8"
	okBody      = `{"code":0,"msg":"OK","data":{}}` // valid for both endpoints
)

// fixedNow is 2025-11-03 15:01:40 in UTC+8, i.e. 07:01:40Z: a clock that is not in UTC
// proves that X-Date is converted.
var fixedNow = time.Date(2025, 11, 3, 15, 1, 40, 0, time.FixedZone("UTC+8", 8*60*60))

type fixture struct {
	client   *Client
	mux      *http.ServeMux // the API, mounted under baseURLPath
	server   *httptest.Server
	requests *atomic.Int64 // every request that reached the server, routed or not
}

// setup starts a fake KooDrive whose API lives under baseURLPath and a client for it.
func setup(t *testing.T, opts ...Option) *fixture {
	t.Helper()
	f := &fixture{mux: http.NewServeMux(), requests: new(atomic.Int64)}
	outer := http.NewServeMux()
	outer.Handle(baseURLPath+"/", http.StripPrefix(baseURLPath, f.mux))
	outer.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("request outside the base path: %s %s (absolute URL built?)", r.Method, r.URL.Path)
		http.Error(w, "outside base path", http.StatusBadGateway)
	})
	f.server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.requests.Add(1)
		// No Date unless a handler sets one: the host's would disagree with the test clock
		// by a year, and the client would follow it (clock_test.go).
		w.Header()["Date"] = nil
		outer.ServeHTTP(w, r)
	}))
	t.Cleanup(f.server.Close)

	c, err := New(f.server.URL+baseURLPath, append([]Option{WithClock(func() time.Time { return fixedNow })}, opts...)...)
	if err != nil {
		t.Fatalf("New(%q): %v", f.server.URL+baseURLPath, err)
	}
	f.client = c
	return f
}

func testCaller() Caller {
	return Caller{Authorization: "Bearer " + testToken, UserID: testUserID, TraceID: testTraceID, Language: "zh-CN"}
}

func callerContext(t *testing.T, c Caller) context.Context {
	return WithCaller(t.Context(), c)
}

// endpoints are the adapter's methods, each with the mux pattern it must reach.
var endpoints = []struct {
	name    string
	pattern string
	call    func(ctx context.Context, c *Client) error
}{
	{"GetUser", "GET /koodrive/ose/v1/users/{id}", func(ctx context.Context, c *Client) error {
		_, err := c.GetUser(ctx, "1316083732377070977")
		return err
	}},
	{"ListUserGroups", "GET /koodrive/ose/v1/usergroups", func(ctx context.Context, c *Client) error {
		_, err := c.ListUserGroups(ctx, ListUserGroupsParams{PageSize: 10})
		return err
	}},
}

type seenRequest struct {
	header http.Header
	host   string
}

func TestHeaders(t *testing.T) {
	callers := map[string]Caller{
		"Bearer space, trace id and language":  testCaller(),
		"Bearer plus, no trace id or language": {Authorization: "Bearer+" + testToken, UserID: testUserID},
	}
	for _, ep := range endpoints {
		for name, caller := range callers {
			t.Run(ep.name+"/"+name, func(t *testing.T) {
				f := setup(t)
				seen := make(chan seenRequest, 1)
				f.mux.HandleFunc(ep.pattern, func(w http.ResponseWriter, r *http.Request) {
					seen <- seenRequest{header: r.Header.Clone(), host: r.Host}
					fmt.Fprint(w, okBody)
				})
				if err := ep.call(callerContext(t, caller), f.client); err != nil {
					t.Fatalf("%s: %v", ep.name, err)
				}
				got := <-seen
				h := got.header

				want := map[string]string{
					"Authorization": caller.Authorization,
					"X-User-Id":     caller.UserID,
					"X-Date":        "20251103T070135Z", // fixedNow, DefaultClockMargin behind
				}
				for k, v := range want {
					if vs := h.Values(k); len(vs) != 1 || vs[0] != v {
						t.Errorf("header %s = %q, want exactly [%q]", k, vs, v)
					}
				}
				optional := map[string]string{"X-Traceid": caller.TraceID, "language": caller.Language}
				for k, v := range optional {
					vs := h.Values(k)
					switch {
					case v == "" && len(vs) != 0:
						t.Errorf("header %s = %q, want it absent when the Caller has none", k, vs)
					case v != "" && (len(vs) != 1 || vs[0] != v):
						t.Errorf("header %s = %q, want exactly [%q]", k, vs, v)
					}
				}
				if u, _ := url.Parse(f.server.URL); got.host != u.Host {
					t.Errorf("Host = %q, want the server's host %q", got.host, u.Host)
				}
			})
		}
	}
}

func TestHeaders_xDateIsTakenFromTheClockOnEveryCall(t *testing.T) {
	var ticks atomic.Int64
	clock := func() time.Time { return fixedNow.Add(time.Duration(ticks.Load()) * time.Minute) }
	f := setup(t, WithClock(clock))
	dates := make(chan string, 2)
	f.mux.HandleFunc("GET /koodrive/ose/v1/users/{id}", func(w http.ResponseWriter, r *http.Request) {
		dates <- r.Header.Get("X-Date")
		fmt.Fprint(w, okBody)
	})
	ctx := callerContext(t, testCaller())
	for range 2 {
		ticks.Add(1)
		if _, err := f.client.GetUser(ctx, "1"); err != nil {
			t.Fatalf("GetUser: %v", err)
		}
	}
	if first, second := <-dates, <-dates; first != "20251103T070235Z" || second != "20251103T070335Z" {
		t.Errorf("X-Date of two calls = %q, %q; want 20251103T070235Z, 20251103T070335Z (fresh from the clock each time, DefaultClockMargin behind)", first, second)
	}
}

func TestMissingCredentials_noRequestIsSent(t *testing.T) {
	callers := map[string]*Caller{ // nil: no Caller in the context at all
		"no Caller":        nil,
		"zero Caller":      {},
		"no Authorization": {UserID: testUserID, TraceID: testTraceID},
		"no X-User-Id":     {Authorization: "Bearer " + testToken, TraceID: testTraceID},
		"trace id only":    {TraceID: testTraceID, Language: "en-US"},
	}
	for _, ep := range endpoints {
		for name, caller := range callers {
			t.Run(ep.name+"/"+name, func(t *testing.T) {
				f := setup(t)
				f.mux.HandleFunc(ep.pattern, func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, okBody) })
				ctx, wantTrace := t.Context(), ""
				if caller != nil {
					ctx, wantTrace = callerContext(t, *caller), caller.TraceID
				}
				err := ep.call(ctx, f.client)
				checkError(t, err, wantError{op: ep.name, kind: ErrUnauthenticated, traceID: wantTrace})
				if n := f.requests.Load(); n != 0 {
					t.Errorf("%d requests reached the server, want 0", n)
				}
			})
		}
	}
}

func TestMaxConcurrency_capsCallsInFlight(t *testing.T) {
	const limit, calls = 2, 6
	f := setup(t, WithMaxConcurrency(limit))
	var inFlight, maxInFlight atomic.Int64
	release := make(chan struct{})
	var once sync.Once
	releaseAll := func() { once.Do(func() { close(release) }) }
	t.Cleanup(releaseAll) // runs before the server closes, so no handler stays blocked
	f.mux.HandleFunc("GET /koodrive/ose/v1/users/{id}", func(w http.ResponseWriter, r *http.Request) {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for m := maxInFlight.Load(); n > m && !maxInFlight.CompareAndSwap(m, n); m = maxInFlight.Load() {
		}
		<-release
		fmt.Fprint(w, okBody)
	})

	ctx := callerContext(t, testCaller())
	errs := make(chan error, calls)
	var wg sync.WaitGroup
	for i := range calls {
		wg.Go(func() {
			_, err := f.client.GetUser(ctx, strconv.Itoa(i))
			errs <- err
		})
	}
	waitFor(t, "2 calls in flight", func() bool { return inFlight.Load() == limit })
	time.Sleep(50 * time.Millisecond) // room for a third call to get in if the cap leaked
	if n := inFlight.Load(); n != limit {
		t.Errorf("%d calls in flight while %d were made, want %d", n, calls, limit)
	}
	releaseAll()
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("GetUser: %v", err)
		}
	}
	if m := maxInFlight.Load(); m != limit {
		t.Errorf("max calls in flight = %d, want %d", m, limit)
	}
	if n := f.requests.Load(); n != calls {
		t.Errorf("server saw %d requests, want %d", n, calls)
	}
}

func TestMaxConcurrency_waitingForASlotHonoursTheContext(t *testing.T) {
	f := setup(t, WithMaxConcurrency(1))
	entered, release := make(chan struct{}, 1), make(chan struct{})
	t.Cleanup(func() { close(release) })
	f.mux.HandleFunc("GET /koodrive/ose/v1/users/{id}", func(w http.ResponseWriter, r *http.Request) {
		entered <- struct{}{}
		<-release
		fmt.Fprint(w, okBody)
	})
	ctx := callerContext(t, testCaller())
	go f.client.GetUser(ctx, "holder") //nolint:errcheck // only holds the one slot
	<-entered

	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	_, err := f.client.GetUser(short, "waiter")
	checkError(t, err, wantError{op: "GetUser", kind: ErrTimeout, traceID: testTraceID})
	if n := f.requests.Load(); n != 1 {
		t.Errorf("server saw %d requests, want 1: the waiting call must not be sent", n)
	}
}

func TestNew_rejectsBaseURLsThatAreNotAbsoluteHTTP(t *testing.T) {
	for _, base := range []string{"", "/api-v1", "koodrive.example.com", "koodrive.example.com/api", "ftp://koodrive.example.com", "http://", "https:///path", "://koodrive.example.com", "mailto:ops@example.com", "http://[::1"} {
		c, err := New(base)
		if err == nil || c != nil {
			t.Errorf("New(%q) = %v, %v; want nil and an error", base, c, err)
		}
	}
}

func TestNew_trailingSlashOnTheBaseURL(t *testing.T) {
	f := setup(t)
	f.mux.HandleFunc("GET /koodrive/ose/v1/users/{id}", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, okBody) })
	c, err := New(f.server.URL + baseURLPath + "/")
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if _, err := c.GetUser(callerContext(t, testCaller()), "1"); err != nil {
		t.Errorf("GetUser through a base URL with a trailing slash: %v", err)
	}
	if n := f.requests.Load(); n != 1 {
		t.Errorf("server saw %d requests, want 1 (a \"//\" path answered by a redirect?)", n)
	}
}

// waitFor polls cond for up to 2s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(2 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}
