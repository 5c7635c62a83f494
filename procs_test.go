package main

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/koodrive/facade/koodrive/demo"
)

// Tests that start processes: the facade binary as replicas, redis-server, haproxy.
// Each waits on readiness, listens on free ports, and stops what it started.

// probe is for checks between steps (readiness, metrics): no connection outlives one.
var probe = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 10 * time.Second}

// newClient is an HTTP client whose pooled connections close with the test.
func newClient(t *testing.T) *http.Client {
	tr := &http.Transport{MaxIdleConnsPerHost: 16}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 20 * time.Second}
}

// requireCommand skips the test, or fails it in CI, when a program it starts is missing.
func requireCommand(t *testing.T, name, debianPackage string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("CI must run this test, but %s is missing (Debian package %s)", name, debianPackage)
	}
	t.Skipf("%s is missing (Debian package %s)", name, debianPackage)
	return ""
}

var facadeBinary struct {
	once sync.Once
	path string
	err  error
}

// buildFacade builds the facade binary once for the package's tests.
func buildFacade(t *testing.T) string {
	t.Helper()
	facadeBinary.once.Do(func() {
		dir, err := os.MkdirTemp("", "facade-test-")
		if err != nil {
			facadeBinary.err = err
			return
		}
		facadeBinary.path = filepath.Join(dir, "facade")
		if out, err := exec.Command("go", "build", "-o", facadeBinary.path, ".").CombinedOutput(); err != nil {
			facadeBinary.err = fmt.Errorf("build: %v\n%s", err, out)
		}
	})
	if facadeBinary.err != nil {
		t.Fatal(facadeBinary.err)
	}
	return facadeBinary.path
}

// process is a program the test started, with its output kept.
type process struct {
	cmd  *exec.Cmd
	logs *demo.LogBuffer
	done chan struct{}
}

func start(t *testing.T, env []string, name string, args ...string) *process {
	t.Helper()
	p := &process{cmd: exec.Command(name, args...), logs: &demo.LogBuffer{}, done: make(chan struct{})}
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(p.kill)
	return p
}

// stop sends SIGTERM and waits for the exit.
func (p *process) stop(t *testing.T) {
	t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		t.Fatalf("%s did not exit within 30 s of SIGTERM:\n%s", p.cmd.Path, p.logs)
	}
}

func (p *process) kill() {
	_ = p.cmd.Process.Kill()
	<-p.done
}

// waitFor polls cond until it holds; what says what for the failure.
func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("%s: not within %v", what, timeout)
}

// redisServer is a redis-server on a free port, with no persistence.
type redisServer struct {
	port string
	proc *process
}

func startRedis(t *testing.T) *redisServer {
	t.Helper()
	r := &redisServer{port: freePort(t)}
	r.start(t)
	return r
}

func (r *redisServer) url() string { return "redis://127.0.0.1:" + r.port + "/0" }

func (r *redisServer) start(t *testing.T) {
	t.Helper()
	bin := requireCommand(t, "redis-server", "redis-server")
	r.proc = start(t, nil, bin, "--port", r.port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no")
	waitFor(t, "redis-server answers PING", 10*time.Second, func() bool { return redisPing(r.port) })
}

func redisPing(port string) bool {
	c, err := net.DialTimeout("tcp", "127.0.0.1:"+port, 200*time.Millisecond)
	if err != nil {
		return false
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(500 * time.Millisecond))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return false
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return err == nil && strings.HasPrefix(line, "+PONG")
}

// replica is one facade process.
type replica struct {
	port string
	env  []string
	proc *process
}

func (r *replica) base() string { return "http://127.0.0.1:" + r.port }

// startReplica starts the facade on a free port with env, and waits until it is ready.
func startReplica(t *testing.T, env ...string) *replica {
	t.Helper()
	r := &replica{port: freePort(t), env: env}
	r.start(t)
	return r
}

func (r *replica) start(t *testing.T) {
	t.Helper()
	r.proc = start(t, append([]string{"PORT=" + r.port, "LOG_FORMAT=json"}, r.env...), buildFacade(t))
	waitFor(t, "replica on :"+r.port+" ready", 20*time.Second, func() bool {
		resp, err := probe.Get(r.base() + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
}
