package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/koodrive/facade/graph"
	"github.com/koodrive/facade/graph/gqlhttp"
	"github.com/koodrive/facade/koodrive"
	"github.com/koodrive/facade/koodrive/demo"
)

type abusePayload struct {
	name        string
	contentType string
	body        func() io.Reader
}

func jsonQuery(q string) func() io.Reader {
	return func() io.Reader {
		b, _ := json.Marshal(map[string]string{"query": q})
		return bytes.NewReader(b)
	}
}

// abusePayloads are hostile requests that must each be refused cheaply.
func abusePayloads() []abusePayload {
	var form bytes.Buffer
	mw := multipart.NewWriter(&form)
	_ = mw.WriteField("operations", `{"query":"{ viewer { userId } }"}`)
	mw.Close()
	var fragments strings.Builder
	fragments.WriteString("query { ...F0 }\n")
	for i := range 40 {
		fmt.Fprintf(&fragments, "fragment F%d on Query { ...F%d ...F%d }\n", i, i+1, i+1)
	}
	fragments.WriteString("fragment F40 on Query { viewer { userId } }")
	return []abusePayload{
		{"directive flood", "application/json", jsonQuery("{ viewer " + strings.Repeat("@include(if: true) ", 5000) + "{ userId } }")},
		{"thousands of aliases", "application/json", jsonQuery("{ " + strings.Repeat("a: viewer { userId } ", 5000) + "}")},
		{"deep nesting", "application/json", jsonQuery(strings.Repeat("{ viewer ", 5000) + strings.Repeat("}", 5000))},
		{"fragment cycle", "application/json", jsonQuery("query { ...A } fragment A on Query { ...B } fragment B on Query { ...A }")},
		{"fragment bomb", "application/json", jsonQuery(fragments.String())},
		{"10 MiB body", "application/json", func() io.Reader {
			return strings.NewReader(`{"query":"{ viewer { userId } }","variables":{"x":"` + strings.Repeat("x", 10<<20) + `"}}`)
		}},
		{"multipart/form-data", mw.FormDataContentType(), func() io.Reader { return bytes.NewReader(form.Bytes()) }},
		{"text/plain", "text/plain", jsonQuery("{ viewer { userId } }")},
	}
}

// abuseHandler is the real HTTP path in front of a demo KooDrive that counts calls.
func abuseHandler(t testing.TB) (http.Handler, *demo.Upstream) {
	up := demo.New(demo.Options{})
	srv := httptest.NewServer(up)
	t.Cleanup(srv.Close)
	kd, err := koodrive.New(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(kd.CloseIdleConnections)
	cfg, _ := parseConfig(nil, func(string) string { return "" })
	caller := &koodrive.Caller{Authorization: demo.Authorization, UserID: up.CallerID()}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	api := gqlhttp.New(graph.New(kd, log, graph.Options{}), log, gqlhttp.Options{DemoCaller: caller, Limits: cfg.Limits})
	return newMux(cfg, api, caller), up
}

func TestAbusePayloadsRefused(t *testing.T) {
	h, up := abuseHandler(t)
	for _, p := range abusePayloads() {
		t.Run(p.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodPost, "/query", p.body())
			req.Header.Set("Content-Type", p.contentType)
			req.Header.Set("Accept", "application/graphql-response+json")
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code < 400 || w.Code >= 500 {
				t.Fatalf("status %d, want a 4xx: %.300s", w.Code, w.Body.String())
			}
		})
	}
	if n := up.Calls(); n != 0 {
		t.Fatalf("%d upstream calls for refused requests", n)
	}
}

// BenchmarkAbusePayloads: how long refusing each takes.
//
//	go test -run '^$' -bench AbusePayloads .
func BenchmarkAbusePayloads(b *testing.B) {
	h, _ := abuseHandler(b)
	for _, p := range abusePayloads() {
		b.Run(strings.ReplaceAll(p.name, " ", "_"), func(b *testing.B) {
			for range b.N {
				req := httptest.NewRequest(http.MethodPost, "/query", p.body())
				req.Header.Set("Content-Type", p.contentType)
				h.ServeHTTP(httptest.NewRecorder(), req)
			}
		})
	}
}
