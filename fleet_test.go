package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/koodrive/facade/koodrive/demo"
)

// The fleet on a real redis-server: replicas are facade processes in front of one demo
// KooDrive that this test serves and counts.

const (
	fleetToken  = "fleet-SECRET-token-8c1d"
	ownersQuery = `{ userGroups(first: 30) { nodes { name owner { userId name } } } }`
)

// fleetUpstream is the demo KooDrive every replica calls.
type fleetUpstream struct {
	*demo.Upstream
	url string
}

func startFleetUpstream(t *testing.T) *fleetUpstream {
	up := demo.New(demo.Options{Tokens: []string{demo.Token, fleetToken}})
	srv := httptest.NewServer(up)
	t.Cleanup(srv.Close)
	return &fleetUpstream{Upstream: up, url: srv.URL}
}

func (u *fleetUpstream) userCalls() int {
	n := 0
	for _, id := range u.UserIDs() {
		n += u.Path("/koodrive/ose/v1/users/" + id)
	}
	return n
}

func (u *fleetUpstream) header() http.Header {
	return http.Header{"Authorization": {"Bearer " + fleetToken}, "X-User-Id": {u.CallerID()}, "Content-Type": {"application/json"}}
}

// gql sends one GraphQL request (POST with body, or GET with params) and returns an
// error for anything but a 200 without errors. Safe from any goroutine.
func gql(client *http.Client, method, base string, body any, params url.Values, header http.Header) (map[string]any, error) {
	var req *http.Request
	if method == http.MethodGet {
		req, _ = http.NewRequest(method, base+"/query?"+params.Encode(), nil)
	} else {
		b, _ := json.Marshal(body)
		req, _ = http.NewRequest(method, base+"/query", bytes.NewReader(b))
	}
	req.Header = header.Clone()
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil || resp.StatusCode != 200 || out["errors"] != nil {
		return out, fmt.Errorf("status %d: %s", resp.StatusCode, raw)
	}
	return out, nil
}

func persisted(query string) map[string]any {
	sum := sha256.Sum256([]byte(query))
	return map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": hex.EncodeToString(sum[:])}}
}

func TestFleetSharesPersistedQueriesUsersAndHolds(t *testing.T) {
	up := startFleetUpstream(t)
	rs := startRedis(t)
	env := []string{"KOODRIVE_BASE_URL=" + up.url, "REDIS_URL=" + rs.url(), "USER_CACHE_TTL=1m"}
	replicas := []*replica{startReplica(t, env...), startReplica(t, env...), startReplica(t, env...)}
	client := newClient(t)
	h := up.header()

	// A hash registered through replica 1 is answered by 2 and 3, by hash alone.
	const viewer = `query Me { viewer { userId name } }`
	if _, err := gql(client, http.MethodPost, replicas[0].base(), map[string]any{"query": viewer, "extensions": persisted(viewer)}, nil, h); err != nil {
		t.Fatal(err)
	}
	ext, _ := json.Marshal(persisted(viewer))
	for _, r := range replicas[1:] {
		if _, err := gql(client, http.MethodGet, r.base(), nil, url.Values{"extensions": {string(ext)}}, h); err != nil {
			t.Fatalf("replica %s by hash: %v", r.port, err)
		}
	}

	// Owners cached through replica 1 cost replica 2 no GET /users.
	if _, err := gql(client, http.MethodPost, replicas[0].base(), map[string]any{"query": ownersQuery}, nil, h); err != nil {
		t.Fatal(err)
	}
	afterFirst := up.userCalls()
	if _, err := gql(client, http.MethodPost, replicas[1].base(), map[string]any{"query": ownersQuery}, nil, h); err != nil {
		t.Fatal(err)
	}
	if n := up.userCalls() - afterFirst; afterFirst < 10 || n != 0 {
		t.Fatalf("replica 2 made %d GET /users for owners replica 1 cached (%d)", n, afterFirst)
	}

	// A 429 seen by replica 1 holds replicas 2 and 3 until its Retry-After has passed.
	ids := up.UserIDs()
	limited, other := ids[len(ids)-1], ids[len(ids)-2]
	var refusedAt atomic.Int64
	var mu sync.Mutex
	var arrivals []time.Time
	up.Intercept(func(w http.ResponseWriter, r *http.Request) bool {
		if !strings.HasPrefix(r.URL.Path, "/koodrive/ose/v1/users/") {
			return false
		}
		mu.Lock()
		arrivals = append(arrivals, time.Now())
		mu.Unlock()
		if strings.HasSuffix(r.URL.Path, "/"+limited) && refusedAt.CompareAndSwap(0, time.Now().UnixMilli()) {
			w.Header().Set("Retry-After", "2")
			w.WriteHeader(http.StatusTooManyRequests)
			fmt.Fprint(w, `{"code":429,"msg":"too many requests"}`)
			return true
		}
		return false
	})
	// Another caller, so that no user cached above answers instead of KooDrive.
	h2 := http.Header{"Authorization": {demo.Authorization}, "X-User-Id": {up.CallerID()}, "Content-Type": {"application/json"}}
	first := make(chan error, 1)
	go func() {
		_, err := gql(client, http.MethodPost, replicas[0].base(), map[string]any{"query": fmt.Sprintf(`{ user(userId: %q) { name } }`, limited)}, nil, h2)
		first <- err
	}()
	waitFor(t, "replica 1 is answered 429", 10*time.Second, func() bool { return refusedAt.Load() != 0 })
	for _, r := range replicas[1:] {
		waitFor(t, "replica "+r.port+" learns the hold", 10*time.Second, func() bool {
			return strings.Contains(metricsOf(t, r), `koodrive_holds_total{endpoint="GetUser"} 1`)
		})
	}
	mu.Lock()
	before := len(arrivals)
	mu.Unlock()
	if _, err := gql(client, http.MethodPost, replicas[1].base(), map[string]any{"query": fmt.Sprintf(`{ user(userId: %q) { name } }`, other)}, nil, h2); err != nil {
		t.Fatalf("held call: %v", err)
	}
	if err := <-first; err != nil {
		t.Fatalf("replica 1 after its Retry-After: %v", err)
	}
	mu.Lock()
	held := arrivals[before:]
	mu.Unlock()
	holdEnds := time.UnixMilli(refusedAt.Load()).Add(2 * time.Second)
	for _, at := range held {
		if at.Before(holdEnds) {
			t.Fatalf("a GET /users reached KooDrive %v before the hold ended", holdEnds.Sub(at))
		}
	}

	// Nothing secret in Redis: no token, in any key or value.
	assertNoTokenInRedis(t, rs, fleetToken, demo.Token)
}

func metricsOf(t *testing.T, r *replica) string {
	t.Helper()
	resp, err := probe.Get(r.base() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// assertNoTokenInRedis scans every key and value in Redis for the tokens.
func assertNoTokenInRedis(t *testing.T, rs *redisServer, tokens ...string) {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + rs.port})
	defer rdb.Close()
	ctx := context.Background()
	keys, err := rdb.Keys(ctx, "*").Result()
	if err != nil || len(keys) == 0 {
		t.Fatalf("no keys to scan (%v)", err)
	}
	for _, k := range keys {
		v, err := rdb.Get(ctx, k).Result()
		if err != nil {
			t.Fatalf("key %s: %v (every key is a string)", k, err)
		}
		for _, token := range tokens {
			if strings.Contains(k, token) || strings.Contains(v, token) {
				t.Fatalf("Redis holds a token under %s", k)
			}
		}
	}
}

// load sends GraphQL requests to the bases in turn from workers until stop is closed,
// and counts what succeeded and what failed. Every other request registers a new
// persisted query, so Redis is used throughout (owners come from the local tier).
type load struct {
	ok, failed atomic.Int64
	mu         sync.Mutex
	firstErr   error
	wg         sync.WaitGroup
	stop       chan struct{}
}

func startLoad(client *http.Client, bases []string, workers int, header http.Header) *load {
	l := &load{stop: make(chan struct{})}
	for w := range workers {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			for i := w; ; i++ {
				select {
				case <-l.stop:
					return
				default:
				}
				body := map[string]any{"query": ownersQuery}
				if i%2 == 1 {
					q := fmt.Sprintf("{ w%dr%d: viewer { name } }", w, i)
					body = map[string]any{"query": q, "extensions": persisted(q)}
				}
				if _, err := gql(client, http.MethodPost, bases[(i/2)%len(bases)], body, nil, header); err != nil {
					l.failed.Add(1)
					l.mu.Lock()
					if l.firstErr == nil {
						l.firstErr = err
					}
					l.mu.Unlock()
					continue
				}
				l.ok.Add(1)
			}
		}()
	}
	return l
}

// finish stops the load and fails the test on any failed request.
func (l *load) finish(t *testing.T, atLeast int64) {
	t.Helper()
	close(l.stop)
	l.wg.Wait()
	if l.failed.Load() > 0 || l.ok.Load() < atLeast {
		t.Fatalf("%d requests failed, %d succeeded (want 0 and at least %d); first error: %v", l.failed.Load(), l.ok.Load(), atLeast, l.firstErr)
	}
	t.Logf("%d requests, none failed", l.ok.Load())
}

// waitRequests waits until the load has served n more requests.
func (l *load) waitRequests(t *testing.T, n int64) {
	t.Helper()
	target := l.ok.Load() + n
	waitFor(t, fmt.Sprintf("%d more requests", n), 30*time.Second, func() bool { return l.ok.Load() >= target })
}

func TestFleetSurvivesRedisStoppedAndStarted(t *testing.T) {
	up := startFleetUpstream(t)
	rs := startRedis(t)
	// Limits far above the load: with Redis away each replica's own buckets answer.
	env := []string{"KOODRIVE_BASE_URL=" + up.url, "REDIS_URL=" + rs.url(), "USER_CACHE_TTL=1m", "REDIS_TIMEOUT=50ms", "RATE_LIMIT=100000/m", "KOODRIVE_RATE_LIMIT=100000/s"}
	one, two := startReplica(t, env...), startReplica(t, env...)
	l := startLoad(newClient(t), []string{one.base(), two.base()}, 4, up.header())
	l.waitRequests(t, 20)
	rs.proc.stop(t)
	l.waitRequests(t, 50) // on local state alone
	for _, r := range []*replica{one, two} {
		if m := metricsOf(t, r); !strings.Contains(m, "fleet_redis_up 0") {
			t.Fatalf("replica %s does not report Redis down", r.port)
		}
		resp, err := probe.Get(r.base() + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("replica %s not ready while Redis is down", r.port)
		}
	}
	rs.start(t)
	l.waitRequests(t, 20)
	l.finish(t, 90)

	// Sharing resumes: a hash registered through one replica is answered by the other.
	const q = `query Again { viewer { name } }`
	h := up.header()
	client := newClient(t)
	ext, _ := json.Marshal(persisted(q))
	waitFor(t, "sharing resumes", 10*time.Second, func() bool {
		if _, err := gql(client, http.MethodPost, one.base(), map[string]any{"query": q, "extensions": persisted(q)}, nil, h); err != nil {
			return false
		}
		_, err := gql(client, http.MethodGet, two.base(), nil, url.Values{"extensions": {string(ext)}}, h)
		return err == nil
	})
	for _, r := range []*replica{one, two} {
		logs := r.proc.logs.String()
		if down, back := strings.Count(logs, "Redis is not answering"), strings.Count(logs, "Redis answers again"); down != 1 || back != 1 {
			t.Fatalf("replica %s logged %d down and %d back lines, want one each:\n%s", r.port, down, back, logs)
		}
	}
}

// haproxy is a load balancer in front of the replicas, with health checks on /readyz.
type haproxy struct {
	port, statsPort string
	proc            *process
}

func startHAProxy(t *testing.T, replicas []*replica) *haproxy {
	t.Helper()
	bin := requireCommand(t, "haproxy", "haproxy")
	h := &haproxy{port: freePort(t), statsPort: freePort(t)}
	var servers strings.Builder
	for i, r := range replicas {
		fmt.Fprintf(&servers, "  server r%d 127.0.0.1:%s check\n", i, r.port)
	}
	// One request per connection to a replica (http-server-close), so none is sent on a
	// connection the replica is closing; a refused connection is retried elsewhere.
	cfg := fmt.Sprintf(`global
  maxconn 512
defaults
  mode http
  timeout connect 1s
  timeout client 30s
  timeout server 30s
  retries 3
  option redispatch
  option http-server-close
frontend fe
  bind 127.0.0.1:%s
  default_backend replicas
backend replicas
  balance roundrobin
  option httpchk GET /readyz
  http-check expect status 200
  default-server inter 100ms fall 2 rise 2
%slisten stats
  bind 127.0.0.1:%s
  stats enable
  stats uri /stats
`, h.port, servers.String(), h.statsPort)
	path := t.TempDir() + "/haproxy.cfg"
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	h.proc = start(t, nil, bin, "-db", "-f", path)
	for i := range replicas {
		h.waitStatus(t, i, "UP")
	}
	return h
}

func (h *haproxy) base() string { return "http://127.0.0.1:" + h.port }

// waitStatus waits until haproxy's health checks put server i in status.
func (h *haproxy) waitStatus(t *testing.T, i int, status string) {
	t.Helper()
	name := fmt.Sprintf("r%d", i)
	waitFor(t, "haproxy sees "+name+" "+status, 20*time.Second, func() bool {
		resp, err := probe.Get("http://127.0.0.1:" + h.statsPort + "/stats;csv")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		lines := strings.Split(string(raw), "\n")
		header := strings.Split(strings.TrimPrefix(lines[0], "# "), ",")
		col := slices.Index(header, "status")
		for _, line := range lines[1:] {
			f := strings.Split(line, ",")
			if len(f) > col && col >= 0 && f[0] == "replicas" && f[1] == name {
				return f[col] == status
			}
		}
		return false
	})
}

// TestRollingRestartLosesNoRequest restarts every replica in turn behind haproxy under
// steady load: with SHUTDOWN_DELAY, each leaves the balancer before it stops taking
// connections, and no request fails.
func TestRollingRestartLosesNoRequest(t *testing.T) {
	up := startFleetUpstream(t)
	rs := startRedis(t)
	env := []string{"KOODRIVE_BASE_URL=" + up.url, "REDIS_URL=" + rs.url(), "USER_CACHE_TTL=1m", "SHUTDOWN_DELAY=1s", "SHUTDOWN_GRACE=10s"}
	replicas := []*replica{startReplica(t, env...), startReplica(t, env...), startReplica(t, env...)}
	lb := startHAProxy(t, replicas)
	l := startLoad(newClient(t), []string{lb.base()}, 6, up.header())
	l.waitRequests(t, 30)
	for i, r := range replicas {
		r.proc.stop(t)
		lb.waitStatus(t, i, "DOWN")
		l.waitRequests(t, 10) // served by the others
		r.start(t)
		lb.waitStatus(t, i, "UP")
		l.waitRequests(t, 10)
	}
	l.finish(t, 100)
}

// TestRateLimitsHoldAcrossTheFleet: one caller's RATE_LIMIT is one bucket for three
// replicas on Redis (its burst, not three), another caller has its own; and
// KOODRIVE_RATE_LIMIT bounds the calls all replicas make together.
func TestRateLimitsHoldAcrossTheFleet(t *testing.T) {
	up := startFleetUpstream(t)
	rs := startRedis(t)
	env := []string{"KOODRIVE_BASE_URL=" + up.url, "REDIS_URL=" + rs.url(), "RATE_LIMIT=12/h", "KOODRIVE_RATE_LIMIT=5/s", "REQUEST_TIMEOUT=2s"}
	replicas := []*replica{startReplica(t, env...), startReplica(t, env...), startReplica(t, env...)}
	client := newClient(t)

	// The caller's 12 calls an hour, spent through the three replicas in turn.
	h := up.header()
	served, refused := 0, 0
	for i := 0; refused == 0 && i < 200; i++ {
		out, err := gql(client, http.MethodPost, replicas[i%3].base(), map[string]any{"query": `{ viewer { name } }`}, nil, h)
		switch {
		case err == nil:
			served++
		case strings.HasPrefix(err.Error(), "status 429") && strings.Contains(err.Error(), "RATE_LIMITED"):
			refused++
		default:
			t.Fatalf("request %d: %v (%v)", i, err, out)
		}
	}
	if served != 12 || up.CallsFor(fleetToken) != 12 {
		t.Fatalf("%d requests served and %d KooDrive calls before the first 429; want the burst of 12 across the fleet", served, up.CallsFor(fleetToken))
	}
	other := http.Header{"Authorization": {demo.Authorization}, "X-User-Id": {up.CallerID()}, "Content-Type": {"application/json"}}
	if _, err := gql(client, http.MethodPost, replicas[0].base(), map[string]any{"query": `{ viewer { name } }`}, nil, other); err != nil {
		t.Fatalf("another caller: %v", err)
	}

	// KooDrive's 5 a second, for all replicas together: 30 requests for distinct users at
	// once; the calls arrive no faster than the bucket allows, the rest fail RATE_LIMITED.
	var mu sync.Mutex
	var arrivals []time.Time
	up.Intercept(func(http.ResponseWriter, *http.Request) bool {
		mu.Lock()
		arrivals = append(arrivals, time.Now())
		mu.Unlock()
		return false
	})
	ids := up.UserIDs()
	start := time.Now()
	var wg sync.WaitGroup
	var ok, limited, failed atomic.Int64
	for i := range 30 {
		wg.Go(func() {
			q := fmt.Sprintf(`{ user(userId: %q) { name } }`, ids[i])
			out, err := gql(client, http.MethodPost, replicas[i%3].base(), map[string]any{"query": q}, nil, other)
			switch {
			case err == nil:
				ok.Add(1)
			case strings.Contains(fmt.Sprint(out), "RATE_LIMITED"):
				limited.Add(1)
			default:
				failed.Add(1)
				t.Errorf("request %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	for k, at := range arrivals {
		// GCRA: the burst of 5, then one every 200 ms (a few ms for the clocks' reads).
		if allowed := 5 + int(at.Sub(start).Seconds()*5+0.05); k+1 > allowed {
			t.Fatalf("call %d reached KooDrive %v after the start, over 5/s for the fleet", k+1, at.Sub(start))
		}
	}
	if ok.Load() != int64(len(arrivals)) || ok.Load()+limited.Load() != 30 || limited.Load() == 0 {
		t.Fatalf("%d served, %d limited, %d failed, %d calls", ok.Load(), limited.Load(), failed.Load(), len(arrivals))
	}
}
