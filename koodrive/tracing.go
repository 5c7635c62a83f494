package koodrive

import (
	"context"
	"encoding/json"
	"net/http"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// WithTracer makes a client span of every KooDrive attempt and sends its traceparent
// along, beside X-Traceid; breaker rejections, coalesced waits and cache hits become
// events on the calling span. Without it nothing is traced, at no cost.
func WithTracer(tp trace.TracerProvider, propagator propagation.TextMapPropagator) Option {
	return func(c *Client) {
		c.tracing = &tracing{tracer: tp.Tracer("github.com/koodrive/facade/koodrive"), propagator: propagator}
	}
}

type tracing struct {
	tracer     trace.Tracer
	propagator propagation.TextMapPropagator
}

// routes are the endpoints' URL templates: a span names the route, never an id.
var routes = map[string]string{
	opGetUser:        usersPath + "{userId}",
	opListUserGroups: userGroupsPath,
}

// startAttempt starts the client span of one attempt (retry 0 is the first) and puts
// its traceparent on req.
func (t *tracing) startAttempt(ctx context.Context, op string, retry int, req *http.Request, caller Caller) (context.Context, trace.Span) {
	route := routes[op]
	ctx, span := t.tracer.Start(ctx, http.MethodGet+" "+route, trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(
		attribute.String("http.request.method", http.MethodGet),
		attribute.String("url.template", route),
		attribute.String("server.address", req.URL.Hostname()),
		attribute.Int("http.request.resend_count", retry),
		attribute.String("koodrive.operation", op),
		attribute.String("koodrive.x_traceid", caller.TraceID),
	))
	t.propagator.Inject(ctx, propagation.HeaderCarrier(req.Header))
	return ctx, span
}

// endAttempt records an attempt's outcome: the status and KooDrive's envelope code,
// never the body.
func endAttempt(span trace.Span, resp *response, err error) {
	defer span.End()
	switch {
	case err != nil:
		span.SetStatus(codes.Error, transportSummary(err))
		return
	case resp == nil:
		return
	}
	span.SetAttributes(attribute.Int("http.response.status_code", resp.status))
	var env envelope
	if json.Unmarshal(resp.body, &env) == nil && env.Code != nil {
		span.SetAttributes(attribute.Int("koodrive.code", *env.Code))
		if *env.Code != 0 {
			span.SetStatus(codes.Error, "KooDrive code")
		}
	}
	if resp.status >= 400 {
		span.SetStatus(codes.Error, http.StatusText(resp.status))
	}
}

// transportSummary names a transport failure without its addresses.
func transportSummary(err error) string {
	if transportKind(err) == ErrTimeout {
		return "timeout"
	}
	return "transport error"
}

// event adds a named event to the span in ctx, when tracing.
func (c *Client) event(ctx context.Context, name string, attrs ...attribute.KeyValue) {
	if c.tracing != nil {
		trace.SpanFromContext(ctx).AddEvent(name, trace.WithAttributes(attrs...))
	}
}
