package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/koodrive/facade/koodrive/demo"
)

// otlpReceiver is an OTLP/HTTP trace receiver: it decodes what the facade exports.
type otlpReceiver struct {
	mu    sync.Mutex
	spans map[string][]string // trace id (hex) → span names
	names map[string]string   // service names seen
}

func (o *otlpReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var req collectortrace.ExportTraceServiceRequest
	if r.URL.Path != "/v1/traces" || r.Header.Get("Content-Type") != "application/x-protobuf" || proto.Unmarshal(body, &req) != nil {
		http.Error(w, "not an OTLP/HTTP protobuf trace export", http.StatusBadRequest)
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, rs := range req.ResourceSpans {
		for _, a := range rs.GetResource().GetAttributes() {
			if a.Key == "service.name" {
				o.names[a.GetValue().GetStringValue()] = ""
			}
		}
		for _, ss := range rs.ScopeSpans {
			for _, s := range ss.Spans {
				id := hexOf(s.TraceId) + "/" + hexOf(s.SpanId)
				o.spans[hexOf(s.TraceId)] = append(o.spans[hexOf(s.TraceId)], s.Name+" "+id)
			}
		}
	}
	w.Header().Set("Content-Type", "application/x-protobuf")
	out, _ := proto.Marshal(&collectortrace.ExportTraceServiceResponse{})
	_, _ = w.Write(out)
}

func hexOf(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return string(out)
}

// TestTracesReachACollectorAndKooDrive: the facade exports OTLP/HTTP to a receiver; the
// traceparent every KooDrive call carried names a span the facade exported, in the
// client's trace.
func TestTracesReachACollectorAndKooDrive(t *testing.T) {
	receiver := &otlpReceiver{spans: map[string][]string{}, names: map[string]string{}}
	collector := httptest.NewServer(receiver)
	defer collector.Close()
	up := demo.New(demo.Options{})
	kd := httptest.NewServer(up)
	defer kd.Close()
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.URL)
	t.Setenv("OTEL_BSP_SCHEDULE_DELAY", "50")

	cfg, err := parseConfig(nil, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	cfg.Port, cfg.ShutdownGrace, cfg.KooDriveBaseURL = "0", 5*time.Second, kd.URL
	ctx, stop := context.WithCancel(context.Background())
	ready, done := make(chan string, 1), make(chan error, 1)
	logs := &demo.LogBuffer{}
	go func() { done <- run(ctx, cfg, slog.New(slog.NewJSONHandler(logs, nil)), ready) }()
	base := "http://" + strings.Replace(<-ready, "[::]", "127.0.0.1", 1)

	const clientTrace = "0af7651916cd43dd8448eb211c80319c"
	header := http.Header{"Authorization": {demo.Authorization}, "X-User-Id": {up.CallerID()},
		"traceparent": {"00-" + clientTrace + "-b7ad6b7169203331-01"}}
	if resp, out := postQuery(t, base, `query Page { userGroups(first: 20) { nodes { owner { name } } } }`, header); resp.StatusCode != 200 || len(out.Errors) > 0 {
		t.Fatalf("query: %d %v", resp.StatusCode, out.Errors)
	}
	// The latency histogram's exemplar leads to the trace (OpenMetrics).
	req, _ := http.NewRequest(http.MethodGet, base+"/metrics", nil)
	req.Header.Set("Accept", "application/openmetrics-text; version=1.0.0")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	http.DefaultClient.CloseIdleConnections()
	if !strings.Contains(string(metrics), `graphql_request_duration_seconds_bucket{operation="Page"`) || !strings.Contains(string(metrics), `# {trace_id="`+clientTrace+`"}`) {
		t.Fatalf("no exemplar with the trace id in /metrics:\n%s", metrics)
	}
	stop() // a graceful shutdown flushes the spans
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	receiver.mu.Lock()
	defer receiver.mu.Unlock()
	exported := strings.Join(receiver.spans[clientTrace], "\n")
	if _, ok := receiver.names["koodrive-facade"]; !ok || !strings.Contains(exported, "query Page") || !strings.Contains(exported, "POST /query") {
		t.Fatalf("exported for the client's trace (services %v):\n%s", receiver.names, exported)
	}
	parents := up.Traceparents()
	if len(parents) != int(up.Calls()) || len(parents) < 10 {
		t.Fatalf("%d traceparents for %d KooDrive calls", len(parents), up.Calls())
	}
	for _, tp := range parents {
		parts := strings.Split(tp, "-")
		if len(parts) != 4 || parts[1] != clientTrace || !strings.Contains(exported, parts[1]+"/"+parts[2]) {
			t.Fatalf("KooDrive received traceparent %s: not a span exported in the client's trace", tp)
		}
	}
	// Logs of the traced request join its trace.
	var joined bool
	for _, line := range strings.Split(logs.String(), "\n") {
		if strings.Contains(line, `"msg":"graphql request"`) && strings.Contains(line, `"trace_id":"`+clientTrace+`"`) && strings.Contains(line, `"span_id":"`) {
			joined = true
		}
	}
	if !joined {
		t.Fatalf("the request's log line has no trace_id/span_id:\n%s", logs.String())
	}
	if !slices.Contains(strings.Fields(exported), "owners") {
		t.Fatalf("no owners' wave exported:\n%s", exported)
	}
}
