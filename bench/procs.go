package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// proc is a server the bench started: the upstream, the floor, or the facade binary.
type proc struct {
	name string
	cmd  *exec.Cmd
	addr string // loopback host:port
	done chan struct{}
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

func (p *proc) url(path string) string { return "http://" + p.addr + path }

// childAttr kills a child when the bench dies, so no server outlives a crashed run.
func childAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} }

func (p *proc) start(logTo io.Writer) error {
	p.cmd.SysProcAttr = childAttr()
	p.cmd.Stderr = logTo
	if err := p.cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", p.name, err)
	}
	p.done = make(chan struct{})
	go func() { _ = p.cmd.Wait(); close(p.done) }()
	return nil
}

// startSelf re-execs the bench binary in a hidden server mode; the child prints its
// address as its first line, and is ready once health answers 200.
func startSelf(name, health string, logTo io.Writer, args ...string) (*proc, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	p := &proc{name: name, cmd: exec.Command(exe, args...)}
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := p.start(logTo); err != nil {
		return nil, err
	}
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(stdout).ReadString('\n')
		line <- strings.TrimSpace(s)
		_, _ = io.Copy(io.Discard, stdout)
	}()
	select {
	case p.addr = <-line:
	case <-time.After(15 * time.Second):
	}
	if host, _, err := net.SplitHostPort(p.addr); err != nil || !net.ParseIP(host).IsLoopback() {
		p.stop()
		return nil, fmt.Errorf("%s did not report a loopback address (got %q)", name, p.addr)
	}
	return p, waitHealthy(p, health)
}

// startFacade runs the real facade binary against upstream, on a free loopback port,
// with env added to its environment.
func startFacade(bin, upstream string, logTo io.Writer, env ...string) (*proc, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	p := &proc{name: "facade", cmd: exec.Command(bin), addr: "127.0.0.1:" + strconv.Itoa(port)}
	p.cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"),
		"KOODRIVE_BASE_URL=" + upstream,
		"PORT=" + strconv.Itoa(port),
		"LOG_FORMAT=json",
		"SHUTDOWN_GRACE=2s",
	}
	p.cmd.Env = append(p.cmd.Env, env...)
	p.cmd.Stdout = logTo
	if err := p.start(logTo); err != nil {
		return nil, err
	}
	return p, waitHealthy(p, "/healthz")
}

func waitHealthy(p *proc, path string) error {
	hc := &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	for range 150 {
		select {
		case <-p.done:
			return fmt.Errorf("%s exited during start-up (see its log)", p.name)
		default:
		}
		if resp, err := hc.Get(p.url(path)); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	p.stop()
	return fmt.Errorf("%s not healthy within 15s", p.name)
}

// stop asks for a graceful exit, then kills.
func (p *proc) stop() {
	if p == nil || p.cmd.Process == nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// clockTicks is USER_HZ, which Linux fixes at 100 for /proc on every architecture Go
// supports.
const clockTicks = 100

// cpuSeconds is utime+stime of pid ("self" for the bench) from /proc/<pid>/stat.
func cpuSeconds(pid string) (float64, error) {
	b, err := os.ReadFile(filepath.Join("/proc", pid, "stat"))
	if err != nil {
		return 0, err
	}
	// The command name may contain spaces and parentheses; fields resume after the last ')'.
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(fields) < 13 {
		return 0, errors.New("short /proc stat")
	}
	utime, err1 := strconv.ParseFloat(fields[11], 64)
	stime, err2 := strconv.ParseFloat(fields[12], 64)
	if err1 != nil || err2 != nil {
		return 0, errors.New("bad /proc stat")
	}
	return (utime + stime) / clockTicks, nil
}

// statusKB reads a kB field such as VmHWM from /proc/<pid>/status.
func statusKB(pid int, field string) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
		}
	}
	return 0, fmt.Errorf("no %s in /proc/%d/status", field, pid)
}

// goroutines reads go_goroutines from the facade's /metrics, on a connection of its own
// that closes, so the reading does not keep a server goroutine alive.
func goroutines(p *proc) (int, error) {
	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := hc.Get(p.url("/metrics"))
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "go_goroutines "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return int(f), err
		}
	}
	return 0, errors.New("no go_goroutines in /metrics")
}

// upstreamCalls reads the upstream subprocess's counters: all calls and group pages.
func upstreamCalls(ctx context.Context, up *proc) (calls, pages int64, err error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, up.url(ctlCalls), nil)
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	_, err = fmt.Fscan(resp.Body, &calls, &pages)
	return calls, pages, err
}

func dropUpstreamIdle(ctx context.Context, up *proc) error {
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, up.url(ctlDropIdle), nil)
	resp, err := (&http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}).Do(req)
	if err != nil {
		return err
	}
	return resp.Body.Close()
}

// buildFacade builds the facade binary from the module root into dir.
func buildFacade(ctx context.Context, root, dir string) (string, error) {
	bin := filepath.Join(dir, "facade")
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, ".")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build facade: %v\n%s", err, out)
	}
	return bin, nil
}
