package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/koodrive/facade/koodrive/demo"
)

// loadQuery is the one operation the latency and throughput runs send; the floor answers
// exactly this.
const loadQuery = `{ userGroups(first: 50) { edges { node { groupId name owner { userId name } } } } }`

// maxPerClient bounds a client's loop in count, whatever the duration.
const maxPerClient = 1_000_000

var loadBody = []byte(`{"query":"` + loadQuery + `"}`)

func newLoadClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 256
	t.MaxIdleConnsPerHost = 64
	// No Accept-Encoding: the facade would gzip (compress.go) and the floor would not, and
	// the comparison is of the work behind the answer, not of compression.
	t.DisableCompression = true
	return &http.Client{Transport: t, Timeout: 20 * time.Second}
}

// post sends a GraphQL request body for who; ok is false on a transport error, a
// non-200, or a body with GraphQL errors.
func post(ctx context.Context, hc *http.Client, url string, who caller, reqBody []byte) (body []byte, ok bool) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(reqBody))
	if err != nil {
		return nil, false
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", who.auth)
	req.Header.Set("X-User-Id", who.userID)
	resp, err := hc.Do(req)
	if err != nil {
		return nil, false
	}
	defer resp.Body.Close()
	body, err = io.ReadAll(resp.Body)
	ok = err == nil && resp.StatusCode == http.StatusOK && len(body) > 0 && !bytes.Contains(body, []byte(`"errors"`))
	return body, ok
}

type loadRun struct {
	latencies []time.Duration
	requests  int
	errors    int
	elapsed   time.Duration
}

// demoCaller is the demo user with the demo token.
func demoCaller(userID string) caller { return caller{auth: demo.Authorization, userID: userID} }

// runClosedLoop runs clients that each send the next request when the last one is
// answered, for d (and at most maxPerClient requests each), to the urls in turn. Each
// client has a token of its own for the same demo user, unless shared.
func runClosedLoop(ctx context.Context, hc *http.Client, urls []string, callerID string, clients int, d time.Duration, shared bool) loadRun {
	ctx, cancel := context.WithTimeout(ctx, d+30*time.Second)
	defer cancel()
	deadline := time.Now().Add(d)
	per := make([]loadRun, clients)
	start := time.Now()
	var wg sync.WaitGroup
	for c := range clients {
		wg.Go(func() {
			r := &per[c]
			who := demoCaller(callerID)
			if !shared {
				who.auth = "Bearer " + clientToken(c)
			}
			for i := 0; i < maxPerClient && time.Now().Before(deadline) && ctx.Err() == nil; i++ {
				t0 := time.Now()
				_, ok := post(ctx, hc, urls[(c+i)%len(urls)], who, loadBody)
				r.requests++
				if !ok {
					r.errors++
					continue // a failed answer's latency says nothing about serving one
				}
				r.latencies = append(r.latencies, time.Since(t0))
			}
		})
	}
	wg.Wait()
	out := loadRun{elapsed: time.Since(start)}
	for _, r := range per {
		out.latencies = append(out.latencies, r.latencies...)
		out.requests += r.requests
		out.errors += r.errors
	}
	return out
}

func (a *loadRun) merge(b loadRun) {
	a.latencies = append(a.latencies, b.latencies...)
	a.requests += b.requests
	a.errors += b.errors
	a.elapsed += b.elapsed
}

// percentile is the nearest-rank percentile of sorted latencies.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*p+0.999999) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

type latencyStats struct{ p50, p95, p99, mean time.Duration }

func stats(lat []time.Duration) latencyStats {
	s := slices.Clone(lat)
	slices.Sort(s)
	var sum time.Duration
	for _, d := range s {
		sum += d
	}
	st := latencyStats{p50: percentile(s, 0.50), p95: percentile(s, 0.95), p99: percentile(s, 0.99)}
	if len(s) > 0 {
		st.mean = sum / time.Duration(len(s))
	}
	return st
}
