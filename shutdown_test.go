package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/koodrive/facade/koodrive/demo"
)

// TestSIGTERMLetsInFlightRequestsFinish runs the real binary: a slow request in flight
// when SIGTERM arrives completes with its data, and the process then exits 0.
func TestSIGTERMLetsInFlightRequestsFinish(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "facade")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	up := demo.New(demo.Options{})
	var slowCalls atomic.Int64
	up.Intercept(func(w http.ResponseWriter, r *http.Request) bool {
		slowCalls.Add(1)
		time.Sleep(time.Second) // the request is in flight when SIGTERM arrives
		return false
	})
	kd := httptest.NewServer(up)
	defer kd.Close()

	port := freePort(t)
	cmd := exec.Command(bin)
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	cmd.Env = append(os.Environ(), "PORT="+port, "KOODRIVE_BASE_URL="+kd.URL, "SHUTDOWN_GRACE=10s")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	base := "http://127.0.0.1:" + port
	waitReady(t, base)

	type result struct {
		status int
		body   string
		err    error
	}
	done := make(chan result, 1)
	go func() {
		body, _ := json.Marshal(map[string]string{"query": `{ viewer { userId name } }`})
		req, _ := http.NewRequest(http.MethodPost, base+"/query", bytes.NewReader(body))
		req.Header = http.Header{"Content-Type": {"application/json"}, "Authorization": {demo.Authorization}, "X-User-Id": {up.CallerID()}}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			done <- result{err: err}
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		done <- result{status: resp.StatusCode, body: string(b)}
	}()
	for slowCalls.Load() == 0 {
		time.Sleep(5 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	r := <-done
	want := fmt.Sprintf(`{"data":{"viewer":{"userId":%q,"name":"Sam Tan"}}}`, up.CallerID())
	if r.err != nil || r.status != 200 || r.body != want {
		t.Fatalf("in-flight request: %+v\nlogs:\n%s", r, logs.String())
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit: %v\nlogs:\n%s", err, logs.String())
	}
	if !bytes.Contains(logs.Bytes(), []byte("shut down cleanly")) {
		t.Fatalf("logs:\n%s", logs.String())
	}
}

func freePort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port
}

func waitReady(t *testing.T, base string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if resp, err := http.Get(base + "/"); err == nil {
			resp.Body.Close()
			return
		}
	}
	t.Fatal("server not ready within 10s")
}
