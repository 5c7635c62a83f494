package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/koodrive/facade/koodrive/demo"
)

// BenchmarkFloorUserGroups50 is the floor's answer in-process against a zero-latency demo
// KooDrive, the counterpart of graph's BenchmarkHandlerUserGroups50/serial: the same
// upstream calls, so the difference in ns/op, B/op and allocs/op is the facade's own.
//
//	go test -run '^$' -bench . -benchmem ./bench
func BenchmarkFloorUserGroups50(b *testing.B) {
	up := demo.New(demo.Options{})
	srv := httptest.NewServer(up)
	defer srv.Close()
	r := newRest(srv.URL)
	defer r.hc.CloseIdleConnections()
	before := up.Calls()
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "/query", bytes.NewReader(loadBody))
		req.Header.Set("Authorization", demo.Authorization)
		req.Header.Set("X-User-Id", up.CallerID())
		rec := httptest.NewRecorder()
		r.serveFloor(rec, req)
		if rec.Code != http.StatusOK || bytes.Contains(rec.Body.Bytes(), []byte(`"errors"`)) {
			b.Fatalf("floor failed: %d %s", rec.Code, rec.Body.Bytes())
		}
	}
	b.ReportMetric(float64(up.Calls()-before)/float64(b.N), "upstream-calls/op")
}
