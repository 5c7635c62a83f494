package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"reflect"
	"strconv"
	"time"
)

// settings of one run, from the flags.
type settings struct {
	quick                       bool
	compareBin                  string // another facade binary measured alongside, for A/B of a change
	fleet, fleetOnly            bool   // the fleet section; only it
	traced                      bool   // also the facade tracing every request
	duration, warmup, settleMax time.Duration
	latencies                   []time.Duration
	clients                     []int
	callRuns                    int
	rounds                      int // per server and setting, alternating the order
}

// soloFactor lengthens the one-client measurements: at L = 20 ms one client makes only
// ~22 requests a second, and the p50 of a few hundred wanders by tenths of a millisecond.
const soloFactor = 3

// window is how long each server is measured at one setting.
func (s settings) window(clients int) time.Duration {
	if clients == 1 {
		return soloFactor * s.duration
	}
	return s.duration
}

// latRow is one server at one upstream latency and client count.
type latRow struct {
	L             time.Duration
	clients       int
	target        string
	run           loadRun
	st            latencyStats
	rps           float64
	cpuPerReq     time.Duration // the server process's utime+stime per request
	upCPUPerReq   time.Duration
	genCPUPerReq  time.Duration // the bench process, i.e. the load generator
	upCallsPerReq float64
}

// memRow is what the facade process at one upstream latency held.
type memRow struct {
	L                     time.Duration
	cold, loaded, settled int
	returned              bool
	facadeHWM, floorHWM   int64 // kB
	sameAnswer            bool
	settleWait            time.Duration
}

// trio is the upstream, the floor and the facade, each a process of its own.
type trio struct {
	up, floor, facade *proc
	compare           *proc        // the -compare build, when given
	traced            *proc        // the facade tracing every request, with -traced
	sink              *http.Server // where the traced facade exports its spans
}

func startTrio(L time.Duration, facadeBin, compareBin string, traced bool, logs io.Writer, maxLife time.Duration) (*trio, error) {
	t := &trio{}
	var err error
	life := "-max-life=" + maxLife.String()
	if t.up, err = startSelf("upstream", ctlCalls, logs, "-upstream-server", "-latency="+L.String(), life); err != nil {
		return nil, err
	}
	if t.floor, err = startSelf("floor", "/healthz", logs, "-floor-server", "-upstream="+t.up.url(""), life); err != nil {
		t.stop()
		return nil, err
	}
	if t.facade, err = startFacade(facadeBin, t.up.url(""), logs); err != nil {
		t.stop()
		return nil, err
	}
	if compareBin != "" {
		if t.compare, err = startFacade(compareBin, t.up.url(""), logs); err != nil {
			t.stop()
			return nil, err
		}
	}
	if traced {
		var sinkURL string
		if t.sink, sinkURL, err = startSpanSink(); err != nil {
			t.stop()
			return nil, err
		}
		if t.traced, err = startFacade(facadeBin, t.up.url(""), logs, "OTEL_EXPORTER_OTLP_ENDPOINT="+sinkURL, "OTEL_TRACES_SAMPLER=always_on"); err != nil {
			t.stop()
			return nil, err
		}
	}
	return t, nil
}

// startSpanSink is an OTLP/HTTP endpoint that takes spans and drops them: what a
// collector costs the facade is the export, not the collector's work.
func startSpanSink() (*http.Server, string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", err
	}
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/x-protobuf")
		w.WriteHeader(http.StatusOK) // an empty ExportTraceServiceResponse
	})}
	go func() { _ = srv.Serve(ln) }()
	return srv, "http://" + ln.Addr().String(), nil
}

func (t *trio) stop() {
	for _, p := range []*proc{t.traced, t.compare, t.facade, t.floor, t.up} {
		if p != nil {
			p.stop()
		}
	}
	if t.sink != nil {
		_ = t.sink.Close()
	}
}

// measureServers runs, for each upstream latency, a fresh trio under each client count.
func measureServers(ctx context.Context, s settings, facadeBin, callerID string, logs io.Writer, maxLife time.Duration) ([]latRow, []memRow, error) {
	hc := newLoadClient()
	defer hc.CloseIdleConnections()
	var rows []latRow
	var mems []memRow
	for _, L := range s.latencies {
		t, err := startTrio(L, facadeBin, s.compareBin, s.traced, logs, maxLife)
		if err != nil {
			return nil, nil, err
		}
		mem, lat, err := measureTrio(ctx, s, t, hc, L, callerID)
		t.stop()
		if err != nil {
			return nil, nil, err
		}
		rows = append(rows, lat...)
		mems = append(mems, mem)
		fmt.Printf("  L=%v done: facade goroutines %d cold, %d after load, %d settled\n", L, mem.cold, mem.loaded, mem.settled)
	}
	return rows, mems, nil
}

func measureTrio(ctx context.Context, s settings, t *trio, hc *http.Client, L time.Duration, callerID string) (memRow, []latRow, error) {
	mem := memRow{L: L}
	var err error
	if mem.cold, err = goroutines(t.facade); err != nil {
		return mem, nil, err
	}
	mem.sameAnswer = sameAnswer(ctx, hc, t, callerID)
	var rows []latRow
	for _, clients := range s.clients {
		pair, err := measurePair(ctx, s, t, hc, L, clients, callerID)
		if err != nil {
			return mem, nil, err
		}
		rows = append(rows, pair...)
		fmt.Printf("  L=%v clients=%d: facade p50 %v, floor p50 %v", L, clients, pair[0].st.p50.Round(10*time.Microsecond), pair[1].st.p50.Round(10*time.Microsecond))
		if last := pair[len(pair)-1]; last.target == compareName {
			fmt.Printf(", -compare p50 %v", last.st.p50.Round(10*time.Microsecond))
		}
		fmt.Println()
	}
	if mem.loaded, err = goroutines(t.facade); err != nil {
		return mem, nil, err
	}
	// Close both ends' idle connections, then wait for the count to come back down.
	hc.CloseIdleConnections()
	if err := dropUpstreamIdle(ctx, t.up); err != nil {
		return mem, nil, err
	}
	start := time.Now()
	for time.Sleep(300 * time.Millisecond); ; time.Sleep(200 * time.Millisecond) {
		if mem.settled, err = goroutines(t.facade); err != nil {
			return mem, nil, err
		}
		mem.returned = mem.settled <= mem.cold+goroutineSlack
		if mem.returned || time.Since(start) > s.settleMax {
			break
		}
	}
	mem.settleWait = time.Since(start)
	mem.facadeHWM, _ = statusKB(t.facade.pid(), "VmHWM")
	mem.floorHWM, _ = statusKB(t.floor.pid(), "VmHWM")
	return mem, rows, nil
}

// goroutineSlack allows for the scrape's own connection being torn down as it is read.
const goroutineSlack = 2

// Server labels in the tables.
const (
	facadeName  = "facade"
	floorName   = "floor"
	sharedName  = "facade, one shared caller"
	compareName = "facade built by -compare"
	tracedName  = "facade, tracing every request"
)

// measurePair measures the facade and the floor (and, with several clients, the facade
// with every client on one caller's credentials, where coalescing shares calls) in
// rounds, every other one in reverse order, so drift of the shared machine falls on all
// alike.
func measurePair(ctx context.Context, s settings, t *trio, hc *http.Client, L time.Duration, clients int, callerID string) ([]latRow, error) {
	type target struct {
		name   string
		p      *proc
		shared bool
	}
	targets := []target{{facadeName, t.facade, false}, {floorName, t.floor, false}}
	if clients > 1 {
		targets = append(targets, target{sharedName, t.facade, true})
	}
	if t.compare != nil {
		targets = append(targets, target{compareName, t.compare, false})
	}
	if t.traced != nil {
		targets = append(targets, target{tracedName, t.traced, false})
	}
	n := len(targets)
	rows := make([]latRow, n)
	cpu, upCPU, genCPU, upCalls := make([]float64, n), make([]float64, n), make([]float64, n), make([]int64, n)
	var order []int
	for round := range s.rounds {
		for i := range n {
			if round%2 == 1 {
				i = n - 1 - i
			}
			order = append(order, i)
		}
	}
	for _, i := range order {
		tg := targets[i]
		urls := []string{tg.p.url("/query")}
		runClosedLoop(ctx, hc, urls, callerID, clients, s.warmup, tg.shared)
		c0, u0, g0 := snapshotCPU(tg.p, t.up)
		calls0, _, err := upstreamCalls(ctx, t.up)
		if err != nil {
			return nil, err
		}
		run := runClosedLoop(ctx, hc, urls, callerID, clients, s.window(clients)/time.Duration(s.rounds), tg.shared)
		c1, u1, g1 := snapshotCPU(tg.p, t.up)
		calls1, _, err := upstreamCalls(ctx, t.up)
		if err != nil {
			return nil, err
		}
		rows[i].run.merge(run)
		cpu[i] += c1 - c0
		upCPU[i] += u1 - u0
		genCPU[i] += g1 - g0
		upCalls[i] += calls1 - calls0
	}
	for i := range rows {
		r := &rows[i]
		r.L, r.clients, r.target = L, clients, targets[i].name
		r.st = stats(r.run.latencies)
		n := float64(max(r.run.requests, 1))
		r.rps = float64(r.run.requests) / r.run.elapsed.Seconds()
		r.cpuPerReq = secondsPer(cpu[i], n)
		r.upCPUPerReq = secondsPer(upCPU[i], n)
		r.genCPUPerReq = secondsPer(genCPU[i], n)
		r.upCallsPerReq = float64(upCalls[i]) / n
		r.run.latencies = nil // the stats are kept; the samples would only hold memory
	}
	return rows, nil
}

func secondsPer(total, n float64) time.Duration {
	return time.Duration(total / n * float64(time.Second))
}

func snapshotCPU(server, up *proc) (srv, upstream, self float64) {
	srv, _ = cpuSeconds(strconv.Itoa(server.pid()))
	upstream, _ = cpuSeconds(strconv.Itoa(up.pid()))
	self, _ = cpuSeconds("self")
	return srv, upstream, self
}

// sameAnswer checks that the facade and the floor return the same data for the load
// query, so the two are doing the same job.
func sameAnswer(ctx context.Context, hc *http.Client, t *trio, callerID string) bool {
	var answers [2]any
	for i, p := range []*proc{t.facade, t.floor} {
		body, ok := post(ctx, hc, p.url("/query"), demoCaller(callerID), loadBody)
		if !ok || json.Unmarshal(body, &answers[i]) != nil {
			return false
		}
	}
	return reflect.DeepEqual(answers[0], answers[1])
}
