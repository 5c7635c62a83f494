package gqlhttp

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// Tracing puts each request in a trace: the HTTP server span (otelhttp), continuing the
// client's W3C trace context, and a span for the GraphQL operation. Resolvers and
// KooDrive calls add theirs beneath (graph, koodrive).
type Tracing struct {
	Provider   trace.TracerProvider
	Propagator propagation.TextMapPropagator
}

const instrumentation = "github.com/koodrive/facade/graph/gqlhttp"

// traced wraps h in the server span.
func (t *Tracing) traced(h http.Handler) http.Handler {
	return otelhttp.NewHandler(h, "/query",
		otelhttp.WithTracerProvider(t.Provider),
		otelhttp.WithPropagators(t.Propagator),
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string { return r.Method + " /query" }),
	)
}

// operationTracer makes the operation's span: its name, type and the document's hash;
// never the variables or the text.
type operationTracer struct{ tracer trace.Tracer }

var _ interface {
	graphql.HandlerExtension
	graphql.ResponseInterceptor
} = operationTracer{}

func (operationTracer) ExtensionName() string                   { return "OperationTracing" }
func (operationTracer) Validate(graphql.ExecutableSchema) error { return nil }

func (t operationTracer) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	oc := graphql.GetOperationContext(ctx)
	opType, opName := "query", ""
	if oc.Operation != nil {
		opType, opName = string(oc.Operation.Operation), oc.Operation.Name
	}
	sum := sha256.Sum256([]byte(oc.RawQuery))
	name := opType
	if opName != "" {
		name += " " + opName
	}
	ctx, span := t.tracer.Start(ctx, name, trace.WithAttributes(
		attribute.String("graphql.operation.type", opType),
		attribute.String("graphql.operation.name", opName),
		attribute.String("graphql.document.hash", "sha256:"+hex.EncodeToString(sum[:])),
	))
	defer span.End()
	resp := next(ctx)
	if failed := errorCodes(ctx); failed != "" {
		span.SetStatus(codes.Error, failed)
	}
	return resp
}

// errorCodes is the extensions.code of the operation's errors so far, joined.
func errorCodes(ctx context.Context) string {
	var out []string
	for _, e := range graphql.GetErrors(ctx) {
		if code, ok := e.Extensions["code"].(string); ok && !strings.Contains(strings.Join(out, ","), code) {
			out = append(out, code)
		}
	}
	return strings.Join(out, ",")
}

// markServerSpan records on the request's server span the caller's X-Traceid and, at
// the end, the codes of its errors as its status.
func markServerSpan(ctx context.Context, xTraceID string, errorCodes []string) {
	span := trace.SpanFromContext(ctx)
	if !span.IsRecording() {
		return
	}
	span.SetAttributes(attribute.String("koodrive.x_traceid", xTraceID))
	if len(errorCodes) > 0 {
		span.SetStatus(codes.Error, strings.Join(errorCodes, ","))
	}
}

// sampledTraceID is the trace id of a sampled request, for an exemplar; "" otherwise.
func sampledTraceID(ctx context.Context) string {
	if sc := trace.SpanContextFromContext(ctx); sc.IsSampled() {
		return sc.TraceID().String()
	}
	return ""
}
