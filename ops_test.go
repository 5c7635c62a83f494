package main

import (
	"compress/gzip"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

func get(t *testing.T, url string, header http.Header) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultTransport.RoundTrip(req) // no transparent gunzip
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestHealthReadinessAndMetrics(t *testing.T) {
	base := startServer(t, nil)
	if resp, _ := get(t, base+"/healthz", nil); resp.StatusCode != 200 {
		t.Fatalf("/healthz: %d", resp.StatusCode)
	}
	if resp, _ := get(t, base+"/readyz", nil); resp.StatusCode != 200 {
		t.Fatalf("/readyz: %d", resp.StatusCode)
	}
	postQuery(t, base, `query Page { userGroups(first: 30) { nodes { owner { name } } } }`, nil)
	postQuery(t, base, `{ nope }`, nil)
	_, metrics := get(t, base+"/metrics", nil)
	for _, want := range []string{
		`graphql_requests_total{operation="Page",outcome="ok"} 1`,
		`graphql_requests_total{operation="anonymous",outcome="error"} 1`,
		`graphql_errors_total{code="GRAPHQL_VALIDATION_FAILED"} 1`,
		`graphql_request_duration_seconds_count{operation="Page"} 1`,
		`koodrive_calls_total{endpoint="GetUser",status="200"}`,
		`koodrive_calls_total{endpoint="ListUserGroups",status="200"}`,
		`koodrive_call_duration_seconds_count{endpoint="GetUser"}`,
		`user_loader_batch_size_count`,
		`koodrive_breaker_state{endpoint="GetUser"} 0`,
		`http_requests_in_flight 1`, // this scrape
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	// The demo KooDrive shares our clock: its whole-second Date puts the estimate up to
	// about a second under zero.
	m := regexp.MustCompile(`(?m)^koodrive_clock_offset_seconds (\S+)$`).FindStringSubmatch(metrics)
	if m == nil {
		t.Fatal("/metrics lacks koodrive_clock_offset_seconds")
	}
	if offset, err := strconv.ParseFloat(m[1], 64); err != nil || offset > 0.01 || offset < -2 {
		t.Errorf("/metrics koodrive_clock_offset_seconds = %q, want within 2 s under 0", m[1])
	}
}

func TestClockRetriesAreCounted(t *testing.T) {
	m := newMetrics(func() float64 { return 0 })
	m.ClockRetry("GetUser")
	m.ClockOffset(-90 * time.Second)
	rec := httptest.NewRecorder()
	m.handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	for _, want := range []string{`koodrive_clock_retries_total{endpoint="GetUser"} 1`, `koodrive_clock_offset_seconds -90`} {
		if !strings.Contains(rec.Body.String(), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

func TestReadinessFollowsUpstreamReachability(t *testing.T) {
	gone := httptest.NewServer(http.NotFoundHandler())
	gone.Close() // nothing answers there any more
	base := startServer(t, func(c *config) { c.KooDriveBaseURL = gone.URL; c.UnreachableAfter = time.Millisecond })
	if resp, _ := get(t, base+"/readyz", nil); resp.StatusCode != 200 {
		t.Fatalf("/readyz before any failure: %d", resp.StatusCode)
	}
	h := http.Header{"Authorization": {"Bearer x"}, "X-User-Id": {"1"}}
	_, out := postQuery(t, base, `{ viewer { userId } }`, h)
	if len(out.Errors) != 1 || out.Errors[0].Extensions["code"] != "UPSTREAM_ERROR" {
		t.Fatalf("query against an unreachable upstream: %+v", out)
	}
	time.Sleep(5 * time.Millisecond)
	if resp, body := get(t, base+"/readyz", nil); resp.StatusCode != 503 || !strings.Contains(body, "unreachable") {
		t.Fatalf("/readyz with KooDrive unreachable: %d %s", resp.StatusCode, body)
	}
}

func TestMetricsOnTheirOwnAddress(t *testing.T) {
	addr := "127.0.0.1:" + freePort(t)
	base := startServer(t, func(c *config) { c.MetricsAddr = addr })
	if resp, _ := get(t, base+"/metrics", nil); resp.StatusCode != 404 {
		t.Fatalf("/metrics on the main port: %d", resp.StatusCode)
	}
	if resp, body := get(t, "http://"+addr+"/metrics", nil); resp.StatusCode != 200 || !strings.Contains(body, "koodrive_breaker_state") {
		t.Fatalf("/metrics on METRICS_ADDR: %d", resp.StatusCode)
	}
}

func TestGzip(t *testing.T) {
	base := startServer(t, nil)
	resp, body := get(t, base+"/query?query="+strings.ReplaceAll(`{userGroups(first:50){nodes{name}}}`, " ", ""), http.Header{"Accept-Encoding": {"gzip"}})
	if resp.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("no gzip: %v", resp.Header)
	}
	zr, err := gzip.NewReader(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := io.ReadAll(zr)
	if !strings.Contains(string(plain), `"userGroups"`) || len(plain) <= len(body) {
		t.Fatalf("gzip body: %d bytes from %d: %.80s", len(body), len(plain), plain)
	}
	if resp, _ := get(t, base+"/static/vendor/graphiql.min.js", http.Header{"Accept-Encoding": {"gzip"}}); resp.Header.Get("Content-Encoding") != "gzip" {
		t.Fatal("GraphiQL assets not compressed")
	}
	// gzip and ETag together: the compressed answer keeps the validator, and revalidates.
	tag := resp.Header.Get("ETag")
	vary := strings.Join(resp.Header.Values("Vary"), ",")
	if tag == "" || !strings.Contains(vary, "Accept-Encoding") || !strings.Contains(vary, "Authorization") {
		t.Fatalf("gzipped GET answer: %v", resp.Header)
	}
	again, body := get(t, base+"/query?query="+strings.ReplaceAll(`{userGroups(first:50){nodes{name}}}`, " ", ""), http.Header{"Accept-Encoding": {"gzip"}, "If-None-Match": {tag}})
	if again.StatusCode != http.StatusNotModified || body != "" {
		t.Fatalf("revalidation through gzip: %d, %d bytes", again.StatusCode, len(body))
	}
}

func TestNotReadyWhileShuttingDown(t *testing.T) {
	cfg, _ := parseConfig(nil, func(string) string { return "" })
	cfg.Port, cfg.ShutdownDelay = "0", 300*time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- run(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), ready) }()
	base := "http://" + strings.Replace(<-ready, "[::]", "127.0.0.1", 1)
	if resp, _ := get(t, base+"/readyz", nil); resp.StatusCode != 200 {
		t.Fatalf("/readyz before shutdown: %d", resp.StatusCode)
	}
	cancel()
	time.Sleep(50 * time.Millisecond) // within the shutdown delay
	if resp, _ := get(t, base+"/readyz", nil); resp.StatusCode != 503 {
		t.Fatalf("/readyz while shutting down: %d", resp.StatusCode)
	}
	if resp, _ := get(t, base+"/healthz", nil); resp.StatusCode != 200 {
		t.Fatalf("/healthz while shutting down: %d", resp.StatusCode)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
