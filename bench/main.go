// Command bench measures the facade against the cost floor of the same answer: upstream
// calls per operation, latency at injected upstream latencies, throughput, CPU, memory
// and goroutines. It writes RESULTS.md and latency.svg.
//
//	go run ./bench          # full run, a few minutes
//	go run ./bench -quick   # smoke run
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/koodrive/facade/koodrive/demo"
)

func main() {
	quick := flag.Bool("quick", false, "short measurements, for a smoke run")
	out := flag.String("out", "", "directory for RESULTS.md and latency.svg (default: bench/ of the module)")
	duration := flag.Duration("duration", 10*time.Second, "length of each measurement of one server at one setting (split in two rounds)")
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
		err = runBench(*quick, explicit, *duration, *out)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func runBench(quick, explicitDuration bool, duration time.Duration, out string) error {
	if quick && !explicitDuration {
		duration = time.Second
	}
	if duration < 100*time.Millisecond || duration > 10*time.Minute {
		return fmt.Errorf("-duration must be between 100ms and 10m")
	}
	s := settings{
		duration: duration, warmup: min(500*time.Millisecond, duration/10), settleMax: 5 * time.Second,
		latencies: []time.Duration{0, 5 * time.Millisecond, 20 * time.Millisecond},
		clients:   []int{1, 16}, callRuns: 5, rounds: 4,
	}
	if quick {
		s.callRuns, s.rounds = 2, 2
	}
	// Everything the run does fits well within this; it is a backstop, not a budget.
	budget := 30*duration + 15*time.Minute
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

	fmt.Println("1/3 upstream calls per operation (in-process)")
	calls, err := measureCalls(ctx, s.callRuns)
	if err != nil {
		return fmt.Errorf("upstream calls: %w", err)
	}
	fmt.Println("2/3 building the facade binary")
	bin, err := buildFacade(ctx, root, tmp)
	if err != nil {
		return err
	}
	fmt.Printf("3/3 latency, throughput, CPU, memory (%v per server and setting; logs in %s)\n", duration, logs.Name())
	callerID := demo.New(demo.Options{}).CallerID()
	lat, mems, err := measureServers(ctx, s, bin, callerID, logs, budget)
	if err != nil {
		return fmt.Errorf("servers: %w (logs kept in %s)", err, tmp)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	r := report{settings: s, quick: quick, calls: calls, lat: lat, mems: mems, when: time.Now().UTC()}
	if err := writeReport(filepath.Join(out, "RESULTS.md"), r); err != nil {
		return err
	}
	if err := writeLatencySVG(filepath.Join(out, "latency.svg"), r.chartPoints()); err != nil {
		return err
	}
	fmt.Printf("wrote %s and %s\n", filepath.Join(out, "RESULTS.md"), filepath.Join(out, "latency.svg"))
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
