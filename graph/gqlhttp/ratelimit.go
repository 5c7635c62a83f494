package gqlhttp

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/koodrive/facade/graph"
	"github.com/koodrive/facade/koodrive"
)

// The cost of an operation is the KooDrive calls it causes. Before it runs, its worst
// case (graph's MaxCalls) must fit in its caller's bucket, or it is refused with HTTP
// 429 and Retry-After; after, the caller is charged what was called (coalesced and
// cached calls are free) and the difference given back. Every response then says so in
// extensions.cost, after Shopify's GraphQL API.

// Limiter is a rate's buckets by key (fleet.LocalLimiter, or the fleet's on Redis).
type Limiter interface {
	Take(ctx context.Context, key string, n float64) (ok bool, wait time.Duration, left float64)
	Settle(ctx context.Context, key string, n float64) (left float64)
}

// RateLimit is RATE_LIMIT: each caller's bucket of KooDrive calls.
type RateLimit struct {
	Limiter          Limiter
	Burst            float64 // the bucket's size: maximumAvailable
	RestorePerSecond float64
}

// cost is what one request was charged, for extensions.cost.
type cost struct {
	requested, charged int
	left               float64
}

// callerLimit charges an operation's worst case before it runs. It comes after the shape
// and complexity limits: an operation they refuse costs nothing.
type callerLimit struct {
	limit    RateLimit
	maxCalls func(*graphql.OperationContext) int
	observer Observer
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
	graphql.ResponseInterceptor
} = callerLimit{}

func (callerLimit) ExtensionName() string                   { return "CallerRateLimit" }
func (callerLimit) Validate(graphql.ExecutableSchema) error { return nil }

func (l callerLimit) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	rec := recordFrom(ctx)
	c := &cost{requested: l.maxCalls(oc)}
	rec.setCost(c)
	ok, wait, left := l.limit.Limiter.Take(ctx, koodrive.CallerFrom(ctx).Key(), float64(c.requested))
	c.left = left
	if !ok {
		rec.refuse(wait, l.report(c, 0))
		l.observer.RateLimited("caller")
		msg := fmt.Sprintf("RATE_LIMIT: this operation may cause %d KooDrive calls; the caller has %.0f left", c.requested, left)
		if wait < 0 {
			msg = fmt.Sprintf("RATE_LIMIT: this operation may cause %d KooDrive calls, more than a caller's %.0f", c.requested, l.limit.Burst)
		}
		return &gqlerror.Error{Message: msg, Extensions: map[string]any{"code": graph.CodeRateLimited}}
	}
	c.charged = c.requested
	return nil
}

// InterceptResponse settles the charge once the operation has run, and reports it.
func (l callerLimit) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	resp := next(ctx)
	c := recordFrom(ctx).getCost()
	if resp == nil || c == nil {
		return resp
	}
	actual := int(koodrive.CallCount(ctx))
	if diff := actual - c.charged; diff != 0 {
		c.left = l.limit.Limiter.Settle(ctx, koodrive.CallerFrom(ctx).Key(), float64(diff))
	}
	if resp.Extensions == nil {
		resp.Extensions = map[string]any{}
	}
	resp.Extensions["cost"] = l.report(c, actual)
	return resp
}

// report is extensions.cost: requested and actual calls, and the caller's bucket.
func (l callerLimit) report(c *cost, actual int) map[string]any {
	return map[string]any{
		"requestedQueryCost": c.requested,
		"actualQueryCost":    actual,
		"throttleStatus": map[string]any{
			"maximumAvailable":   l.limit.Burst,
			"currentlyAvailable": math.Floor(c.left),
			"restoreRate":        l.limit.RestorePerSecond,
		},
	}
}

// writeRateLimited sets a refused operation's 429 headers: Retry-After in whole seconds,
// rounded up (none when the operation can never fit); it returns the response's
// extensions with extensions.cost.
func writeRateLimited(w http.ResponseWriter, rec *requestRecord, ext map[string]any) map[string]any {
	wait, report := rec.refusal()
	if wait >= 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
	}
	if ext == nil {
		ext = map[string]any{}
	}
	ext["cost"] = report
	return ext
}
