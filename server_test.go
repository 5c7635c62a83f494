package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"log/slog"
	"maps"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/koodrive/facade/fleet"
	"github.com/koodrive/facade/koodrive/demo"
)

// startServer runs the real server on a free port until the test ends.
func startServer(t *testing.T, configure func(*config)) string {
	t.Helper()
	base, _ := startServerWithLogs(t, configure)
	return base
}

// startServerWithLogs is startServer, with the server's logs.
func startServerWithLogs(t *testing.T, configure func(*config)) (string, *demo.LogBuffer) {
	t.Helper()
	cfg, err := parseConfig(nil, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	cfg.Port, cfg.ShutdownGrace = "0", 5*time.Second
	if configure != nil {
		configure(&cfg)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	logs := &demo.LogBuffer{}
	go func() { done <- run(ctx, cfg, slog.New(slog.NewJSONHandler(logs, nil)), ready) }()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("server did not start: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("shutdown: %v", err)
		}
		assertNoSecrets(t, logs.String())
	})
	return "http://" + strings.Replace(addr, "[::]", "127.0.0.1", 1), logs
}

// assertNoSecrets fails when a full run's logs hold a token, a mobile number or a
// credential header.
func assertNoSecrets(t *testing.T, logs string) {
	t.Helper()
	if !strings.Contains(logs, `"msg":"graphql request"`) && !strings.Contains(logs, "serving") {
		t.Fatalf("no logs captured:\n%s", logs)
	}
	secrets := append([]string{demo.Token, "Bearer", "stolen-token"}, demo.New(demo.Options{}).Mobiles()...)
	for _, s := range secrets {
		if strings.Contains(logs, s) {
			t.Errorf("logs hold %q:\n%s", s, logs)
		}
	}
}

type gqlResponse struct {
	Data   map[string]any
	Errors []struct {
		Message    string
		Extensions map[string]any
	}
}

func postQuery(t *testing.T, base, query string, header http.Header) (*http.Response, gqlResponse) {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"query": query})
	req, _ := http.NewRequest(http.MethodPost, base+"/query", bytes.NewReader(body))
	req.Header = header.Clone()
	if req.Header == nil {
		req.Header = http.Header{}
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out gqlResponse
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("decode: %v", err)
	}
	return resp, out
}

func TestDemoModeEndToEnd(t *testing.T) {
	base := startServer(t, nil)

	// GraphQL over POST, without credentials: the demo caller.
	resp, out := postQuery(t, base, `{ viewer { userId name } userGroups(first: 3) { totalCount edges { node { name owner { name } } } } }`, nil)
	if resp.StatusCode != 200 || len(out.Errors) > 0 || out.Data["viewer"] == nil {
		t.Fatalf("status %d: %+v", resp.StatusCode, out)
	}
	if groups := out.Data["userGroups"].(map[string]any); groups["totalCount"].(float64) < 100 || len(groups["edges"].([]any)) != 3 {
		t.Fatalf("userGroups: %+v", groups)
	}
	if len(resp.Header.Get("X-Traceid")) == 0 {
		t.Fatal("no X-Traceid response header")
	}

	// GraphQL over GET.
	get, err := http.Get(base + "/query?query=" + url.QueryEscape(`{ viewer { userId } }`))
	if err != nil || get.StatusCode != 200 {
		t.Fatalf("GET /query: %v %v", err, get.Status)
	}
	get.Body.Close()

	// GraphiQL, with the demo credentials prefilled, and its assets from this server.
	page, err := http.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	html, _ := io.ReadAll(page.Body)
	page.Body.Close()
	if page.StatusCode != 200 || !bytes.Contains(html, []byte(demo.Token)) || !bytes.Contains(html, []byte("/static/vendor/graphiql.min.js")) {
		t.Fatalf("GraphiQL page: %d\n%s", page.StatusCode, html)
	}
	asset, err := http.Get(base + "/static/vendor/graphiql.min.js")
	if err != nil || asset.StatusCode != 200 {
		t.Fatalf("asset: %v %v", err, asset.Status)
	}
	asset.Body.Close()
}

func TestRealUpstreamRequiresCredentials(t *testing.T) {
	up := demo.New(demo.Options{})
	kd := httptest.NewServer(up)
	defer kd.Close()
	base := startServer(t, func(c *config) { c.KooDriveBaseURL = kd.URL })

	page, _ := http.Get(base + "/")
	html, _ := io.ReadAll(page.Body)
	page.Body.Close()
	if bytes.Contains(html, []byte(demo.Token)) {
		t.Fatal("demo credentials prefilled against a real upstream")
	}
	_, out := postQuery(t, base, `{ viewer { userId } }`, nil)
	if len(out.Errors) != 1 || out.Errors[0].Extensions["code"] != "UNAUTHENTICATED" || up.Calls() != 0 {
		t.Fatalf("without credentials: %+v, %d upstream calls", out, up.Calls())
	}
	h := http.Header{"Authorization": {demo.Authorization}, "X-User-Id": {up.CallerID()}, "X-Traceid": {"e2e-trace-1"}}
	resp, out := postQuery(t, base, `{ viewer { userId } }`, h)
	if len(out.Errors) != 0 || resp.Header.Get("X-Traceid") != "e2e-trace-1" || up.TraceIDs()["e2e-trace-1"] != 1 {
		t.Fatalf("with credentials: %+v, trace header %q", out, resp.Header.Get("X-Traceid"))
	}
}

func TestCORS(t *testing.T) {
	base := startServer(t, func(c *config) { c.CORSAllowedOrigins = []string{"https://app.example.com"} })
	preflight := func(origin string) *http.Response {
		req, _ := http.NewRequest(http.MethodOptions, base+"/query", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "authorization,content-type,language,x-traceid,x-user-id")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	ok := preflight("https://app.example.com")
	if ok.Header.Get("Access-Control-Allow-Origin") != "https://app.example.com" ||
		!strings.Contains(strings.ToLower(ok.Header.Get("Access-Control-Allow-Headers")), "x-user-id") {
		t.Fatalf("allowed origin preflight: %v", ok.Header)
	}
	if bad := preflight("https://evil.example.com"); bad.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("other origin allowed: %v", bad.Header)
	}
	resp, _ := postQuery(t, base, `{ viewer { userId } }`, http.Header{"Origin": {"https://app.example.com"}})
	if !strings.Contains(resp.Header.Get("Access-Control-Expose-Headers"), "X-Traceid") {
		t.Fatalf("X-Traceid not exposed: %v", resp.Header)
	}
}

func TestRefusedTransportsAndBodies(t *testing.T) {
	base := startServer(t, nil)
	var form bytes.Buffer
	mw := multipart.NewWriter(&form)
	_ = mw.WriteField("operations", `{"query":"{ viewer { userId } }"}`)
	mw.Close()
	cases := map[string]struct {
		contentType string
		body        io.Reader
	}{
		"multipart":  {mw.FormDataContentType(), &form},
		"text/plain": {"text/plain", strings.NewReader(`{"query":"{ viewer { userId } }"}`)},
		"2 MiB body": {"application/json", strings.NewReader(`{"query":"{ viewer { userId } }","variables":{"pad":"` + strings.Repeat("x", 2<<20) + `"}}`)},
	}
	for name, tc := range cases {
		resp, err := http.Post(base+"/query", tc.contentType, tc.body)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode < 400 || resp.StatusCode >= 500 {
			t.Errorf("%s: status %d, want 4xx: %s", name, resp.StatusCode, b)
		}
	}
}

func TestConfig(t *testing.T) {
	env := map[string]string{"PORT": "9000", "KOODRIVE_BASE_URL": "https://kd.example.com", "KOODRIVE_TIMEOUT": "3s", "CORS_ALLOWED_ORIGINS": "https://a.example, https://b.example"}
	cfg, err := parseConfig(nil, func(k string) string { return env[k] })
	if err != nil || cfg.Port != "9000" || cfg.KooDriveBaseURL != "https://kd.example.com" || cfg.KooDriveTimeout != 3*time.Second || len(cfg.CORSAllowedOrigins) != 2 {
		t.Fatalf("from environment: %+v %v", cfg, err)
	}
	cfg, err = parseConfig([]string{"--port", "7000", "--koodrive-timeout", "250ms"}, func(k string) string { return env[k] })
	if err != nil || cfg.Port != "7000" || cfg.KooDriveTimeout != 250*time.Millisecond {
		t.Fatalf("flags over environment: %+v %v", cfg, err)
	}
	cfg, err = parseConfig(nil, func(string) string { return "" })
	if err != nil || cfg.Port != "8080" || cfg.KooDriveBaseURL != "" || cfg.KooDriveTimeout != 10*time.Second || cfg.KooDriveClockMargin != 5*time.Second {
		t.Fatalf("defaults: %+v %v", cfg, err)
	}
	for _, bad := range [][]string{{"--koodrive-timeout", "soon"}, {"--request-timeout", "0"}, {"--user-cache-ttl", "-1s"}, {"--shutdown-grace", "x"},
		{"--koodrive-clock-margin", "-1s"}, {"--koodrive-clock-margin", "15m"}, {"--redis-timeout", "0"},
		{"--rate-limit", "10/d"}, {"--rate-limit", "0/s"}, {"--koodrive-rate-limit", "fast"}} {
		if _, err := parseConfig(bad, func(string) string { return "" }); err == nil {
			t.Fatalf("%v accepted", bad)
		}
	}
	cfg, err = parseConfig(nil, func(k string) string {
		return map[string]string{"USER_CACHE_TTL": "30s", "REQUEST_TIMEOUT": "2s", "SHUTDOWN_GRACE": "1m", "KOODRIVE_CLOCK_MARGIN": "0s", "RATE_LIMIT": "300/m", "KOODRIVE_RATE_LIMIT": "50"}[k]
	})
	if err != nil || cfg.UserCacheTTL != 30*time.Second || cfg.RequestTimeout != 2*time.Second || cfg.ShutdownGrace != time.Minute || cfg.KooDriveClockMargin != 0 ||
		cfg.RateLimit == nil || *cfg.RateLimit != (fleet.Rate{N: 300, Per: time.Minute}) || cfg.KooDriveRateLimit == nil || *cfg.KooDriveRateLimit != (fleet.Rate{N: 50, Per: time.Second}) {
		t.Fatalf("resilience settings: %+v %v", cfg, err)
	}
	if _, err := parseConfig([]string{"--help"}, func(string) string { return "" }); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("--help: %v", err)
	}
}

// TestAStartThatFailsClosesWhatItStarted: a bad setting found while wiring (here the
// Redis URL, after the demo KooDrive started) is an error, and nothing is left running
// (goleak checks the package).
func TestAStartThatFailsClosesWhatItStarted(t *testing.T) {
	cfg, err := parseConfig(nil, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	cfg.Port, cfg.RedisURL = "0", "http://user:s3cret@example.com"
	err = run(t.Context(), cfg, slog.New(slog.DiscardHandler), nil)
	if err == nil || !strings.Contains(err.Error(), "REDIS_URL") || strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("err %v, want a REDIS_URL error without its password", err)
	}
}

// PERSISTED_QUERIES lists one manifest per client; the safelist is their union, and a
// file that cannot be read or parsed stops the start with its name.
func TestSeveralManifests(t *testing.T) {
	files := []string{
		filepath.Join("web", "explorer", "persisted-query-manifest.json"),
		filepath.Join("web", "relay", "persisted-queries.json"),
		filepath.Join("docs", "examples", "mobile-persisted-query-manifest.json"),
	}
	want := map[string]string{}
	for _, f := range files {
		one, err := loadManifests(f)
		if err != nil {
			t.Fatal(err)
		}
		if len(one) == 0 {
			t.Fatalf("%s: no operations", f)
		}
		maps.Copy(want, one)
	}
	all, err := loadManifests(strings.Join(files, ", "))
	if err != nil {
		t.Fatal(err)
	}
	if !maps.Equal(all, want) {
		t.Fatalf("union of %d operations, want %d", len(all), len(want))
	}

	bad := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(bad, []byte(`{"format":"something else"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, paths := range []string{files[0] + "," + bad, files[0] + ",missing.json"} {
		_, err := loadManifests(paths)
		name := paths[strings.Index(paths, ",")+1:]
		if err == nil || !strings.Contains(err.Error(), filepath.Base(name)) {
			t.Fatalf("%s: error %v, want one naming %s", paths, err, name)
		}
	}
}
