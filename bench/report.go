package main

import (
	"bytes"
	"fmt"
	"os"
	"runtime"
	"strings"
	"time"
)

type report struct {
	settings
	quick bool
	calls []callsRow
	lat   []latRow
	mems  []memRow
	fleet []fleetRow
	when  time.Time
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f", float64(d)/float64(time.Millisecond)) }

func msFine(d time.Duration) string {
	return fmt.Sprintf("%.3f", float64(d)/float64(time.Millisecond))
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "**no**"
}

func met(b bool) string {
	if b {
		return "**met**"
	}
	return "**not met**"
}

// row finds one measurement; the zero row when it was not run.
func (r report) row(L time.Duration, clients int, target string) latRow {
	for _, x := range r.lat {
		if x.L == L && x.clients == clients && x.target == target {
			return x
		}
	}
	return latRow{}
}

func cpuModel() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	for line := range strings.SplitSeq(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}

func writeReport(path string, r report) error {
	var b bytes.Buffer
	p := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	mode := "full"
	if r.quick {
		mode = "quick (smoke run: too short to read much into)"
	}
	p("# Facade benchmark results\n")
	p("Written by `go run ./bench` on %s UTC: %s run, %d CPUs (%s), %s/%s, %s.",
		r.when.Format("2006-01-02 15:04"), mode, runtime.NumCPU(), cpuModel(), runtime.GOOS, runtime.GOARCH, runtime.Version())
	p("The machine is shared: the load generator, the demo KooDrive, the facade and the floor all run on it, so absolute numbers move between runs; the side-by-side comparisons are what to read.\n")

	if len(r.calls) > 0 {
		writeCalls(p, r)
	}
	if len(r.lat) > 0 {
		writeLatency(p, r)
		writeThroughput(p, r)
		writeMemory(p, r)
	}
	if len(r.fleet) > 0 {
		writeFleet(p, r.fleet)
	}
	writeMethod(p, r)
	return os.WriteFile(path, b.Bytes(), 0o644)
}

func writeCalls(p func(string, ...any), r report) {
	p("## 1. Upstream calls per operation\n")
	p("One GraphQL request at a time, in-process (`gqlhttp.New(graph.New(...), ...)` on httptest, demo KooDrive on httptest), %d runs each; calls counted by the demo KooDrive. "+
		"The lower bound is the group pages a minimal client following `nextCursor` needs (asking for no more than still needed, as the facade does), plus each distinct user read once (owners, and the viewer). "+
		"Naive is the same facade with `graph.Options{NaiveUserFetch: true}` and `koodrive.WithoutCoalescing()`: one `GET /users` per user field.\n", r.callRuns)
	p("| Operation | facade: pages + users | facade calls | lower bound: pages + users | bound | naive calls | naive / facade | pages = minimal client's | same groups | errors |")
	p("|---|---:|---:|---:|---:|---:|---:|:-:|:-:|---:|")
	for _, c := range r.calls {
		facade := c.pages + c.users
		spread := func(lo, hi int64) string {
			if lo == hi {
				return ""
			}
			return fmt.Sprintf(" (%d–%d)", lo, hi)
		}
		ratio := "–"
		if facade > 0 {
			ratio = fmt.Sprintf("%.1f×", c.naive/facade)
		}
		p("| %s | %.4g + %.4g | %.4g%s | %d + %d | %d | %.4g%s | %s | %s | %s | %d |", c.name, c.pages, c.users, facade, spread(c.minCalls, c.maxCalls),
			c.boundPages, c.boundUsers, c.boundPages+c.boundUsers, c.naive, spread(c.naiveMin, c.naiveMax), ratio, yesNo(c.pagesMatch), yesNo(c.groupsMatch), c.errors)
	}
	p("")
}

func writeLatency(p func(string, ...any), r report) {
	p("## 2. Latency of `userGroups(first: 50)` with owners\n")
	p("```graphql\n%s\n```\n", loadQuery)
	p("Closed-loop clients over loopback HTTP/1.1 keep-alive; the facade is the real binary, the floor a plain Go server making the same REST calls (one group page, then every distinct owner at once, then `json.Marshal`). " +
		"L is the latency the demo KooDrive adds to every call, so one request costs at least 2 × L (the group page, then the owners). " +
		"Latencies are of successful requests; errors (transport errors, non-200, or a body with GraphQL errors) are counted apart. CPU is utime+stime of the server's process over the measurement, per request.\n")
	p("| L | clients | server | requests | errors | p50 ms | p95 ms | p99 ms | mean ms | req/s | server CPU ms/req | upstream calls/req |")
	p("|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, x := range r.lat {
		p("| %v | %d | %s | %d | %d | %s | %s | %s | %s | %.0f | %s | %.2f |", fmtL(x.L), x.clients, x.target, x.run.requests, x.run.errors,
			ms(x.st.p50), ms(x.st.p95), ms(x.st.p99), ms(x.st.mean), x.rps, msFine(x.cpuPerReq), x.upCallsPerReq)
	}
	p("\nFacade minus floor:\n")
	p("| L | clients | Δ p50 ms | Δ p95 ms | Δ p99 ms | facade / floor throughput |")
	p("|---:|---:|---:|---:|---:|---:|")
	for _, L := range r.latencies {
		for _, c := range r.clients {
			f, fl := r.row(L, c, facadeName), r.row(L, c, floorName)
			p("| %v | %d | %+.2f | %+.2f | %+.2f | %.2f |", fmtL(L), c, delta(f.st.p50, fl.st.p50), delta(f.st.p95, fl.st.p95), delta(f.st.p99, fl.st.p99), f.rps/max(fl.rps, 1e-9))
		}
	}
	f, fl := r.row(20*time.Millisecond, 1, facadeName), r.row(20*time.Millisecond, 1, floorName)
	if f.run.requests == 0 || fl.run.requests == 0 {
		p("\nTarget: facade p50 within 1 ms of the floor's at L = 20 ms with 1 client: not measured in this run (see `-latencies`, `-clients`).\n")
	} else {
		d := delta(f.st.p50, fl.st.p50)
		p("\nTarget: facade p50 within 1 ms of the floor's at L = 20 ms with 1 client: Δ p50 = %+.2f ms, %s.\n", d, met(d <= 1))
	}
	p("![p50 latency against injected upstream latency, 1 client](latency.svg)\n")
}

func writeThroughput(p func(string, ...any), r report) {
	f, fl := r.row(0, 16, facadeName), r.row(0, 16, floorName)
	p("## 3. Throughput and CPU at L = 0, 16 clients\n")
	if f.run.requests == 0 || fl.run.requests == 0 {
		p("Not measured in this run (see `-latencies`, `-clients`).\n")
		return
	}
	p("The same measurements as the L = 0, 16-client rows above. CPU per request is utime+stime from `/proc/<pid>/stat` (10 ms ticks) over the measured windows, divided by the requests served.\n")
	p("| server | req/s | errors | server CPU ms/req | upstream CPU ms/req | load generator CPU ms/req | upstream calls/req |")
	p("|---|---:|---:|---:|---:|---:|---:|")
	for _, x := range []latRow{f, fl, r.row(0, 16, sharedName), r.row(0, 16, tracedName)} {
		if x.target == "" {
			continue
		}
		p("| %s | %.0f | %d | %s | %s | %s | %.2f |", x.target, x.rps, x.run.errors, msFine(x.cpuPerReq), msFine(x.upCPUPerReq), msFine(x.genCPUPerReq), x.upCallsPerReq)
	}
	ratio := f.rps / max(fl.rps, 1e-9)
	p("\nThroughput facade / floor = **%.2f** (target ≥ 0.65: %s). Server CPU per request facade / floor = **%.1f×**.", ratio, met(ratio >= 0.65), float64(f.cpuPerReq)/max(float64(fl.cpuPerReq), 1))
	if tr := r.row(0, 16, tracedName); tr.run.requests > 0 {
		cost := float64(tr.cpuPerReq)/max(float64(f.cpuPerReq), 1) - 1
		p("Tracing every request (OTLP/HTTP to a sink) costs **%+.0f %%** CPU per request (target ≤ +10 %%: %s).", 100*cost, met(cost <= 0.10))
	}
	p("On 2 cores the four processes compete for CPU, so the throughput ratio also carries the upstream's and the load generator's share of it; the server CPU per request is each server's own cost. " +
		"The upstream's CPU per request includes its fixed background work divided by the requests served, so it reads a little higher next to the slower server.\n")
}

func writeMemory(p func(string, ...any), r report) {
	p("## 4. Memory and goroutines of the facade process\n")
	p("A fresh facade process per L (the upstream latency is fixed per process). Goroutines from its `/metrics` (`go_goroutines`): cold, before any request; at the end of the load (1 then 16 clients), with connection pools still open; "+
		"and after a settle: the load generator closes its keep-alive connections and the upstream closes its idle ones (which ends the facade's pooled connections, two goroutines each), then the count is read until it is back within %d of cold or %v pass. "+
		"Peak RSS is `VmHWM` from `/proc/<pid>/status` after the load.\n", goroutineSlack, r.settleMax)
	p("| L | goroutines cold | at end of load | after settle | returned to baseline | settle wait | facade peak RSS MiB | floor peak RSS MiB | same answer as floor |")
	p("|---:|---:|---:|---:|:-:|---:|---:|---:|:-:|")
	for _, m := range r.mems {
		p("| %v | %d | %d | %d | %s | %.1f s | %.1f | %.1f | %s |", fmtL(m.L), m.cold, m.loaded, m.settled, yesNo(m.returned), m.settleWait.Seconds(),
			float64(m.facadeHWM)/1024, float64(m.floorHWM)/1024, yesNo(m.sameAnswer))
	}
	p("")
}

func writeMethod(p func(string, ...any), r report) {
	p("## Method\n")
	p("- Processes: the demo KooDrive (`demo.New(demo.Options{Latency: L})`) and the floor are this program re-executed in hidden modes; the facade is built with `go build` from the module root and started with `KOODRIVE_BASE_URL` set to the upstream, `PORT` on a free port and `LOG_FORMAT=json` to a temp file. All traffic is on 127.0.0.1 (the facade itself binds `:PORT`, all interfaces, as `PORT` is a port only). The facade runs with its own default garbage-collector target (`GOGC` unset, so 400, set in server.go: less CPU per request for tens of MiB of RSS); the floor with Go's default of 100.")
	p("- Each server at each setting: %v (%v with one client, which makes far fewer requests) in %d rounds, the servers taking turns (facade, floor, then floor, facade, …), each round after a %v warm-up at the same concurrency; the rounds' latencies are pooled. Each client loop stops at its deadline or after %d requests.", r.duration, r.window(1), r.rounds, r.warmup, maxPerClient)
	p("- The load generator is a Go `http.Client` (64 idle connections per host, compression off so the facade's gzip middleware does not answer a different body than the floor); both servers answer the same JSON (checked once per process pair, table 4).")
	p("- The floor sends what KooDrive needs (Authorization, X-User-Id, X-Date `yyyyMMdd'T'HHmmss'Z'` UTC, Host, Accept) over a pooled transport (1,024 idle connections per host, so that, having no concurrency cap, it never reconnects); it does no GraphQL, no retries, no breaker, no logging and no metrics.")
	p("- Every client is the same demo user with a token of its own, so the facade's coalescing of identical in-flight GETs (keyed by credentials) cannot share calls between clients and both servers make the same 31 upstream calls per request. The rows *%s* send one token from all clients, as one user's many tabs would: there coalescing shares upstream calls between requests (see upstream calls/req).", sharedName)
	p("- Percentiles are nearest-rank over all samples; with 1 client at L = 20 ms there are only a few hundred samples per server, so p99 is close to the maximum.")
	p("- CPU per request at 1 client includes the Go runtime's idle work between requests (scheduler spinning, GC, timers), so it is higher than under load; compare it between the servers, not across rows.")
}

func delta(a, b time.Duration) float64 { return float64(a-b) / float64(time.Millisecond) }

func fmtL(L time.Duration) string { return fmt.Sprintf("%g ms", float64(L)/float64(time.Millisecond)) }

// chartPoints are the 1-client p50s the SVG draws.
func (r report) chartPoints() []chartPoint {
	var pts []chartPoint
	for _, L := range r.latencies {
		f, fl := r.row(L, 1, facadeName), r.row(L, 1, floorName)
		pts = append(pts, chartPoint{L: float64(L) / float64(time.Millisecond), facade: float64(f.st.p50) / 1e6, floor: float64(fl.st.p50) / 1e6})
	}
	return pts
}
