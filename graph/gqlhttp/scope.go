package gqlhttp

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/koodrive/facade/graph"
	"github.com/koodrive/facade/koodrive"
)

var (
	bearerToken = regexp.MustCompile(`^Bearer[ +]\S+$`)
	safeTraceID = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,64}$`)
	languageTag = regexp.MustCompile(`^[A-Za-z]{2,8}([-_][A-Za-z0-9]{1,8}){0,3}$`)
)

// scope runs each GraphQL request with what it shares in its context: the caller that
// KooDrive calls are made for, the trace id (echoed in the X-Traceid response header),
// fresh loaders and the request's time budget; when it ends, one log line and the
// request's metrics.
type scope struct {
	resolver *graph.Resolver
	log      *slog.Logger
	opts     Options
	next     http.Handler
}

func (s scope) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	start := time.Now()
	caller, credentials := s.callerFrom(req.Header)
	w.Header().Set("X-Traceid", caller.TraceID)
	ctx, cancel := context.WithTimeout(req.Context(), s.opts.RequestTimeout)
	defer cancel()
	ctx = koodrive.WithCaller(ctx, caller)
	ctx = koodrive.WithCallCount(ctx)
	ctx = s.resolver.WithLoaders(ctx)
	rec := &requestRecord{credentials: credentials}
	ctx = context.WithValue(ctx, recordKey{}, rec)
	sw := &statusRecorder{ResponseWriter: w}
	s.next.ServeHTTP(sw, req.WithContext(ctx))
	s.finish(ctx, rec, sw.status, time.Since(start))
}

// callerFrom reads the caller's headers. Malformed credentials are dropped, so the
// adapter refuses every call before it reaches KooDrive, and credentials says which
// header is wrong; a request with none at all acts as the demo caller in demo mode.
func (s scope) callerFrom(h http.Header) (c koodrive.Caller, credentials string) {
	c = koodrive.Caller{TraceID: traceID(h.Get("X-Traceid")), Language: language(h)}
	auth, userID := h.Get("Authorization"), h.Get("X-User-Id")
	if auth == "" && userID == "" && s.opts.DemoCaller != nil {
		auth, userID = s.opts.DemoCaller.Authorization, s.opts.DemoCaller.UserID
	}
	switch {
	case auth == "":
		return c, "the Authorization header is missing: send Authorization: Bearer <token>"
	case !bearerToken.MatchString(auth):
		return c, "the Authorization header is malformed: send Authorization: Bearer <token>"
	case userID == "":
		return c, "the X-User-Id header is missing: send the caller's KooDrive user id"
	case !koodrive.IsID(userID):
		return c, "the X-User-Id header is malformed: a KooDrive user id is up to 19 decimal digits"
	}
	c.Authorization, c.UserID = auth, userID
	return c, ""
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
