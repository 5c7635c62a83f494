package main

import (
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"
)

// TestOTLPEncodingDecodes: what appendRequest writes is what the generated OTLP types
// read back, field for field, lengths of one, two and three bytes included.
func TestOTLPEncodingDecodes(t *testing.T) {
	res := resource.NewSchemaless(attribute.String("service.name", "koodrive-facade"))
	start := time.Unix(1700000000, 123)
	tid := trace.TraceID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
	long := strings.Repeat("x", 20000) // a three-byte length
	stubs := tracetest.SpanStubs{
		{
			Name:                 "GET /koodrive/ose/v1/users/{userId}",
			SpanContext:          trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: trace.SpanID{1}, TraceFlags: trace.FlagsSampled}),
			Parent:               trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: trace.SpanID{2}}),
			SpanKind:             trace.SpanKindClient,
			StartTime:            start,
			EndTime:              start.Add(time.Millisecond),
			Attributes:           []attribute.KeyValue{attribute.String("url.template", "/x"), attribute.Int("http.response.status_code", 503), attribute.Bool("b", true), attribute.Float64("f", 1.5), attribute.Int("neg", -7)},
			Events:               []sdktrace.Event{{Name: "koodrive.breaker_open", Time: start, Attributes: []attribute.KeyValue{attribute.String("koodrive.operation", "GetUser")}}},
			Status:               sdktrace.Status{Code: codes.Error, Description: "UPSTREAM_ERROR"},
			Resource:             res,
			InstrumentationScope: instrumentation.Scope{Name: "koodrive", Version: "1"},
		},
		{
			Name:                 long,
			SpanContext:          trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: trace.SpanID{3}}),
			SpanKind:             trace.SpanKindServer,
			StartTime:            start,
			EndTime:              start,
			Resource:             res,
			InstrumentationScope: instrumentation.Scope{Name: "gqlhttp"},
		},
	}
	var req collectortrace.ExportTraceServiceRequest
	if err := proto.Unmarshal(appendRequest(nil, stubs.Snapshots()), &req); err != nil {
		t.Fatal(err)
	}
	if len(req.ResourceSpans) != 1 || len(req.ResourceSpans[0].ScopeSpans) != 2 {
		t.Fatalf("grouping: %v", req.ResourceSpans)
	}
	rs := req.ResourceSpans[0]
	if a := rs.Resource.Attributes; len(a) != 1 || a[0].Key != "service.name" || a[0].Value.GetStringValue() != "koodrive-facade" {
		t.Fatalf("resource %v", rs.Resource)
	}
	ss := rs.ScopeSpans[0]
	s := ss.Spans[0]
	if ss.Scope.Name != "koodrive" || ss.Scope.Version != "1" || s.Name != "GET /koodrive/ose/v1/users/{userId}" ||
		string(s.TraceId) != string(tid[:]) || s.SpanId[0] != 1 || s.ParentSpanId[0] != 2 || s.Kind != tracepb.Span_SPAN_KIND_CLIENT ||
		s.StartTimeUnixNano != uint64(start.UnixNano()) || s.EndTimeUnixNano != uint64(start.Add(time.Millisecond).UnixNano()) ||
		s.Status.Code != tracepb.Status_STATUS_CODE_ERROR || s.Status.Message != "UPSTREAM_ERROR" || s.Flags != 1 {
		t.Fatalf("span %v", s)
	}
	want := map[string]string{"url.template": "string_value:\"/x\"", "http.response.status_code": "int_value:503", "b": "bool_value:true", "f": "double_value:1.5", "neg": "int_value:-7"}
	for _, kv := range s.Attributes {
		if got := strings.Join(strings.Fields(kv.Value.String()), ""); got != strings.ReplaceAll(want[kv.Key], " ", "") {
			t.Errorf("attribute %s = %s, want %s", kv.Key, got, want[kv.Key])
		}
	}
	if len(s.Attributes) != len(want) || len(s.Events) != 1 || s.Events[0].Name != "koodrive.breaker_open" || s.Events[0].Attributes[0].Value.GetStringValue() != "GetUser" {
		t.Fatalf("attributes %v, events %v", s.Attributes, s.Events)
	}
	if other := rs.ScopeSpans[1].Spans[0]; other.Name != long || other.Kind != tracepb.Span_SPAN_KIND_SERVER || len(other.ParentSpanId) != 0 || other.Status != nil {
		t.Fatalf("second span: %d-byte name, kind %v", len(other.Name), other.Kind)
	}
}
