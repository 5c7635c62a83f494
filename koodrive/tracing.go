package koodrive

import (
	"context"
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
func (t *tracing) startAttempt(ctx context.Context, op string, retry int, req *http.Request) (context.Context, trace.Span) {
	route := routes[op]
	// Few attributes: a request makes some thirty of these, and each costs its export.
	// The X-Traceid is on the request's server span.
	ctx, span := t.tracer.Start(ctx, http.MethodGet+" "+route, trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(
		attribute.String("http.request.method", http.MethodGet),
		attribute.String("url.template", route),
		attribute.Int("http.request.resend_count", retry),
	))
	t.propagator.Inject(ctx, propagation.HeaderCarrier(req.Header))
	return ctx, span
}

// endAttempt ends an attempt that got no answer; an answered one stays open on its
// response until the envelope is read (endAnswered).
func endAttempt(span trace.Span, resp *response, err error) {
	if err != nil || resp == nil {
		if err != nil {
			span.SetStatus(codes.Error, transportSummary(err))
		}
		span.End()
		return
	}
	span.SetAttributes(attribute.Int("http.response.status_code", resp.status))
	resp.span = span
}

// endAnswered ends an answered attempt's span with KooDrive's envelope code as read, and
// failure's status: read once, by checkResponse, not decoded again for the span. Every
// caller sharing the answer calls it; the first ends the span.
func (r *response) endAnswered(failure *Error) {
	if r == nil || r.span == nil {
		return
	}
	code := 0
	if failure != nil {
		code = failure.Code
		r.span.SetStatus(codes.Error, failure.Message)
	}
	r.span.SetAttributes(attribute.Int("koodrive.code", code))
	r.span.End()
}

// endUnread ends the span of an answer that is retried, its envelope never read.
func (r *response) endUnread() {
	if r == nil || r.span == nil {
		return
	}
	if r.status >= 400 {
		r.span.SetStatus(codes.Error, http.StatusText(r.status))
	}
	r.span.End()
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
