// Command bench measures the facade against the cost floor of the same answer: upstream
// calls per operation, latency at injected upstream latencies, throughput, CPU, memory
// and goroutines; and a fleet of replicas with and without Redis. It writes RESULTS.md
// and latency.svg.
//
//	go run ./bench              # full run, about 10 minutes
//	go run ./bench -quick       # smoke run
//	go run ./bench -fleet-only  # the fleet section alone
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/koodrive/facade/koodrive/demo"
)

func main() {
	quick := flag.Bool("quick", false, "short measurements, for a smoke run")
	out := flag.String("out", "", "directory for RESULTS.md and latency.svg (default: bench/ of the module)")
	duration := flag.Duration("duration", 10*time.Second, "length of each measurement of one server at one setting (split in rounds that alternate the servers)")
	latencies := flag.String("latencies", "0ms,5ms,20ms", "upstream latencies L to measure at, comma-separated")
	clients := flag.String("clients", "1,16", "numbers of concurrent clients to measure with, comma-separated")
	fleet := flag.Bool("fleet", true, "also measure a fleet at L = 20ms: 1 and 3 replicas, state in process and on Redis (needs redis-server)")
	fleetOnly := flag.Bool("fleet-only", false, "measure the fleet section only")
	traced := flag.Bool("traced", false, "also measure the facade tracing every request (OTEL_TRACES_SAMPLER=always_on) into an OTLP/HTTP sink")
	compare := flag.String("compare", "", "path of another facade binary (go build -o) to measure alongside, in the same rounds: A/B of a change")
	// Hidden modes: the bench re-executes itself as the upstream and the floor.
	upstreamMode := flag.Bool("upstream-server", false, "")
	floorMode := flag.Bool("floor-server", false, "")
	latency := flag.Duration("latency", 0, "")
	upstreamURL := flag.String("upstream", "", "")
	maxLife := flag.Duration("max-life", time.Hour, "")
	flag.Parse()

	var err error
	switch {
	case *upstreamMode:
		err = runUpstreamServer(*latency, *maxLife)
	case *floorMode:
		err = runFloorServer(*upstreamURL, *maxLife)
	default:
		explicit := false
		flag.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "duration" })
		var s settings
		if s, err = newSettings(*quick, explicit, *duration, *latencies, *clients); err == nil {
			s.compareBin = *compare
			s.fleet, s.fleetOnly, s.traced = *fleet || *fleetOnly, *fleetOnly, *traced
			err = runBench(s, *out)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// newSettings checks the flags; latencies and clients are comma-separated lists.
func newSettings(quick, explicitDuration bool, duration time.Duration, latencies, clients string) (settings, error) {
	if quick && !explicitDuration {
		duration = time.Second
	}
	if duration < 100*time.Millisecond || duration > 10*time.Minute {
		return settings{}, fmt.Errorf("-duration must be between 100ms and 10m")
	}
	s := settings{
		quick: quick, duration: duration, warmup: min(500*time.Millisecond, duration/10), settleMax: 5 * time.Second,
		callRuns: 5, rounds: 4,
	}
	if quick {
		s.callRuns, s.rounds = 2, 2
	}
	for _, f := range strings.Split(latencies, ",") {
		L, err := time.ParseDuration(strings.TrimSpace(f))
		if err != nil || L < 0 || L > time.Second {
			return settings{}, fmt.Errorf("-latencies: %q is not a duration between 0 and 1s", f)
		}
		s.latencies = append(s.latencies, L)
	}
	for _, f := range strings.Split(clients, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || n > 256 {
			return settings{}, fmt.Errorf("-clients: %q is not a number between 1 and 256", f)
		}
		s.clients = append(s.clients, n)
	}
	return s, nil
}

func runBench(s settings, out string) error {
	duration, quick := s.duration, s.quick
	// Everything the run does fits well within this; it is a backstop, not a budget.
	budget := 30*time.Duration(len(s.latencies)*len(s.clients))*soloFactor*duration/6 + 15*time.Minute
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, budget)
	defer cancel()

	root, err := moduleRoot()
	if err != nil {
		return err
	}
	if out == "" {
		out = filepath.Join(root, "bench")
	}
	tmp, err := os.MkdirTemp("", "facade-bench-")
	if err != nil {
		return err
	}
	logs, err := os.Create(filepath.Join(tmp, "servers.log"))
	if err != nil {
		return err
	}
	defer logs.Close()

	r := report{settings: s, quick: quick, when: time.Now().UTC()}
	if !s.fleetOnly {
		fmt.Println("upstream calls per operation (in-process)")
		if r.calls, err = measureCalls(ctx, s.callRuns); err != nil {
			return fmt.Errorf("upstream calls: %w", err)
		}
	}
	fmt.Println("building the facade binary")
	bin, err := buildFacade(ctx, root, tmp)
	if err != nil {
		return err
	}
	callerID := demo.New(demo.Options{}).CallerID()
	if !s.fleetOnly {
		fmt.Printf("latency, throughput, CPU, memory (%v per server and setting; logs in %s)\n", duration, logs.Name())
		if r.lat, r.mems, err = measureServers(ctx, s, bin, callerID, logs, budget); err != nil {
			return fmt.Errorf("servers: %w (logs kept in %s)", err, tmp)
		}
	}
	if s.fleet {
		fmt.Printf("a fleet on Redis (logs in %s)\n", logs.Name())
		if r.fleet, err = measureFleet(ctx, s, bin, callerID, logs, budget); err != nil {
			return fmt.Errorf("fleet: %w (logs kept in %s)", err, tmp)
		}
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	if err := writeReport(filepath.Join(out, "RESULTS.md"), r); err != nil {
		return err
	}
	if len(r.lat) > 0 {
		if err := writeLatencySVG(filepath.Join(out, "latency.svg"), r.chartPoints()); err != nil {
			return err
		}
	}
	fmt.Printf("wrote %s\n", filepath.Join(out, "RESULTS.md"))
	_ = logs.Close()
	return os.RemoveAll(tmp)
}

// moduleRoot is the facade's module directory, where `go build .` makes the binary.
func moduleRoot() (string, error) {
	b, err := exec.Command("go", "env", "GOMOD").Output()
	gomod := strings.TrimSpace(string(b))
	if err != nil || gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("run the bench inside the facade module (go env GOMOD: %q)", gomod)
	}
	return filepath.Dir(gomod), nil
}
