package main

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// OpenTelemetry tracing, configured by the standard variables: on when an exporter is
// (OTEL_TRACES_EXPORTER=otlp, or an OTLP endpoint), off otherwise, with no exporter, no
// batch processor and no instrumentation at all. The SDK and the OTLP exporter read the
// rest themselves: OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES, OTEL_TRACES_SAMPLER(_ARG)
// (default parentbased_always_on: a client's sampled trace is continued); the exporter
// (otlp.go) OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT, _HEADERS and _TIMEOUT.

// defaultServiceName names the service unless OTEL_SERVICE_NAME does.
const defaultServiceName = "koodrive-facade"

// tracer is the process's tracing, nil when off.
type tracer struct {
	provider   *sdktrace.TracerProvider
	propagator propagation.TextMapPropagator
}

// newTracer reads the OTel environment; nil, nil means tracing is off.
func newTracer(ctx context.Context, getenv func(string) string) (*tracer, error) {
	exporter := strings.TrimSpace(getenv("OTEL_TRACES_EXPORTER"))
	endpoint := getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") + getenv("OTEL_EXPORTER_OTLP_ENDPOINT")
	switch {
	case exporter == "none" || (exporter == "" && endpoint == ""):
		return nil, nil
	case exporter != "" && exporter != "otlp":
		return nil, fmt.Errorf("OTEL_TRACES_EXPORTER: %q is not supported; use otlp or none", exporter)
	}
	protocol := getenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
	if protocol == "" {
		protocol = getenv("OTEL_EXPORTER_OTLP_PROTOCOL")
	}
	if protocol != "" && protocol != "http/protobuf" {
		// gRPC would double the binary; every collector and Jaeger take OTLP over HTTP.
		return nil, fmt.Errorf("OTEL_EXPORTER_OTLP_PROTOCOL: %q is not supported; use http/protobuf", protocol)
	}
	exp, err := newOTLPExporter(getenv)
	if err != nil {
		return nil, err
	}
	res, err := resource.Merge(
		resource.NewSchemaless(attribute.String("service.name", defaultServiceName)),
		resource.Environment(), // OTEL_RESOURCE_ATTRIBUTES, OTEL_SERVICE_NAME
	)
	if err != nil {
		return nil, fmt.Errorf("OTEL_RESOURCE_ATTRIBUTES: %w", err)
	}
	return &tracer{
		provider:   sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res)),
		propagator: propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}),
	}, nil
}

// shutdown flushes the spans not yet exported.
func (t *tracer) shutdown(ctx context.Context) error {
	if t == nil {
		return nil
	}
	return t.provider.Shutdown(ctx)
}

// logTraces adds trace_id and span_id to every log line written in a traced context, so
// logs and traces join.
type logTraces struct{ slog.Handler }

func (h logTraces) Handle(ctx context.Context, r slog.Record) error {
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		r.AddAttrs(slog.String("trace_id", sc.TraceID().String()), slog.String("span_id", sc.SpanID().String()))
	}
	return h.Handler.Handle(ctx, r)
}

func (h logTraces) WithAttrs(attrs []slog.Attr) slog.Handler {
	return logTraces{h.Handler.WithAttrs(attrs)}
}

func (h logTraces) WithGroup(name string) slog.Handler { return logTraces{h.Handler.WithGroup(name)} }
