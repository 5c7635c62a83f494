package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"google.golang.org/protobuf/encoding/protowire"
)

// otlpExporter sends spans over OTLP/HTTP (protobuf), written straight from the SDK's
// spans with protowire. The OTel exporter package does the same through the generated
// OTLP types, whose collector package links gRPC and grpc-gateway: 5 MB of binary and
// image, and an intermediate copy of every span. The test decodes what this writes with
// the generated types (go.opentelemetry.io/proto/otlp).
type otlpExporter struct {
	url     string
	headers http.Header
	timeout time.Duration
	client  *http.Client
	mu      sync.Mutex
	buf     []byte
}

// newOTLPExporter reads the OTLP exporter variables: the endpoint
// (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as is, or OTEL_EXPORTER_OTLP_ENDPOINT + /v1/traces),
// headers and timeout.
func newOTLPExporter(getenv func(string) string) (*otlpExporter, error) {
	target := getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
	if target == "" {
		base := getenv("OTEL_EXPORTER_OTLP_ENDPOINT")
		if base == "" {
			base = "http://localhost:4318"
		}
		target = strings.TrimSuffix(base, "/") + "/v1/traces"
	}
	if u, err := url.Parse(target); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("OTEL_EXPORTER_OTLP_ENDPOINT: not an http(s) URL")
	}
	e := &otlpExporter{url: target, headers: http.Header{}, timeout: 10 * time.Second}
	e.headers.Set("Content-Type", "application/x-protobuf")
	for _, key := range []string{"OTEL_EXPORTER_OTLP_HEADERS", "OTEL_EXPORTER_OTLP_TRACES_HEADERS"} {
		for _, pair := range strings.Split(getenv(key), ",") {
			k, v, ok := strings.Cut(pair, "=")
			if k, _ = url.QueryUnescape(strings.TrimSpace(k)); ok && k != "" {
				v, _ = url.QueryUnescape(strings.TrimSpace(v))
				e.headers.Set(k, v)
			}
		}
	}
	for _, key := range []string{"OTEL_EXPORTER_OTLP_TIMEOUT", "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT"} {
		if ms, err := strconv.Atoi(getenv(key)); err == nil && ms > 0 {
			e.timeout = time.Duration(ms) * time.Millisecond
		}
	}
	e.client = &http.Client{Timeout: e.timeout}
	return e, nil
}

// ExportSpans sends one batch. A collector that refuses it loses the batch: the SDK's
// batch processor already bounds what is kept, and tracing never holds requests up.
func (e *otlpExporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	if len(spans) == 0 {
		return nil
	}
	e.mu.Lock()
	body := appendRequest(e.buf[:0], spans)
	e.buf = body
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.url, bytes.NewReader(body))
	if err != nil {
		e.mu.Unlock()
		return err
	}
	req.Header = e.headers.Clone()
	resp, err := e.client.Do(req)
	e.mu.Unlock()
	if err != nil {
		return fmt.Errorf("OTLP export: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("OTLP export: the collector answered %d", resp.StatusCode)
	}
	return nil
}

func (e *otlpExporter) Shutdown(context.Context) error {
	e.client.CloseIdleConnections()
	return nil
}

// appendRequest writes an ExportTraceServiceRequest: the spans grouped by resource and
// instrumentation scope, as the SDK gives them (one resource per provider).
func appendRequest(b []byte, spans []sdktrace.ReadOnlySpan) []byte {
	type group struct {
		res   *resource.Resource
		scope instrumentation.Scope
		spans []sdktrace.ReadOnlySpan
	}
	var groups []*group
	for _, s := range spans {
		var g *group
		for _, x := range groups {
			if x.res == s.Resource() && x.scope == s.InstrumentationScope() {
				g = x
			}
		}
		if g == nil {
			g = &group{res: s.Resource(), scope: s.InstrumentationScope()}
			groups = append(groups, g)
		}
		g.spans = append(g.spans, s)
	}
	for i := 0; i < len(groups); {
		res := groups[i].res
		// ResourceSpans (1): resource (1), then a ScopeSpans (2) for each of its scopes.
		b = message(b, 1, func(b []byte) []byte {
			b = message(b, 1, func(b []byte) []byte { return appendAttributes(b, 1, res.Attributes()) })
			for ; i < len(groups) && groups[i].res == res; i++ {
				g := groups[i]
				b = message(b, 2, func(b []byte) []byte {
					b = message(b, 1, func(b []byte) []byte {
						b = str(b, 1, g.scope.Name)
						return str(b, 2, g.scope.Version)
					})
					for _, s := range g.spans {
						b = message(b, 2, func(b []byte) []byte { return appendSpan(b, s) })
					}
					return str(b, 3, g.scope.SchemaURL)
				})
			}
			return str(b, 3, res.SchemaURL())
		})
	}
	return b
}

// appendSpan writes one Span's fields (opentelemetry/proto/trace/v1/trace.proto).
func appendSpan(b []byte, s sdktrace.ReadOnlySpan) []byte {
	sc := s.SpanContext()
	tid, sid := sc.TraceID(), sc.SpanID()
	b = bytesField(b, 1, tid[:])
	b = bytesField(b, 2, sid[:])
	b = str(b, 3, sc.TraceState().String())
	if p := s.Parent(); p.SpanID().IsValid() {
		psid := p.SpanID()
		b = bytesField(b, 4, psid[:])
	}
	b = str(b, 5, s.Name())
	b = protowire.AppendTag(b, 6, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(s.SpanKind())) // the SDK's kinds number as OTLP's
	b = fixed64(b, 7, s.StartTime())
	b = fixed64(b, 8, s.EndTime())
	b = appendAttributes(b, 9, s.Attributes())
	if n := s.DroppedAttributes(); n > 0 {
		b = protowire.AppendTag(b, 10, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(n))
	}
	for _, ev := range s.Events() {
		b = message(b, 11, func(b []byte) []byte {
			b = fixed64(b, 1, ev.Time)
			b = str(b, 2, ev.Name)
			return appendAttributes(b, 3, ev.Attributes)
		})
	}
	if st := s.Status(); st.Code != codes.Unset {
		b = message(b, 15, func(b []byte) []byte {
			b = str(b, 2, st.Description)
			b = protowire.AppendTag(b, 3, protowire.VarintType)
			return protowire.AppendVarint(b, map[codes.Code]uint64{codes.Ok: 1, codes.Error: 2}[st.Code])
		})
	}
	b = protowire.AppendTag(b, 16, protowire.Fixed32Type)
	return protowire.AppendFixed32(b, uint32(sc.TraceFlags()))
}

// appendAttributes writes each attribute as a KeyValue in field num.
func appendAttributes(b []byte, num protowire.Number, attrs []attribute.KeyValue) []byte {
	for _, kv := range attrs {
		b = message(b, num, func(b []byte) []byte {
			b = str(b, 1, string(kv.Key))
			return message(b, 2, func(b []byte) []byte { return appendValue(b, kv.Value) })
		})
	}
	return b
}

// appendValue writes an AnyValue.
func appendValue(b []byte, v attribute.Value) []byte {
	switch v.Type() {
	case attribute.BOOL:
		b = protowire.AppendTag(b, 2, protowire.VarintType)
		return protowire.AppendVarint(b, protowire.EncodeBool(v.AsBool()))
	case attribute.INT64:
		b = protowire.AppendTag(b, 3, protowire.VarintType)
		return protowire.AppendVarint(b, uint64(v.AsInt64()))
	case attribute.FLOAT64:
		b = protowire.AppendTag(b, 4, protowire.Fixed64Type)
		return protowire.AppendFixed64(b, math.Float64bits(v.AsFloat64()))
	case attribute.STRING:
		b = protowire.AppendTag(b, 1, protowire.BytesType)
		return protowire.AppendString(b, v.AsString())
	default: // slices, as their text: no span of the facade has one
		b = protowire.AppendTag(b, 1, protowire.BytesType)
		return protowire.AppendString(b, v.Emit())
	}
}

// message writes field num as an embedded message that fill writes.
func message(b []byte, num protowire.Number, fill func([]byte) []byte) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	at := len(b)
	b = append(b, 0, 0) // a length written back below; most fit two bytes
	b = fill(b)
	n := len(b) - at - 2
	size := protowire.SizeVarint(uint64(n))
	switch {
	case size < 2:
		copy(b[at+1:], b[at+2:])
		b = b[:len(b)-1]
	case size > 2:
		b = append(b, make([]byte, size-2)...)
		copy(b[at+size:], b[at+2:at+2+n])
	}
	protowire.AppendVarint(b[at:at], uint64(n))
	return b
}

func str(b []byte, num protowire.Number, s string) []byte {
	if s == "" {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendString(b, s)
}

func bytesField(b []byte, num protowire.Number, v []byte) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendBytes(b, v)
}

func fixed64(b []byte, num protowire.Number, t time.Time) []byte {
	b = protowire.AppendTag(b, num, protowire.Fixed64Type)
	return protowire.AppendFixed64(b, uint64(t.UnixNano()))
}
