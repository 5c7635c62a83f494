package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// The fleet section: one replica and three, with each replica's state in process and
// with the fleet's on Redis, all with USER_CACHE_TTL, at one upstream latency. It
// measures what a fleet is for (upstream calls to serve every replica and caller) and
// what Redis costs on the hot path (p50 beside the in-process build, in the same rounds).

// fleetL is the upstream latency of the fleet section: the target's setting.
const fleetL = 20 * time.Millisecond

// fleetConfig is one way of running the facade.
type fleetConfig struct {
	name     string
	replicas []*proc
	redis    bool
}

// fleetRow is one configuration at one load.
type fleetRow struct {
	config, load string
	coldCalls    int64 // upstream calls to serve the load query once per replica and caller
	callsPerReq  float64
	st           latencyStats
	requests     int
	errors       int
}

// fleetLoad is how many clients, on how many callers' credentials.
type fleetLoad struct {
	name    string
	clients int
	shared  bool // every client on one caller's credentials
}

var fleetLoads = []fleetLoad{{"1 client", 1, true}, {"16 clients, one caller", 16, true}, {"16 clients, 16 callers", 16, false}}

// measureFleet starts a redis-server and the four configurations against one upstream,
// then measures each load in rounds that alternate the configurations.
func measureFleet(ctx context.Context, s settings, bin, callerID string, logs io.Writer, maxLife time.Duration) ([]fleetRow, error) {
	redisBin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, errors.New("redis-server is not installed (Debian package redis-server); -fleet=false skips this section")
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	rds := &proc{name: "redis", cmd: exec.Command(redisBin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"), addr: "127.0.0.1:" + strconv.Itoa(port)}
	if err := rds.start(logs); err != nil {
		return nil, err
	}
	defer rds.stop()
	if err := waitRedis(rds.addr); err != nil {
		return nil, err
	}
	up, err := startSelf("upstream", ctlCalls, logs, "-upstream-server", "-latency="+fleetL.String(), "-max-life="+maxLife.String())
	if err != nil {
		return nil, err
	}
	defer up.stop()

	redisURL := func(prefix string) []string {
		return []string{"REDIS_URL=redis://" + rds.addr + "/0", "REDIS_PREFIX=" + prefix}
	}
	specs := []struct {
		name     string
		replicas int
		env      []string
	}{
		{"1 replica, in process", 1, nil},
		{"1 replica, Redis", 1, redisURL("one:")},
		{"3 replicas, in process", 3, nil},
		{"3 replicas, Redis", 3, redisURL("three:")},
	}
	var configs []*fleetConfig
	defer func() {
		for _, c := range configs {
			for _, p := range c.replicas {
				p.stop()
			}
		}
	}()
	for _, sp := range specs {
		c := &fleetConfig{name: sp.name, redis: sp.env != nil}
		configs = append(configs, c)
		for range sp.replicas {
			p, err := startFacade(bin, up.url(""), logs, append([]string{"USER_CACHE_TTL=10m"}, sp.env...)...)
			if err != nil {
				return nil, err
			}
			c.replicas = append(c.replicas, p)
		}
	}

	hc := newLoadClient()
	defer hc.CloseIdleConnections()
	var rows []fleetRow
	for _, ld := range fleetLoads {
		n := len(configs)
		out := make([]fleetRow, n)
		calls := make([]int64, n)
		samples := make([][]time.Duration, n)
		for i, c := range configs {
			out[i] = fleetRow{config: c.name, load: ld.name}
			// Cold: each replica serves each caller once, in turn.
			c0, _, err := upstreamCalls(ctx, up)
			if err != nil {
				return nil, err
			}
			for _, p := range c.replicas {
				if err := serveEachCaller(ctx, hc, p.url("/query"), callerID, ld); err != nil {
					return nil, fmt.Errorf("%s: %w", c.name, err)
				}
			}
			c1, _, err := upstreamCalls(ctx, up)
			if err != nil {
				return nil, err
			}
			out[i].coldCalls = c1 - c0
		}
		window := s.window(ld.clients) / time.Duration(s.rounds)
		for round := range s.rounds {
			for k := range n {
				i := k
				if round%2 == 1 {
					i = n - 1 - k
				}
				urls := replicaURLs(configs[i])
				runClosedLoop(ctx, hc, urls, callerID, ld.clients, s.warmup/2, ld.shared)
				c0, _, err := upstreamCalls(ctx, up)
				if err != nil {
					return nil, err
				}
				run := runClosedLoop(ctx, hc, urls, callerID, ld.clients, window, ld.shared)
				c1, _, err := upstreamCalls(ctx, up)
				if err != nil {
					return nil, err
				}
				out[i].requests += run.requests
				out[i].errors += run.errors
				samples[i] = append(samples[i], run.latencies...)
				calls[i] += c1 - c0
			}
		}
		for i := range out {
			out[i].callsPerReq = float64(calls[i]) / float64(max(out[i].requests, 1))
			out[i].st = stats(samples[i])
		}
		fmt.Printf("  fleet, %s: p50 %s\n", ld.name, fleetSummary(out))
		rows = append(rows, out...)
	}
	return rows, nil
}

// serveEachCaller sends the load query once for each of the load's callers.
func serveEachCaller(ctx context.Context, hc *http.Client, url, callerID string, ld fleetLoad) error {
	callers := 1
	if !ld.shared {
		callers = ld.clients
	}
	for c := range callers {
		who := demoCaller(callerID)
		if !ld.shared {
			who.auth = "Bearer " + clientToken(c)
		}
		if _, ok := post(ctx, hc, url, who, loadBody); !ok {
			return errors.New("the load query failed")
		}
	}
	return nil
}

func replicaURLs(c *fleetConfig) []string {
	var urls []string
	for _, p := range c.replicas {
		urls = append(urls, p.url("/query"))
	}
	return urls
}

func fleetSummary(rows []fleetRow) string {
	var parts []string
	for _, r := range rows {
		parts = append(parts, fmt.Sprintf("%s %s ms", r.config, ms(r.st.p50)))
	}
	return strings.Join(parts, ", ")
}

// waitRedis waits until redis-server answers PING.
func waitRedis(addr string) error {
	for range 100 {
		if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
			_ = c.SetDeadline(time.Now().Add(time.Second))
			_, _ = c.Write([]byte("PING\r\n"))
			line, _ := bufio.NewReader(c).ReadString('\n')
			c.Close()
			if strings.HasPrefix(line, "+PONG") {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return errors.New("redis-server did not answer PING within 10s")
}

// writeFleet writes the fleet section of RESULTS.md.
func writeFleet(p func(string, ...any), rows []fleetRow) {
	p("## 5. A fleet on Redis\n")
	p("The same load query at L = %s, every replica with `USER_CACHE_TTL=10m`, against one upstream process: one replica and three (the load spread over them in turn), each replica's state in process, or the fleet's shared on one local `redis-server` (`REDIS_URL`; each configuration with a `REDIS_PREFIX` of its own). *Cold calls* are the upstream calls to serve the load query once per replica and caller before that load is measured (the caches are fresh for the first load; later loads find what the earlier ones cached); the rest is measured after that, in rounds that alternate the configurations.\n", fmtL(fleetL))
	p("| load | configuration | cold calls | upstream calls/req | requests | errors | p50 ms | p99 ms |\n|---|---|---:|---:|---:|---:|---:|---:|")
	for _, r := range rows {
		p("| %s | %s | %d | %.2f | %d | %d | %s | %s |", r.load, r.config, r.coldCalls, r.callsPerReq, r.requests, r.errors, ms(r.st.p50), ms(r.st.p99))
	}
	for _, r := range rows {
		if r.load != fleetLoads[0].name || r.config != "1 replica, Redis" {
			continue
		}
		for _, base := range rows {
			if base.load == r.load && base.config == "1 replica, in process" {
				d := delta(r.st.p50, base.st.p50)
				p("\nTarget: p50 with Redis within 0.3 ms of the in-process build at L = %s, 1 client: Δ p50 = %+.2f ms, %s.", fmtL(fleetL), d, met(d <= 0.3))
			}
		}
	}
	p("")
}
