package koodrive

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/koodrive/facade/koodrive/demo"
)

const userRoute = "GET /koodrive/ose/v1/users/{id}"

// sequence answers the n-th request with handlers[n], and the last one after that.
func sequence(handlers ...http.HandlerFunc) http.HandlerFunc {
	var n atomic.Int64
	return func(w http.ResponseWriter, r *http.Request) {
		i := min(int(n.Add(1))-1, len(handlers)-1)
		handlers[i](w, r)
	}
}

func ok(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, okBody) }

var fastRetries = WithRetryPolicy(RetryPolicy{MaxRetries: 2, BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond, MaxRetryAfter: 2 * time.Second})

func TestRetries(t *testing.T) {
	cases := []struct {
		name     string
		handlers []http.HandlerFunc
		attempts int64
		succeeds bool
		wantErr  error // the sentinel of a failure, when it has one
	}{
		{"503 then success", []http.HandlerFunc{demo.Status(503, ""), ok}, 2, true, nil},
		{"500, 502 then success", []http.HandlerFunc{demo.Status(500, ""), demo.Status(502, ""), ok}, 3, true, nil},
		{"connection reset then success", []http.HandlerFunc{demo.ResetConnection, ok}, 2, true, nil},
		{"truncated body then success", []http.HandlerFunc{demo.TruncatedBody, ok}, 2, true, nil},
		{"persistent 500: 1 + 2 retries", []http.HandlerFunc{demo.Status(500, "")}, 3, false, nil},
		{"persistent reset: 1 + 2 retries", []http.HandlerFunc{demo.ResetConnection}, 3, false, nil},
		{"501 is not retried", []http.HandlerFunc{demo.Status(501, "")}, 1, false, nil},
		{"404 is not retried", []http.HandlerFunc{demo.Status(404, "")}, 1, false, ErrNotFound},
		{"401 is not retried", []http.HandlerFunc{demo.Status(401, "")}, 1, false, ErrUnauthenticated},
		{"400 is not retried", []http.HandlerFunc{demo.Status(400, "")}, 1, false, nil},
		{"malformed JSON is not retried", []http.HandlerFunc{demo.MalformedJSON}, 1, false, ErrBadResponse},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := setup(t, fastRetries)
			f.mux.HandleFunc(userRoute, sequence(tc.handlers...))
			_, err := f.client.GetUser(callerContext(t, testCaller()), "1")
			if got := f.requests.Load(); got != tc.attempts {
				t.Fatalf("%d attempts, want %d", got, tc.attempts)
			}
			switch {
			case tc.succeeds && err != nil:
				t.Fatalf("want data, got %v", err)
			case !tc.succeeds && err == nil:
				t.Fatal("want an error")
			case tc.wantErr != nil && !errors.Is(err, tc.wantErr):
				t.Fatalf("err %v, want %v", err, tc.wantErr)
			}
		})
	}
}

func TestRetryAfterHonoured(t *testing.T) {
	f := setup(t, fastRetries)
	f.mux.HandleFunc(userRoute, sequence(demo.Status(429, "1"), ok))
	start := time.Now()
	if _, err := f.client.GetUser(callerContext(t, testCaller()), "1"); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 900*time.Millisecond || f.requests.Load() != 2 {
		t.Fatalf("retried after %v with %d attempts; want Retry-After's 1s and 2 attempts", d, f.requests.Load())
	}
}

func TestRetryNeverOutlivesTheDeadline(t *testing.T) {
	f := setup(t, fastRetries)
	f.mux.HandleFunc(userRoute, demo.Status(429, "1")) // asks for 1 s; the request has 200 ms
	ctx, cancel := context.WithTimeout(callerContext(t, testCaller()), 200*time.Millisecond)
	defer cancel()
	_, err := f.client.GetUser(ctx, "1")
	var ke *Error
	if !errors.As(err, &ke) || ke.StatusCode != 429 || f.requests.Load() != 1 {
		t.Fatalf("err %v after %d attempts; want the 429 at once, not retried past the deadline", err, f.requests.Load())
	}
	if ctx.Err() != nil {
		t.Fatal("returned only once the deadline had passed")
	}
}

func TestCancellationStopsRetries(t *testing.T) {
	f := setup(t, WithRetryPolicy(RetryPolicy{MaxRetries: 2, MaxRetryAfter: 10 * time.Second}))
	f.mux.HandleFunc(userRoute, demo.Status(503, "5")) // a 5 s wait that the cancellation cuts short
	ctx, cancel := context.WithCancel(callerContext(t, testCaller()))
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	_, err := f.client.GetUser(ctx, "1")
	if d := time.Since(start); d > 4*time.Second {
		t.Fatalf("returned after %v: the backoff ignored the cancellation", d)
	}
	if f.requests.Load() != 1 {
		t.Fatalf("err %v after %d attempts; want the first attempt only", err, f.requests.Load())
	}
}

func TestBreaker(t *testing.T) {
	var states []string
	var mu sync.Mutex
	f := setup(t, WithRetryPolicy(RetryPolicy{}), WithBreaker(BreakerSettings{ConsecutiveFailures: 3, OpenFor: 200 * time.Millisecond,
		OnStateChange: func(_, from, to string) { mu.Lock(); states = append(states, from+"→"+to); mu.Unlock() }}))
	var healthy atomic.Bool
	f.mux.HandleFunc(userRoute, func(w http.ResponseWriter, r *http.Request) {
		if healthy.Load() {
			ok(w, r)
			return
		}
		demo.Status(500, "")(w, r)
	})
	f.mux.HandleFunc("GET /koodrive/ose/v1/usergroups", ok)
	ctx := callerContext(t, testCaller())

	for range 3 {
		if _, err := f.client.GetUser(ctx, "1"); errors.Is(err, ErrUnavailable) {
			t.Fatal("open before the threshold")
		}
	}
	before := f.requests.Load()
	_, err := f.client.GetUser(ctx, "1")
	if !errors.Is(err, ErrUnavailable) || f.requests.Load() != before {
		t.Fatalf("after 3 failures: err %v, %d new requests; want a fast ErrUnavailable", err, f.requests.Load()-before)
	}
	if _, err := f.client.ListUserGroups(ctx, ListUserGroupsParams{PageSize: 1}); err != nil {
		t.Fatalf("the other endpoint's breaker tripped too: %v", err)
	}

	healthy.Store(true)
	time.Sleep(250 * time.Millisecond) // the open period
	if _, err := f.client.GetUser(ctx, "1"); err != nil {
		t.Fatalf("half-open probe: %v", err)
	}
	if _, err := f.client.GetUser(ctx, "2"); err != nil {
		t.Fatalf("after the probe: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if fmt.Sprint(states) != "[closed→open open→half-open half-open→closed]" {
		t.Fatalf("state changes %v", states)
	}
}

func TestBreakerIgnores4xx(t *testing.T) {
	f := setup(t, WithRetryPolicy(RetryPolicy{}), WithBreaker(BreakerSettings{ConsecutiveFailures: 2, OpenFor: time.Minute}))
	f.mux.HandleFunc(userRoute, demo.Status(404, ""))
	for i := range 10 {
		if _, err := f.client.GetUser(callerContext(t, testCaller()), "1"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("call %d: %v, want ErrNotFound (4xx must not open the breaker)", i, err)
		}
	}
}

// blockUntil holds requests until release is closed, counting them.
func blockUntil(release <-chan struct{}, arrived *atomic.Int64) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		arrived.Add(1)
		select {
		case <-release:
			ok(w, r)
		case <-r.Context().Done():
		}
	}
}

func TestCoalescing(t *testing.T) {
	f := setup(t)
	release := make(chan struct{})
	var arrived atomic.Int64
	f.mux.HandleFunc(userRoute, blockUntil(release, &arrived))
	alice, bob := testCaller(), testCaller()
	bob.Authorization = "Bearer bob-token"

	const n = 10
	var wg sync.WaitGroup
	var calling atomic.Int64
	errs := make(chan error, 2*n)
	for i := range 2 * n {
		caller := alice
		if i%2 == 1 {
			caller = bob
		}
		wg.Go(func() {
			calling.Add(1)
			_, err := f.client.GetUser(callerContext(t, caller), "42")
			errs <- err
		})
	}
	waitFor(t, "every caller is calling", func() bool { return calling.Load() == 2*n && arrived.Load() >= 2 })
	time.Sleep(100 * time.Millisecond) // let the callers join, and any further (wrong) calls arrive
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := f.requests.Load(); got != 2 {
		t.Fatalf("%d upstream calls for %d identical calls by 2 callers; want 2, one per caller", got, 2*n)
	}
}

func TestCoalescingSurvivesTheLeaderLeaving(t *testing.T) {
	f := setup(t)
	release := make(chan struct{})
	var arrived atomic.Int64
	f.mux.HandleFunc(userRoute, blockUntil(release, &arrived))
	leaderCtx, leave := context.WithCancel(callerContext(t, testCaller()))
	leaderErr := make(chan error, 1)
	go func() { _, err := f.client.GetUser(leaderCtx, "42"); leaderErr <- err }()
	waitFor(t, "the leader's call arrives", func() bool { return arrived.Load() == 1 })
	followerErr := make(chan error, 1)
	go func() { _, err := f.client.GetUser(callerContext(t, testCaller()), "42"); followerErr <- err }()
	time.Sleep(20 * time.Millisecond) // the follower joins the leader's call
	leave()
	if err := <-leaderErr; !errors.Is(err, ErrTimeout) {
		t.Fatalf("leader: %v", err)
	}
	waitFor(t, "the follower runs the call again", func() bool { return arrived.Load() == 2 })
	close(release)
	if err := <-followerErr; err != nil {
		t.Fatalf("follower inherited the leader's cancellation: %v", err)
	}
}

func TestUserCache(t *testing.T) {
	f := setup(t, WithUserCache(time.Minute, 100))
	var calls atomic.Int64
	f.mux.HandleFunc(userRoute, func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if r.PathValue("id") == "404" {
			demo.Status(404, "")(w, r)
			return
		}
		fmt.Fprintf(w, `{"code":0,"msg":"OK","data":{"userId":%q}}`, r.PathValue("id"))
	})
	alice, bob := testCaller(), testCaller()
	bob.Authorization = "Bearer bob-token"
	get := func(c Caller, id string) error { _, err := f.client.GetUser(callerContext(t, c), id); return err }

	steps := []struct {
		caller Caller
		id     string
		calls  int64
	}{
		{alice, "7", 1}, {alice, "7", 1}, // cached
		{bob, "7", 2}, {bob, "7", 2}, // another caller: own entry
		{alice, "8", 3},
		{alice, "404", 4}, {alice, "404", 5}, // errors are never cached
	}
	for i, s := range steps {
		_ = get(s.caller, s.id)
		if calls.Load() != s.calls {
			t.Fatalf("step %d: %d upstream calls, want %d", i, calls.Load(), s.calls)
		}
	}

	short := setup(t, WithUserCache(50*time.Millisecond, 100))
	short.mux.HandleFunc(userRoute, ok)
	_ = func() error { _, err := short.client.GetUser(callerContext(t, alice), "1"); return err }()
	time.Sleep(100 * time.Millisecond)
	_, _ = short.client.GetUser(callerContext(t, alice), "1")
	if short.requests.Load() != 2 {
		t.Fatalf("%d calls: an expired entry was served", short.requests.Load())
	}
}
