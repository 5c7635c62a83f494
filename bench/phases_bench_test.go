package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/koodrive/facade/graph"
	"github.com/koodrive/facade/graph/gqlhttp"
	"github.com/koodrive/facade/koodrive"
	"github.com/koodrive/facade/koodrive/demo"
)

// replayTransport answers each upstream URL with what the demo KooDrive answered the
// first time it was asked, in process, after delay: no sockets and no upstream work per
// call, so a benchmark over it measures only the client's own CPU.
type replayTransport struct {
	up      *demo.Upstream
	delay   time.Duration
	mu      sync.Mutex
	answers map[string]*httptest.ResponseRecorder
}

func (t *replayTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		_ = req.Body.Close()
	}
	key := req.URL.RequestURI()
	t.mu.Lock()
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
	body := rec.Body.Bytes()
	return &http.Response{
		StatusCode: rec.Code, Status: http.StatusText(rec.Code), Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: rec.Header().Clone(), Body: io.NopCloser(bytes.NewReader(body)), ContentLength: int64(len(body)),
		Request: req,
	}, nil
}

// phaseTransport counts the upstream calls of one request and times its phases, to
// show where a latency gap sits: before the group page is answered, between that
// answer and the first owner call, and after the last answer until the response is
// written.
type phaseTransport struct {
	next http.RoundTripper

	mu     sync.Mutex
	calls  int
	phases requestPhases
}

type requestPhases struct {
	start, pageAnswered, firstOwnerAsked, lastAnswered time.Time
}

func (t *phaseTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	isUser := strings.HasPrefix(req.URL.Path, usersPath)
	t.mu.Lock()
	t.calls++
	if isUser && t.phases.firstOwnerAsked.IsZero() {
		t.phases.firstOwnerAsked = time.Now()
	}
	t.mu.Unlock()
	resp, err := t.next.RoundTrip(req)
	t.mu.Lock()
	t.phases.lastAnswered = time.Now()
	if !isUser {
		t.phases.pageAnswered = t.phases.lastAnswered
	}
	t.mu.Unlock()
	return resp, err
}

// BenchmarkPhasesUserGroups50 serves the load query one request at a time, facade and
// floor side by side, over three upstreams: replayed answers (only the servers' own CPU
// is measured), replayed answers after 1 ms, and the demo KooDrive on loopback at
// L = 20 ms, as in the latency runs. Besides ns/op, it reports the phases of a request
// (µs-to-page excludes the upstream's delay).
//
//	go test -run '^$' -bench Phases -benchmem -count 6 ./bench
func BenchmarkPhasesUserGroups50(b *testing.B) {
	up := demo.New(demo.Options{})
	slow := demo.New(demo.Options{Latency: 20 * time.Millisecond})
	slowSrv := httptest.NewServer(slow)
	defer slowSrv.Close()
	upstreams := []struct {
		name  string
		base  string
		delay time.Duration
		next  func() http.RoundTripper
	}{
		{"replay", "http://koodrive.replay", 0, func() http.RoundTripper {
			return &replayTransport{up: up, answers: map[string]*httptest.ResponseRecorder{}}
		}},
		{"replay-1ms", "http://koodrive.replay", time.Millisecond, func() http.RoundTripper {
			return &replayTransport{up: up, delay: time.Millisecond, answers: map[string]*httptest.ResponseRecorder{}}
		}},
		{"loopback-20ms", slowSrv.URL, 20 * time.Millisecond, func() http.RoundTripper { return newRest("").hc.Transport }},
	}
	servers := []struct {
		name    string
		handler func(b *testing.B, base string, t http.RoundTripper) http.Handler
	}{
		{"facade", func(b *testing.B, base string, t http.RoundTripper) http.Handler {
			kd, err := koodrive.New(base, koodrive.WithHTTPClient(&http.Client{Transport: t}))
			if err != nil {
				b.Fatal(err)
			}
			log := slog.New(slog.DiscardHandler)
			return gqlhttp.New(graph.New(kd, log, graph.Options{}), log, gqlhttp.Options{})
		}},
		{"facade-traced", func(b *testing.B, base string, t http.RoundTripper) http.Handler {
			// Every request traced, its spans exported over OTLP/HTTP to a sink.
			sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.Copy(io.Discard, r.Body) }))
			b.Cleanup(sink.Close)
			exp, err := otlptracehttp.New(b.Context(), otlptracehttp.WithEndpointURL(sink.URL+"/v1/traces"))
			if err != nil {
				b.Fatal(err)
			}
			tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp))
			b.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
			prop := propagation.TraceContext{}
			kd, err := koodrive.New(base, koodrive.WithHTTPClient(&http.Client{Transport: t}), koodrive.WithTracer(tp, prop))
			if err != nil {
				b.Fatal(err)
			}
			log := slog.New(slog.DiscardHandler)
			r := graph.New(kd, log, graph.Options{Tracer: tp.Tracer("graph")})
			return gqlhttp.New(r, log, gqlhttp.Options{Tracing: &gqlhttp.Tracing{Provider: tp, Propagator: prop}})
		}},
		{"floor", func(_ *testing.B, base string, t http.RoundTripper) http.Handler {
			return http.HandlerFunc((&rest{base: base, hc: &http.Client{Transport: t}}).serveFloor)
		}},
	}
	for _, u := range upstreams {
		for _, s := range servers {
			b.Run(u.name+"/"+s.name, func(b *testing.B) {
				inner := u.next()
				if tr, ok := inner.(*http.Transport); ok {
					defer tr.CloseIdleConnections()
				}
				t := &phaseTransport{next: inner}
				h := s.handler(b, u.base, t)
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
					before += p.pageAnswered.Sub(p.start) - u.delay
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
