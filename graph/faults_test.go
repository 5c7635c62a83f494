package graph

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/99designs/gqlgen/client"

	"github.com/koodrive/facade/graph/internal/gqltest"
	"github.com/koodrive/facade/koodrive"
	"github.com/koodrive/facade/koodrive/demo"
)

var fastRetries = koodrive.WithRetryPolicy(koodrive.RetryPolicy{MaxRetries: 2, BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond})

// TestOwnerFaultsGivePartialData breaks one owner's GET /users in each way KooDrive
// can fail: only that owner is null, with its error at its path and a clear code, the
// page survives, and what KooDrive said reaches the client as extensions.upstream, but
// never its body.
func TestOwnerFaultsGivePartialData(t *testing.T) {
	const secretBody = "stack trace: db password hunter2"
	refuse := func(status int) http.HandlerFunc {
		return func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(status)
			fmt.Fprintf(w, `{"code":%d77,"msg":"owner unavailable","detail":%q}`, status, secretBody)
		}
	}
	cases := []struct {
		name   string
		fault  http.HandlerFunc
		code   string
		status int // KooDrive's answer, shown in extensions.upstream; 0 for none
		opts   []koodrive.Option
	}{
		{"500", refuse(500), CodeUpstreamError, 500, nil},
		{"404", refuse(404), CodeNotFound, 404, nil},
		{"403", refuse(403), CodeForbidden, 403, nil},
		{"timeout", demo.Hang(5 * time.Second), CodeUpstreamTimeout, 0, []koodrive.Option{koodrive.WithTimeout(300 * time.Millisecond)}},
		{"connection reset", demo.ResetConnection, CodeUpstreamError, 0, nil},
		{"truncated JSON", demo.TruncatedBody, CodeUpstreamError, 200, nil},
		{"malformed JSON", demo.MalformedJSON, CodeUpstreamError, 200, nil},
		{"body over the cap", demo.OversizedBody(64 << 10), CodeUpstreamError, 200, []koodrive.Option{koodrive.WithMaxBodyBytes(16 << 10)}},
		{"persistent 503", demo.Status(503, ""), CodeUpstreamError, 503, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, envOptions{koodrive: append([]koodrive.Option{fastRetries}, tc.opts...)})
			var ids gqltest.OwnersPage
			e.MustDo(t, gqltest.OwnersOfTen, &ids)
			broken := ids.UserGroups.Nodes[3].OwnerID
			e.FailUsers(tc.fault, broken)
			var got gqltest.OwnersPage
			errs, raw := e.Do(t, gqltest.OwnersOfTen, &got, e.As()...)
			if len(got.UserGroups.Nodes) != 10 {
				t.Fatalf("page lost: %s", raw)
			}
			var failed []int
			for i, n := range got.UserGroups.Nodes {
				if (n.Owner == nil) != (n.OwnerID == broken) {
					t.Fatalf("node %d: owner %v for owner id %s (broken %s)", i, n.Owner, n.OwnerID, broken)
				}
				if n.Owner == nil {
					failed = append(failed, i)
				}
			}
			if len(failed) == 0 || len(errs) != len(failed) {
				t.Fatalf("%d null owners, %d errors: %s", len(failed), len(errs), raw)
			}
			for k, err := range errs {
				if err.Code() != tc.code || fmt.Sprint(err.Path) != fmt.Sprintf("[userGroups nodes %d owner]", failed[k]) {
					t.Fatalf("error %+v, want %s at node %d", err, tc.code, failed[k])
				}
				up, _ := err.Extensions["upstream"].(map[string]any)
				if up["status"] != float64(tc.status) {
					t.Fatalf("upstream extensions %+v, want status %d", up, tc.status)
				}
				if tc.status >= 400 && tc.status != 503 && (up["code"] != float64(tc.status*100+77) || up["message"] != "owner unavailable") {
					t.Fatalf("upstream extensions %+v", up)
				}
			}
			if strings.Contains(raw, "hunter2") || strings.Contains(e.Logs.String(), "hunter2") {
				t.Fatalf("upstream body leaked: %s", raw)
			}
		})
	}
}

// TestOpenBreakerFailsFastAndKeepsThePage: once GET /users has failed enough to open its
// breaker, owners fail fast without a call, and the groups (another endpoint) still load.
func TestOpenBreakerFailsFastAndKeepsThePage(t *testing.T) {
	e := newEnv(t, envOptions{koodrive: []koodrive.Option{fastRetries, koodrive.WithBreaker(koodrive.BreakerSettings{ConsecutiveFailures: 1, OpenFor: time.Minute})}})
	e.FailUsers(demo.Status(503, ""))
	errs, _ := e.Do(t, `{ user(userId: "1") { name } }`, nil, e.As()...)
	gqltest.ExpectCode(t, errs, CodeUnavailable) // its first attempt opens the breaker; the retry meets it open
	before := e.Up.Calls()
	var got gqltest.OwnersPage
	errs, raw := e.Do(t, gqltest.OwnersOfTen, &got, e.As()...)
	if len(got.UserGroups.Nodes) != 10 || e.Up.Calls()-before != 1 {
		t.Fatalf("%d upstream calls (want the group page only): %s", e.Up.Calls()-before, raw)
	}
	for _, err := range errs {
		if err.Code() != CodeUnavailable {
			t.Fatalf("code %s, want UPSTREAM_UNAVAILABLE: %s", err.Code(), raw)
		}
	}
}

// TestClientDisconnectCancelsUpstreamCalls: when the client goes away, every call of
// its request is cancelled and no new one starts.
func TestClientDisconnectCancelsUpstreamCalls(t *testing.T) {
	// Calls are counted where the facade makes them, so one still on its way to the
	// server when the client leaves is not mistaken for a call started afterwards.
	calls := &countingTransport{next: http.DefaultTransport}
	e := newEnv(t, envOptions{koodrive: []koodrive.Option{koodrive.WithHTTPClient(&http.Client{Transport: calls})}})
	srv := httptest.NewServer(e.Handler)
	defer srv.Close()
	e.Up.Intercept(func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path == groupsPath {
			return false
		}
		<-r.Context().Done()
		return true
	})
	ctx, disconnect := context.WithCancel(context.Background())
	body := `{"query":"{ userGroups(first: 40) { nodes { owner { userId } } } }"}`
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL, bytes.NewBufferString(body))
	req.Header = http.Header{"Content-Type": {"application/json"}, "Authorization": {demo.Authorization}, "X-User-Id": {e.Up.CallerID()}}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	waitUntil(t, "owner calls start", func() bool { return calls.started.Load() >= 6 })
	disconnect()
	<-done
	waitUntil(t, "every started call ends", func() bool { return calls.inFlight.Load() == 0 })
	n := calls.started.Load()
	time.Sleep(100 * time.Millisecond) // no retry or new call may start after the disconnect
	if calls.started.Load() != n || n > 41 {
		t.Fatalf("%d calls started before the disconnect, %d after", n, calls.started.Load())
	}
}

// countingTransport counts the calls made through it while their context was live.
type countingTransport struct {
	next              http.RoundTripper
	started, inFlight atomic.Int64
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Context().Err() == nil {
		c.started.Add(1)
	}
	c.inFlight.Add(1)
	defer c.inFlight.Add(-1)
	return c.next.RoundTrip(r)
}

func TestRequestBudgetEndsEveryCall(t *testing.T) {
	e := newEnv(t, envOptions{budget: 200 * time.Millisecond})
	e.FailUsers(demo.Hang(10 * time.Second))
	start := time.Now()
	var got gqltest.OwnersPage
	errs, raw := e.Do(t, gqltest.OwnersOfTen, &got, e.As()...)
	if time.Since(start) > 5*time.Second || len(got.UserGroups.Nodes) != 10 || len(errs) == 0 {
		t.Fatalf("after %v: %s", time.Since(start), raw)
	}
	for _, err := range errs {
		if err.Code() != CodeUpstreamTimeout {
			t.Fatalf("code %s, want UPSTREAM_TIMEOUT: %s", err.Code(), raw)
		}
	}
}

// TestConcurrentRequestsShareCalls: identical GraphQL requests in flight together make
// one GET /users per caller; callers with other credentials never share it.
func TestConcurrentRequestsShareCalls(t *testing.T) {
	e := newEnv(t, envOptions{upstream: demo.Options{Tokens: []string{demo.Token, "other-token"}}})
	release := make(chan struct{})
	e.Up.Intercept(func(w http.ResponseWriter, r *http.Request) bool {
		<-release
		return false
	})
	const n = 8
	var wg sync.WaitGroup
	var sending atomic.Int64
	for i := range 2 * n {
		token := demo.Token
		if i%2 == 1 {
			token = "other-token"
		}
		wg.Go(func() {
			sending.Add(1)
			errs, raw := e.Do(t, fmt.Sprintf(`{ user(userId: %q) { name } }`, e.Up.CallerID()), nil,
				client.AddHeader("Authorization", "Bearer "+token), client.AddHeader("X-User-Id", e.Up.CallerID()))
			if len(errs) > 0 {
				t.Errorf("request failed: %s", raw)
			}
		})
	}
	waitUntil(t, "every request is sent", func() bool { return sending.Load() == 2*n })
	time.Sleep(300 * time.Millisecond) // and reaches the adapter
	close(release)
	wg.Wait()
	if calls := e.Up.Path(usersPath + e.Up.CallerID()); calls != 2 {
		t.Fatalf("%d upstream calls for %d identical requests by 2 callers; want 2", calls, 2*n)
	}
}

func TestUserCacheAcrossRequests(t *testing.T) {
	e := newEnv(t, envOptions{
		upstream: demo.Options{Tokens: []string{demo.Token, "other-token"}},
		koodrive: []koodrive.Option{koodrive.WithUserCache(time.Minute, 100)},
	})
	query := fmt.Sprintf(`{ user(userId: %q) { name } }`, e.Up.CallerID())
	e.MustDo(t, query, nil)
	e.MustDo(t, query, nil)
	if n := e.Up.Path(usersPath + e.Up.CallerID()); n != 1 {
		t.Fatalf("%d calls for the same caller within the TTL, want 1", n)
	}
	e.Do(t, query, nil, client.AddHeader("Authorization", "Bearer other-token"), client.AddHeader("X-User-Id", e.Up.CallerID()))
	if n := e.Up.Path(usersPath + e.Up.CallerID()); n != 2 {
		t.Fatalf("another caller's request was answered from the cache (%d calls)", n)
	}
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(2 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
	}
}
