package gqlhttp

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/99designs/gqlgen/client"

	"github.com/koodrive/facade/fleet"
	"github.com/koodrive/facade/graph"
	"github.com/koodrive/facade/graph/internal/gqltest"
	"github.com/koodrive/facade/koodrive"
	"github.com/koodrive/facade/koodrive/demo"
)

// limitedEnv is the endpoint with RATE_LIMIT at rate, on buckets in process.
func limitedEnv(t *testing.T, rate fleet.Rate, kdOpts ...koodrive.Option) (*testEnv, *fakeObserver) {
	obs := &fakeObserver{}
	limit := &RateLimit{Limiter: fleet.NewLocalLimiter(rate), Burst: float64(rate.N), RestorePerSecond: rate.PerSecond()}
	return newEnv(t, envOptions{edge: Options{RateLimit: limit, Observer: obs}, koodrive: kdOpts}), obs
}

// costOf posts query and returns the status, the Retry-After header and extensions.cost.
func costOf(t *testing.T, e *testEnv, query string, opts ...client.Option) (int, string, map[string]any) {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, "/query", strings.NewReader(`{"query":`+jsonString(query)+`}`))
	r.Header.Set("Content-Type", "application/json")
	for k, v := range map[string]string{"Authorization": demo.Authorization, "X-User-Id": e.Up.CallerID()} {
		r.Header.Set(k, v)
	}
	for _, o := range opts {
		cr := &client.Request{HTTP: r}
		o(cr)
	}
	w := httptest.NewRecorder()
	e.Handler.ServeHTTP(w, r)
	var body struct {
		Extensions struct {
			Cost map[string]any `json:"cost"`
		} `json:"extensions"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || body.Extensions.Cost == nil {
		t.Fatalf("status %d, no extensions.cost: %s", w.Code, w.Body.String())
	}
	return w.Code, w.Header().Get("Retry-After"), body.Extensions.Cost
}

func jsonString(s string) string { b, _ := json.Marshal(s); return string(b) }

func available(c map[string]any) float64 {
	return c["throttleStatus"].(map[string]any)["currentlyAvailable"].(float64)
}

const page20 = `{ viewer { name } userGroups(first: 20) { nodes { owner { name } } } }`

// TestCostIsChargedAsCalledAndReported: the worst case is taken before, the actual calls
// after: what is left is the burst less the calls made.
func TestCostIsChargedAsCalledAndReported(t *testing.T) {
	e, _ := limitedEnv(t, fleet.Rate{N: 100, Per: time.Hour})
	status, _, cost := costOf(t, e, page20)
	calls := float64(e.Up.Calls())
	if status != 200 || cost["requestedQueryCost"] != float64(1+10+20) || cost["actualQueryCost"] != calls {
		t.Fatalf("status %d, cost %v; want 31 requested and the %v calls made", status, cost, calls)
	}
	ts := cost["throttleStatus"].(map[string]any)
	if ts["maximumAvailable"] != float64(100) || math.Abs(ts["restoreRate"].(float64)-100.0/3600) > 1e-9 || available(cost) != 100-calls {
		t.Fatalf("throttleStatus %v, want 100 max, %v left, 100/h", ts, 100-calls)
	}
}

func TestCoalescedAndCachedCallsAreFree(t *testing.T) {
	e, _ := limitedEnv(t, fleet.Rate{N: 100, Per: time.Hour}, koodrive.WithUserCache(time.Minute, 100))
	_, _, first := costOf(t, e, page20)
	before := e.Up.Calls()
	_, _, second := costOf(t, e, page20)
	if second["actualQueryCost"] != float64(e.Up.Calls()-before) || second["actualQueryCost"] != float64(1) {
		t.Fatalf("cached owners cost %v (first %v), want only the group page", second["actualQueryCost"], first["actualQueryCost"])
	}
	if available(second) != available(first)-1 {
		t.Fatalf("left %v after %v: the cached owners were charged", available(second), available(first))
	}
}

// TestOverTheLimitIs429: refused before any call, with Retry-After rounded up to when the
// tokens are back; an operation larger than the burst has no Retry-After; another caller
// and introspection are not limited.
func TestOverTheLimitIs429(t *testing.T) {
	e, obs := limitedEnv(t, fleet.Rate{N: 40, Per: time.Minute}) // one every 1.5 s
	if status, _, _ := costOf(t, e, page20); status != 200 {
		t.Fatalf("first: %d", status)
	}
	used := e.Up.Calls()
	status, retryAfter, cost := costOf(t, e, page20)
	left := 40 - float64(used)
	wait := math.Ceil((31 - left) * 1.5)
	if status != 429 || retryAfter == "" || e.Up.Calls() != used || cost["actualQueryCost"] != float64(0) {
		t.Fatalf("status %d, Retry-After %q, %d new calls, cost %v; want 429, no call", status, retryAfter, e.Up.Calls()-used, cost)
	}
	if got, want := retryAfter, jsonNumber(wait); got != want && got != jsonNumber(wait+1) {
		t.Fatalf("Retry-After %s, want %s (31 needed, %v left, 1.5 s each, rounded up)", got, want, left)
	}
	errs, _ := e.Do(t, page20, nil, e.As()...)
	gqltest.ExpectCode(t, errs, graph.CodeRateLimited)

	if status, retryAfter, _ := costOf(t, e, `{ a: userGroups(first: 100) { nodes { owner { name } } } }`); status != 429 || retryAfter != "" {
		t.Fatalf("an operation over the burst: %d, Retry-After %q; want 429 without one", status, retryAfter)
	}
	if status, _, cost := costOf(t, e, `{ __schema { queryType { name } } }`); status != 200 || cost["requestedQueryCost"] != float64(0) {
		t.Fatalf("introspection: %d %v", status, cost)
	}
	other := []client.Option{client.AddHeader("Authorization", "Bearer another-token")}
	if status, _, _ := costOf(t, e, `{ viewer { name } }`, other...); status != 200 {
		t.Fatalf("another caller: %d", status)
	}
	obs.mu.Lock()
	defer obs.mu.Unlock()
	if obs.limited != 3 {
		t.Fatalf("%d refusals observed, want 3", obs.limited)
	}
}

func jsonNumber(f float64) string { b, _ := json.Marshal(f); return string(b) }

// TestCoalescedCallsAreChargedOnce: identical requests in flight together share calls;
// the callers are charged, all told, the calls KooDrive received, not one each.
func TestCoalescedCallsAreChargedOnce(t *testing.T) {
	e, _ := limitedEnv(t, fleet.Rate{N: 1000, Per: time.Hour})
	release := make(chan struct{})
	var arrived atomic.Int64
	e.Up.Intercept(func(http.ResponseWriter, *http.Request) bool {
		arrived.Add(1)
		<-release
		return false
	})
	const n = 6
	costs := make([]float64, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			resp, err := e.client.RawPost(`{ viewer { name } }`, e.As()...)
			if err != nil {
				t.Error(err)
				return
			}
			c, _ := resp.Extensions["cost"].(map[string]any)
			costs[i], _ = c["actualQueryCost"].(float64)
		})
	}
	for deadline := time.Now().Add(10 * time.Second); arrived.Load() == 0 && time.Now().Before(deadline); time.Sleep(time.Millisecond) {
	}
	close(release)
	wg.Wait()
	var charged float64
	for _, c := range costs {
		charged += c
	}
	if calls := e.Up.Calls(); charged != float64(calls) || calls > n {
		t.Fatalf("charged %v in all (%v) for %d calls KooDrive received", charged, costs, calls)
	}
}

// noSlots never has a slot: KOODRIVE_RATE_LIMIT already spent.
type noSlots struct{}

func (noSlots) Take(context.Context, string, float64) (bool, time.Duration, float64) {
	return false, time.Hour, 0
}

func TestKooDriveRateLimitIsAFieldError(t *testing.T) {
	e := newEnv(t, envOptions{koodrive: []koodrive.Option{koodrive.WithCallLimit(noSlots{})}})
	errs, raw := e.Do(t, `{ viewer { name } }`, nil, e.As()...)
	gqltest.ExpectCode(t, errs, graph.CodeRateLimited)
	if e.Up.Calls() != 0 || !strings.Contains(raw, `"data":{"viewer":null}`) {
		t.Fatalf("%d calls: %s", e.Up.Calls(), raw)
	}
}
