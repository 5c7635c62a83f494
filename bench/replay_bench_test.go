package main

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/koodrive/facade/graph"
	"github.com/koodrive/facade/koodrive"
	"github.com/koodrive/facade/koodrive/demo"
)

// replayTransport answers each upstream URL with what the demo KooDrive answered the
// first time it was asked, in process, after delay: no sockets and no upstream work per
// call, so a benchmark over it measures only the client's own CPU. It also times the
// phases of one request, to show where a latency gap sits.
type replayTransport struct {
	up    *demo.Upstream
	delay time.Duration

	mu      sync.Mutex
	answers map[string]*httptest.ResponseRecorder
	calls   int
	phases  requestPhases
}

// requestPhases are the instants of one request that split its latency.
type requestPhases struct {
	start, pageAnswered, firstOwnerAsked, lastAnswered time.Time
}

func (t *replayTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		_ = req.Body.Close()
	}
	isUser := strings.HasPrefix(req.URL.Path, usersPath)
	key := req.URL.RequestURI()
	t.mu.Lock()
	t.calls++
	if isUser && t.phases.firstOwnerAsked.IsZero() {
		t.phases.firstOwnerAsked = time.Now()
	}
	rec, ok := t.answers[key]
	if !ok {
		rec = httptest.NewRecorder()
		t.up.ServeHTTP(rec, req)
		t.answers[key] = rec
	}
	t.mu.Unlock()
	if t.delay > 0 {
		time.Sleep(t.delay)
	}
	t.mu.Lock()
	t.phases.lastAnswered = time.Now()
	if !isUser {
		t.phases.pageAnswered = t.phases.lastAnswered
	}
	t.mu.Unlock()
	body := rec.Body.Bytes()
	return &http.Response{
		StatusCode: rec.Code, Status: http.StatusText(rec.Code), Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: rec.Header().Clone(), Body: io.NopCloser(bytes.NewReader(body)), ContentLength: int64(len(body)),
		Request: req,
	}, nil
}

// BenchmarkReplayUserGroups50 serves the load query one request at a time, facade and
// floor side by side, over replayed upstream answers: the difference in ns/op is the
// facade's own CPU on the request's path (gqlgen's execution, the adapter, the loader,
// JSON). With a delay per call, as at L > 0, the phase metrics say where it sits: before
// the group page is asked, between the page's answer and the first owner call, and after
// the last answer until the response is written.
//
//	go test -run '^$' -bench Replay -benchmem -count 6 ./bench
func BenchmarkReplayUserGroups50(b *testing.B) {
	up := demo.New(demo.Options{})
	const base = "http://koodrive.replay"
	servers := []struct {
		name    string
		handler func(b *testing.B, t *replayTransport) http.Handler
	}{
		{"facade", func(b *testing.B, t *replayTransport) http.Handler {
			kd, err := koodrive.New(base, koodrive.WithHTTPClient(&http.Client{Transport: t}))
			if err != nil {
				b.Fatal(err)
			}
			return graph.New(kd, slog.New(slog.DiscardHandler), graph.Options{}).NewHandler()
		}},
		{"floor", func(_ *testing.B, t *replayTransport) http.Handler {
			return http.HandlerFunc((&rest{base: base, hc: &http.Client{Transport: t}}).serveFloor)
		}},
	}
	for _, delay := range []time.Duration{0, time.Millisecond} {
		for _, s := range servers {
			b.Run("delay="+delay.String()+"/"+s.name, func(b *testing.B) {
				t := &replayTransport{up: up, delay: delay, answers: map[string]*httptest.ResponseRecorder{}}
				h := s.handler(b, t)
				var before, between, after time.Duration
				b.ReportAllocs()
				for b.Loop() {
					t.mu.Lock()
					t.calls, t.phases = 0, requestPhases{start: time.Now()}
					t.mu.Unlock()
					req := httptest.NewRequest(http.MethodPost, "/query", bytes.NewReader(loadBody))
					req.Header.Set("Content-Type", "application/json")
					req.Header.Set("Authorization", demo.Authorization)
					req.Header.Set("X-User-Id", up.CallerID())
					rec := httptest.NewRecorder()
					h.ServeHTTP(rec, req)
					end := time.Now()
					if rec.Code != http.StatusOK || bytes.Contains(rec.Body.Bytes(), []byte(`"errors"`)) || t.calls != 31 {
						b.Fatalf("request failed: %d, %d upstream calls: %s", rec.Code, t.calls, rec.Body.Bytes())
					}
					p := t.phases
					before += p.pageAnswered.Sub(p.start) - delay
					between += p.firstOwnerAsked.Sub(p.pageAnswered)
					after += end.Sub(p.lastAnswered)
				}
				n := float64(b.N)
				b.ReportMetric(float64(before.Microseconds())/n, "µs-to-page")
				b.ReportMetric(float64(between.Microseconds())/n, "µs-page-to-owners")
				b.ReportMetric(float64(after.Microseconds())/n, "µs-after-last-answer")
			})
		}
	}
}
