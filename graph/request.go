package graph

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/koodrive/facade/koodrive"
)

var (
	bearerToken = regexp.MustCompile(`^Bearer[ +]\S+$`)
	kooDriveID  = regexp.MustCompile(`^[0-9]{1,19}$`)
	safeTraceID = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,64}$`)
	languageTag = regexp.MustCompile(`^[A-Za-z]{2,8}([-_][A-Za-z0-9]{1,8}){0,3}$`)
)

// RequestScope puts what one GraphQL request shares into its context: the caller that
// KooDrive calls are made for, the trace id (echoed in the X-Traceid response header),
// fresh loaders and the request's time budget; when it ends, one log line and the
// request's metrics.
func (r *Resolver) RequestScope(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		start := time.Now()
		caller := r.callerFrom(req.Header)
		w.Header().Set("X-Traceid", caller.TraceID)
		ctx, cancel := context.WithTimeout(req.Context(), r.opts.RequestTimeout)
		defer cancel()
		ctx = koodrive.WithCaller(ctx, caller)
		ctx = koodrive.WithCallCount(ctx)
		ctx = context.WithValue(ctx, loadersKey{}, r.newLoaders())
		rec := &requestRecord{}
		ctx = context.WithValue(ctx, recordKey{}, rec)
		sw := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(sw, req.WithContext(ctx))
		r.finish(ctx, rec, sw.status, time.Since(start))
	})
}

// callerFrom reads the caller's headers. Malformed credentials are dropped, so the
// adapter refuses the call before it reaches KooDrive; a request with none at all acts
// as the demo caller in demo mode.
func (r *Resolver) callerFrom(h http.Header) koodrive.Caller {
	c := koodrive.Caller{TraceID: traceID(h.Get("X-Traceid")), Language: language(h)}
	auth, userID := h.Get("Authorization"), h.Get("X-User-Id")
	if auth == "" && userID == "" && r.opts.DemoCaller != nil {
		auth, userID = r.opts.DemoCaller.Authorization, r.opts.DemoCaller.UserID
	}
	if bearerToken.MatchString(auth) && kooDriveID.MatchString(userID) {
		c.Authorization, c.UserID = auth, userID
	}
	return c
}

// traceID keeps a well-formed client trace id and otherwise makes one, so nothing a
// client sends is reflected into headers or logs unchecked.
func traceID(fromClient string) string {
	if safeTraceID.MatchString(fromClient) {
		return fromClient
	}
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// language forwards the client's language header, else the first Accept-Language tag.
func language(h http.Header) string {
	if l := h.Get("language"); languageTag.MatchString(l) {
		return l
	}
	first, _, _ := strings.Cut(h.Get("Accept-Language"), ",")
	first, _, _ = strings.Cut(first, ";")
	if first = strings.TrimSpace(first); languageTag.MatchString(first) {
		return first
	}
	return ""
}
