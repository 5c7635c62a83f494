package gqlhttp

import (
	"context"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/koodrive/facade/graph"
	"github.com/koodrive/facade/koodrive"
)

// Observer receives what the edge sees of each request, for metrics. Its methods must
// be fast and safe for concurrent use.
type Observer interface {
	// Request reports one GraphQL request: its operation name ("" when unknown),
	// outcome ("ok", "partial" or "error"), duration, and its trace id when it was
	// sampled (for an exemplar), else "".
	Request(operation, outcome string, d time.Duration, traceID string)
	// Error reports one error's extensions.code.
	Error(code string)
	// RateLimited reports an operation refused by its caller's RATE_LIMIT ("caller").
	RateLimited(reason string)
	// FieldUsed reports a schema field an operation run selects, once per operation.
	FieldUsed(typeName, field string)
	// OutsideManifest reports an operation that ran in audit mode though the
	// persisted-query manifest does not list it.
	OutsideManifest()
}

type noObserver struct{}

func (noObserver) Request(string, string, time.Duration, string) {}
func (noObserver) Error(string)                                  {}
func (noObserver) RateLimited(string)                            {}
func (noObserver) FieldUsed(string, string)                      {}
func (noObserver) OutsideManifest()                              {}

// requestRecord gathers, while a request runs, what its log line and metrics say.
type requestRecord struct {
	credentials string // which credential header is wrong; "" when they are well formed
	mu          sync.Mutex
	operation   string
	hasData     bool
	codes       []string
	cost        *cost          // RATE_LIMIT's charge, when it is on
	retryAfter  time.Duration  // a refused operation's wait (-1: never fits)
	costReport  map[string]any // a refused operation's extensions.cost
}

func (rec *requestRecord) setCost(c *cost) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	rec.cost = c
}

func (rec *requestRecord) getCost() *cost {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return rec.cost
}

func (rec *requestRecord) refuse(wait time.Duration, report map[string]any) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	rec.retryAfter, rec.costReport = wait, report
}

func (rec *requestRecord) refusal() (time.Duration, map[string]any) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return rec.retryAfter, rec.costReport
}

type recordKey struct{}

func recordFrom(ctx context.Context) *requestRecord {
	if r, ok := ctx.Value(recordKey{}).(*requestRecord); ok {
		return r
	}
	return &requestRecord{} // outside RequestScope: recorded nowhere
}

func (rec *requestRecord) addCode(code string) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if !slices.Contains(rec.codes, code) {
		rec.codes = append(rec.codes, code)
	}
}

// recordingPresenter presents errors with present (graph's presenter) and records each
// code for the request's log line and metrics. An UNAUTHENTICATED from malformed
// credentials (no call was made) says which header is wrong.
func recordingPresenter(present graphql.ErrorPresenterFunc, observer Observer) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		gqlErr := present(ctx, err)
		code, _ := gqlErr.Extensions["code"].(string)
		rec := recordFrom(ctx)
		if code == graph.CodeUnauthenticated && rec.credentials != "" {
			gqlErr.Message = rec.credentials
		}
		rec.addCode(code)
		observer.Error(code)
		return gqlErr
	}
}

// observeResponses notes the operation's name and whether it produced data.
func observeResponses(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	resp := next(ctx)
	rec := recordFrom(ctx)
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if oc := graphql.GetOperationContext(ctx); oc != nil && oc.Operation != nil {
		rec.operation = oc.Operation.Name // a parsed GraphQL name: safe for logs and labels
	}
	rec.hasData = resp != nil && len(resp.Data) > 0 && string(resp.Data) != "null"
	return resp
}

// finish writes the request's log line and metrics.
func (s scope) finish(ctx context.Context, rec *requestRecord, status int, took time.Duration) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	outcome := "ok"
	switch {
	case len(rec.codes) > 0 && rec.hasData:
		outcome = "partial"
	case len(rec.codes) > 0 || status >= 400:
		outcome = "error"
	}
	var traceID string
	if s.opts.Tracing != nil {
		traceID = sampledTraceID(ctx)
		markServerSpan(ctx, koodrive.CallerFrom(ctx).TraceID, rec.codes)
	}
	s.opts.Observer.Request(rec.operation, outcome, took, traceID)
	s.log.InfoContext(ctx, "graphql request",
		"x_traceid", koodrive.CallerFrom(ctx).TraceID,
		"operation", rec.operation,
		"status", status,
		"outcome", outcome,
		"duration_ms", float64(took.Microseconds())/1000,
		"upstream_calls", koodrive.CallCount(ctx),
		"error_codes", rec.codes,
	)
}

// statusRecorder keeps the status a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }
