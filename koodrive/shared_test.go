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
)

// fakeShared is a fleet's shared state in memory.
type fakeShared struct {
	mu    sync.Mutex
	users map[string]cachedUser
	holds map[string]time.Time
	gets  int
}

func (f *fakeShared) GetUser(_ context.Context, key string) (*User, time.Time, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.gets++
	e, ok := f.users[key]
	return e.user, e.expires, ok
}

func (f *fakeShared) AddUser(_ context.Context, key string, u *User, expires time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.users == nil {
		f.users = map[string]cachedUser{}
	}
	f.users[key] = cachedUser{user: u, expires: expires}
}

func (f *fakeShared) Hold(_ context.Context, endpoint string, until time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.holds == nil {
		f.holds = map[string]time.Time{}
	}
	f.holds[endpoint] = until
}

// TestUsersCachedByOneReplicaServeAnother: two clients (two replicas) on one shared
// state: what the first fetched, the second reads from it, with no upstream call, and
// keeps until the same time.
func TestUsersCachedByOneReplicaServeAnother(t *testing.T) {
	shared := &fakeShared{}
	one := setup(t, WithUserCache(time.Minute, 100), WithShared(shared))
	two := setup(t, WithUserCache(time.Minute, 100), WithShared(shared))
	for _, f := range []*fixture{one, two} {
		f.mux.HandleFunc(userRoute, func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, `{"code":0,"msg":"OK","data":{"userId":%q}}`, r.PathValue("id"))
		})
	}
	ctx := callerContext(t, testCaller())
	if _, err := one.client.GetUser(ctx, "7"); err != nil {
		t.Fatal(err)
	}
	u, err := two.client.GetUser(ctx, "7")
	if err != nil || u.UserID == nil || *u.UserID != "7" {
		t.Fatalf("second replica: %v %v", u, err)
	}
	if one.requests.Load() != 1 || two.requests.Load() != 0 {
		t.Fatalf("upstream calls: %d and %d, want 1 and 0", one.requests.Load(), two.requests.Load())
	}
	gets := shared.gets
	if _, err := two.client.GetUser(ctx, "7"); err != nil || shared.gets != gets {
		t.Fatalf("a user copied from the fleet was read from it again (%v)", err)
	}
	other := testCaller()
	other.Authorization = "Bearer another-token"
	if _, err := two.client.GetUser(callerContext(t, other), "7"); err != nil || two.requests.Load() != 1 {
		t.Fatalf("another caller was served the first caller's entry (%v)", err)
	}
	for key := range shared.users {
		if len(key) != 64 {
			t.Fatalf("shared key %q is not a hash", key)
		}
	}
}

func TestExpiredSharedUserIsAMiss(t *testing.T) {
	shared := &fakeShared{}
	f := setup(t, WithUserCache(time.Minute, 100), WithShared(shared))
	f.mux.HandleFunc(userRoute, ok)
	ctx := callerContext(t, testCaller())
	key := callerHash(testCaller(), "7")
	shared.AddUser(ctx, fmt.Sprintf("%x", key[:]), &User{}, time.Now().Add(-time.Second))
	if _, err := f.client.GetUser(ctx, "7"); err != nil || f.requests.Load() != 1 {
		t.Fatalf("an expired shared entry was served (%v, %d calls)", err, f.requests.Load())
	}
}

// holdObserver records the holds reported.
type holdObserver struct {
	noObserver
	mu    sync.Mutex
	holds []time.Time
}

func (o *holdObserver) Held(_ string, until time.Time) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.holds = append(o.holds, until)
}

// TestA429HoldsTheEndpoint: after a 429 with Retry-After, the next call to that endpoint
// (another request's) reaches KooDrive only once the hold has passed, and the fleet is
// told; another endpoint is not held.
func TestA429HoldsTheEndpoint(t *testing.T) {
	shared := &fakeShared{}
	obs := &holdObserver{}
	f := setup(t, WithRetryPolicy(RetryPolicy{}), WithShared(shared), WithObserver(obs))
	var arrivals []time.Time
	var mu sync.Mutex
	f.mux.HandleFunc(userRoute, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		arrivals = append(arrivals, time.Now())
		first := len(arrivals) == 1
		mu.Unlock()
		if first {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			fmt.Fprint(w, `{"code":429,"msg":"slow down"}`)
			return
		}
		fmt.Fprint(w, okBody)
	})
	var groupCalls atomic.Int64
	f.mux.HandleFunc("GET /koodrive/ose/v1/usergroups", func(w http.ResponseWriter, _ *http.Request) {
		groupCalls.Add(1)
		fmt.Fprint(w, okBody)
	})
	ctx := callerContext(t, testCaller())
	if _, err := f.client.GetUser(ctx, "1"); err == nil {
		t.Fatal("the 429 was not an error (retries are off)")
	}
	if len(obs.holds) != 1 || shared.holds[opGetUser] != obs.holds[0] {
		t.Fatalf("holds reported %v, shared %v; want the one hold, told to the fleet", obs.holds, shared.holds)
	}
	if _, err := f.client.ListUserGroups(ctx, ListUserGroupsParams{PageSize: 1}); err != nil || groupCalls.Load() != 1 {
		t.Fatalf("another endpoint was held (%v)", err)
	}
	if _, err := f.client.GetUser(ctx, "1"); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(arrivals) != 2 || arrivals[1].Before(obs.holds[0]) {
		t.Fatalf("second call arrived at %v, before the hold ended at %v", arrivals[1], obs.holds[0])
	}
}

func TestAHoldPastTheBudgetFailsAtOnce(t *testing.T) {
	f := setup(t)
	f.mux.HandleFunc(userRoute, ok)
	f.client.Hold(opGetUser, time.Now().Add(30*time.Second)) // as another replica's 429
	ctx, cancel := context.WithTimeout(callerContext(t, testCaller()), time.Second)
	defer cancel()
	_, err := f.client.GetUser(ctx, "1")
	var ke *Error
	if !errors.Is(err, ErrUnavailable) || !errors.As(err, &ke) || ke.StatusCode != http.StatusTooManyRequests || f.requests.Load() != 0 {
		t.Fatalf("err %v with %d calls; want ErrUnavailable (429) and no call", err, f.requests.Load())
	}
	if ctx.Err() != nil {
		t.Fatal("the call waited out its budget instead of failing at once")
	}
}

func TestAHoldIsBounded(t *testing.T) {
	obs := &holdObserver{}
	f := setup(t, WithRetryPolicy(RetryPolicy{}), WithObserver(obs))
	f.mux.HandleFunc(userRoute, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Retry-After", "86400")
		w.WriteHeader(http.StatusTooManyRequests)
	})
	_, _ = f.client.GetUser(callerContext(t, testCaller()), "1")
	if len(obs.holds) != 1 || time.Until(obs.holds[0]) > maxHold {
		t.Fatalf("holds %v, want one of at most %v", obs.holds, maxHold)
	}
}
