package koodrive

import "context"

// Caller is who a call is made for: the credentials and request-scoped headers that
// KooDrive expects on every call, taken from the GraphQL client's request.
type Caller struct {
	Authorization string // forwarded unchanged: "Bearer <t>" or "Bearer+<t>"
	UserID        string // X-User-Id
	TraceID       string // X-Traceid, the same on every call of one GraphQL request
	Language      string // language; empty sends none
}

// Authenticated reports whether the caller carries the credentials KooDrive requires.
func (c Caller) Authenticated() bool { return c.Authorization != "" && c.UserID != "" }

type callerKey struct{}

// WithCaller returns a context whose KooDrive calls are made for c.
func WithCaller(ctx context.Context, c Caller) context.Context {
	return context.WithValue(ctx, callerKey{}, c)
}

// CallerFrom returns the caller stored by WithCaller, or the zero Caller.
func CallerFrom(ctx context.Context) Caller {
	c, _ := ctx.Value(callerKey{}).(Caller)
	return c
}
