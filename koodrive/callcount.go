package koodrive

import (
	"context"
	"sync/atomic"
)

type callCountKey struct{}

// callCount counts the upstream attempts made with a context, and adds each to the
// count of the context it was made from, so a count taken inside a request (one list
// walk, say) is also in the request's.
type callCount struct {
	n      atomic.Int64
	parent *callCount
}

// WithCallCount returns a context whose upstream attempts are counted, for a
// per-request log line; CallCount reads the count. Nested, the outer count includes the
// inner.
func WithCallCount(ctx context.Context) context.Context {
	parent, _ := ctx.Value(callCountKey{}).(*callCount)
	return context.WithValue(ctx, callCountKey{}, &callCount{parent: parent})
}

// CallCount is the number of upstream attempts made with ctx since WithCallCount.
func CallCount(ctx context.Context) int64 {
	if c, ok := ctx.Value(callCountKey{}).(*callCount); ok {
		return c.n.Load()
	}
	return 0
}

func countCall(ctx context.Context) {
	c, _ := ctx.Value(callCountKey{}).(*callCount)
	for ; c != nil; c = c.parent {
		c.n.Add(1)
	}
}
