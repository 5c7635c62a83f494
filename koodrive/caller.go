package koodrive

import (
	"context"
	"encoding/hex"
)

// Caller is who a call is made for: the credentials and request-scoped headers that
// KooDrive expects on every call, taken from the GraphQL client's request.
type Caller struct {
	Authorization string // forwarded unchanged: "Bearer <t>" or "Bearer+<t>"
	UserID        string // X-User-Id
	TraceID       string // X-Traceid, the same on every call of one GraphQL request
	Language      string // language; empty sends none
}

// Key names the caller's credentials for what is kept per caller (rate limits): a hash
// of Authorization and X-User-Id, never the token itself.
func (c Caller) Key() string {
	sum := callerHash(Caller{Authorization: c.Authorization, UserID: c.UserID}, "caller")
	return hex.EncodeToString(sum[:])
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
