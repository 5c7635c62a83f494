package gqlhttp

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/koodrive/facade/graph"
	"github.com/koodrive/facade/graph/internal/gqltest"
	"github.com/koodrive/facade/koodrive"
	"github.com/koodrive/facade/koodrive/demo"
)

// tracedEnv is the whole endpoint, traced into a recorder.
func tracedEnv(t *testing.T, kdOpts ...koodrive.Option) (*testEnv, *tracetest.SpanRecorder) {
	t.Helper()
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { _ = tp.Shutdown(t.Context()) })
	prop := propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})
	env := gqltest.New(t, gqltest.Options{KooDrive: append([]koodrive.Option{koodrive.WithTracer(tp, prop)}, kdOpts...)})
	r := graph.New(env.KD, env.Log, graph.Options{Tracer: tp.Tracer("graph")})
	env.Handler = New(r, env.Log, Options{Tracing: &Tracing{Provider: tp, Propagator: prop}})
	return &testEnv{Env: env}, rec
}

// the client's trace: its span is the parent of the facade's server span.
const (
	clientTraceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	clientSpanID  = "00f067aa0ba902b7"
)

func post(t *testing.T, e *testEnv, query string, header map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, "/query", strings.NewReader(`{"query":`+jsonString(query)+`,"variables":{"secretVar":"v-SECRET-42"}}`))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("Authorization", demo.Authorization)
	r.Header.Set("X-User-Id", e.Up.CallerID())
	r.Header.Set("traceparent", "00-"+clientTraceID+"-"+clientSpanID+"-01")
	for k, v := range header {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	e.Handler.ServeHTTP(w, r)
	return w
}

// byName indexes ended spans by name.
func byName(spans []sdktrace.ReadOnlySpan) map[string][]sdktrace.ReadOnlySpan {
	out := map[string][]sdktrace.ReadOnlySpan{}
	for _, s := range spans {
		out[s.Name()] = append(out[s.Name()], s)
	}
	return out
}

func one(t *testing.T, spans map[string][]sdktrace.ReadOnlySpan, name string) sdktrace.ReadOnlySpan {
	t.Helper()
	if len(spans[name]) != 1 {
		t.Fatalf("%d spans %q, want 1 (spans: %v)", len(spans[name]), name, names(spans))
	}
	return spans[name][0]
}

func names(spans map[string][]sdktrace.ReadOnlySpan) []string {
	var out []string
	for n, s := range spans {
		out = append(out, fmt.Sprintf("%s×%d", n, len(s)))
	}
	return out
}

func childOf(t *testing.T, child, parent sdktrace.ReadOnlySpan) {
	t.Helper()
	if child.Parent().SpanID() != parent.SpanContext().SpanID() {
		t.Errorf("%s is not a child of %s", child.Name(), parent.Name())
	}
}

// TestTraceOfAPageWithOwners: the span tree of userGroups(first: 50) with owners.
func TestTraceOfAPageWithOwners(t *testing.T) {
	e, rec := tracedEnv(t)
	// The variable (refused as an id, before any call) must not reach a span.
	w := post(t, e, `query Page($secretVar: ID!) { userGroups(first: 50) { edges { node { name owner { name mobile } } } } n: node(id: $secretVar) { id } }`, nil)
	if w.Code != 200 || strings.Count(w.Body.String(), `"code":`) != 1 || !strings.Contains(w.Body.String(), graph.CodeBadUserInput) {
		t.Fatalf("%d %s", w.Code, w.Body.String())
	}
	spans := byName(rec.Ended())
	server := one(t, spans, "POST /query")
	op := one(t, spans, "query Page")
	field := one(t, spans, "Query.userGroups")
	page := one(t, spans, "GET /koodrive/ose/v1/usergroups")
	wave := one(t, spans, "owners")
	users := spans["GET /koodrive/ose/v1/users/{userId}"]
	if server.Parent().SpanID().String() != clientSpanID || server.SpanContext().TraceID().String() != clientTraceID {
		t.Fatalf("server span %v does not continue the client's trace", server.Parent())
	}
	childOf(t, op, server)
	childOf(t, field, op)
	childOf(t, page, field)
	childOf(t, wave, field)
	calls := e.Up.Calls() - 1
	if len(users) != int(calls) || calls < 10 {
		t.Fatalf("%d user call spans for %d user calls", len(users), calls)
	}
	for _, u := range users {
		childOf(t, u, wave)
		if u.SpanKind() != trace.SpanKindClient || u.SpanContext().TraceID().String() != clientTraceID {
			t.Fatalf("user call span %v", u)
		}
	}
	attrs := func(s sdktrace.ReadOnlySpan) map[string]string {
		out := map[string]string{}
		for _, kv := range s.Attributes() {
			out[string(kv.Key)] = kv.Value.Emit()
		}
		return out
	}
	if a := attrs(field); a["graphql.argument.first"] != "50" {
		t.Errorf("userGroups span %v, want first 50", a)
	}
	if node := one(t, spans, "Query.node"); node.Status().Description != graph.CodeBadUserInput {
		t.Errorf("node span status %q, want %s", node.Status().Description, graph.CodeBadUserInput)
	}
	if a := attrs(wave); a["koodrive.users"] != fmt.Sprint(len(users)) {
		t.Errorf("wave span %v, want its %d users", a, len(users))
	}
	if a := attrs(op); a["graphql.operation.name"] != "Page" || a["graphql.operation.type"] != "query" || !strings.HasPrefix(a["graphql.document.hash"], "sha256:") {
		t.Errorf("operation span %v", a)
	}
	if a := attrs(page); a["http.response.status_code"] != "200" || a["koodrive.code"] != "0" || a["url.template"] != "/koodrive/ose/v1/usergroups" || a["http.request.resend_count"] != "0" {
		t.Errorf("page call span %v", a)
	}
	// KooDrive received the traceparent of each call's own span.
	assertNoSecretInSpans(t, e, rec.Ended())
}

// TestTraceOfRetriesBreakerAndCache: a retried call shows its attempts; a breaker
// rejection and a cache hit are events; an error sets the status with its code.
func TestTraceOfRetriesBreakerAndCache(t *testing.T) {
	fast := koodrive.WithRetryPolicy(koodrive.RetryPolicy{MaxRetries: 1, BaseDelay: time.Millisecond, MaxDelay: time.Millisecond})
	e, rec := tracedEnv(t, fast, koodrive.WithUserCache(time.Minute, 100),
		koodrive.WithBreaker(koodrive.BreakerSettings{ConsecutiveFailures: 2, OpenFor: time.Minute}))
	broken := e.Up.UserIDs()[5]
	e.FailUsers(demo.Status(503, ""), broken)
	post(t, e, `{ viewer { name } }`, nil)
	post(t, e, `{ viewer { name } }`, nil)                                // from the cache
	post(t, e, fmt.Sprintf(`{ user(userId: %q) { name } }`, broken), nil) // two attempts: the breaker opens
	post(t, e, fmt.Sprintf(`{ user(userId: %q) { name } }`, broken), nil) // rejected by the breaker
	var attempts []string
	var events []string
	var statuses []string
	for _, s := range rec.Ended() {
		for _, kv := range s.Attributes() {
			if kv.Key == "http.request.resend_count" && strings.Contains(s.Name(), "users") {
				attempts = append(attempts, kv.Value.Emit())
			}
		}
		for _, ev := range s.Events() {
			events = append(events, ev.Name)
		}
		if s.Name() == "Query.user" {
			statuses = append(statuses, s.Status().Description)
		}
	}
	if strings.Join(attempts, ",") != "0,0,1" {
		t.Errorf("attempts %v, want the viewer's 0, then the broken user's 0 and 1", attempts)
	}
	for _, want := range []string{"koodrive.breaker_open", "koodrive.user_cache_hit"} {
		if !strings.Contains(strings.Join(events, ","), want) {
			t.Errorf("events %v lack %s", events, want)
		}
	}
	if strings.Join(statuses, ",") != graph.CodeUpstreamError+","+graph.CodeUnavailable {
		t.Errorf("user span statuses %v, want the codes", statuses)
	}
	assertNoSecretInSpans(t, e, rec.Ended())
}

// assertNoSecretInSpans searches every attribute and event of every span for a token,
// a mobile number, a variable's value or a response body.
func assertNoSecretInSpans(t *testing.T, e *testEnv, spans []sdktrace.ReadOnlySpan) {
	t.Helper()
	secrets := append(e.Up.Secrets(), "v-SECRET-42", `"userGroupList"`, `"data"`)
	for _, s := range spans {
		text := s.Name() + s.Status().Description
		for _, kv := range s.Attributes() {
			text += string(kv.Key) + "=" + kv.Value.Emit() + ";"
		}
		for _, ev := range s.Events() {
			text += ev.Name
			for _, kv := range ev.Attributes {
				text += string(kv.Key) + "=" + kv.Value.Emit() + ";"
			}
		}
		for _, secret := range secrets {
			if strings.Contains(text, secret) {
				t.Fatalf("span %s holds %q: %s", s.Name(), secret, text)
			}
		}
	}
}
