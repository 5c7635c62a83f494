package graph

import (
	"context"
	"errors"
	"fmt"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/koodrive/facade/koodrive"
)

// The catalog of extensions.code values: every code a client can meet, in one block.
// The README's error table lists exactly these (TestREADMEErrorTableIsTheCatalog).
const (
	// Refused or failed on KooDrive's side, or by a resolver (graph).
	CodeUnauthenticated = "UNAUTHENTICATED"
	CodeForbidden       = "FORBIDDEN"
	CodeNotFound        = "NOT_FOUND"
	CodeBadUserInput    = "BAD_USER_INPUT"
	CodeUpstreamError   = "UPSTREAM_ERROR"
	CodeUpstreamTimeout = "UPSTREAM_TIMEOUT"
	CodeUnavailable     = "UPSTREAM_UNAVAILABLE"
	CodeInternal        = "INTERNAL_SERVER_ERROR"

	// Refused before execution, at the HTTP edge (graph/gqlhttp).
	CodeBadRequest              = "BAD_REQUEST"
	CodeParseFailed             = "GRAPHQL_PARSE_FAILED"      // gqlgen's errcode.ParseFailed
	CodeValidationFailed        = "GRAPHQL_VALIDATION_FAILED" // gqlgen's errcode.ValidationFailed
	CodePersistedQueryNotFound  = "PERSISTED_QUERY_NOT_FOUND" // gqlgen's APQ: send the query with its hash
	CodePersistedQueryNotInList = "PERSISTED_QUERY_NOT_IN_LIST"
	CodeQueryTooLarge           = "QUERY_TOO_LARGE"
	CodeTooManyRootFields       = "TOO_MANY_ROOT_FIELDS"
	CodeQueryTooDeep            = "QUERY_TOO_DEEP"
	CodeTooManyAliases          = "TOO_MANY_ALIASES"
	CodeComplexityLimit         = "COMPLEXITY_LIMIT_EXCEEDED" // gqlgen's complexity limit
	CodeRateLimited             = "RATE_LIMITED"              // the caller's RATE_LIMIT, or KOODRIVE_RATE_LIMIT
)

// userError is an error whose message is written for the client.
type userError struct{ code, msg string }

func (e *userError) Error() string { return e.msg }

func badInput(format string, args ...any) error {
	return &userError{code: CodeBadUserInput, msg: fmt.Sprintf(format, args...)}
}

// PresentError is the one place errors become what clients see: known errors get an
// extensions.code, KooDrive failures keep the upstream status, code and message, and
// anything else is logged with the trace id and shown generically. The HTTP edge
// (gqlhttp) records each code for the request's log line and metrics.
func (r *Resolver) PresentError(ctx context.Context, err error) *gqlerror.Error {
	gqlErr := graphql.DefaultErrorPresenter(ctx, err)
	var (
		ue *userError
		ke *koodrive.Error
		ge *gqlerror.Error
	)
	switch {
	case errors.As(err, &ue):
		setCode(gqlErr, ue.msg, ue.code)
	case errors.As(err, &ke):
		r.presentUpstream(ctx, gqlErr, ke)
	case errors.As(err, &ge) && ge.Err == nil:
		// gqlgen's own request errors (parse, validation, APQ): safe; most are coded.
		if gqlErr.Extensions["code"] == nil {
			setCode(gqlErr, gqlErr.Message, CodeBadRequest)
		}
	default:
		r.log.ErrorContext(ctx, "resolver failed", "x_traceid", koodrive.CallerFrom(ctx).TraceID, "error", err)
		setCode(gqlErr, "internal server error", CodeInternal)
	}
	return gqlErr
}

func (r *Resolver) presentUpstream(ctx context.Context, gqlErr *gqlerror.Error, ke *koodrive.Error) {
	switch {
	case errors.Is(ke, koodrive.ErrUnauthenticated) && ke.StatusCode == 0:
		setCode(gqlErr, "missing or malformed credentials: send Authorization (Bearer <token>) and X-User-Id", CodeUnauthenticated)
		return
	case errors.Is(ke, koodrive.ErrUnauthenticated):
		setCode(gqlErr, "KooDrive refused the credentials", CodeUnauthenticated)
	case errors.Is(ke, koodrive.ErrForbidden):
		setCode(gqlErr, "KooDrive refused access", CodeForbidden)
	case errors.Is(ke, koodrive.ErrNotFound):
		setCode(gqlErr, "not found", CodeNotFound)
	case errors.Is(ke, koodrive.ErrTimeout):
		setCode(gqlErr, "KooDrive did not answer in time, or the request was cancelled", CodeUpstreamTimeout)
	case errors.Is(ke, koodrive.ErrRateLimited):
		setCode(gqlErr, "KOODRIVE_RATE_LIMIT: no slot for this call within the request's budget", CodeRateLimited)
	case errors.Is(ke, koodrive.ErrUnavailable):
		setCode(gqlErr, "KooDrive is failing; calls are paused for a while", CodeUnavailable)
	default:
		setCode(gqlErr, "KooDrive request failed", CodeUpstreamError)
	}
	// koodrive.Error holds no URL, header or body, so it is safe to log.
	r.log.WarnContext(ctx, "upstream call failed", "x_traceid", ke.TraceID, "error", ke.Error())
	gqlErr.Extensions["upstream"] = map[string]any{"status": ke.StatusCode, "code": ke.Code, "message": ke.Message}
	gqlErr.Extensions["traceId"] = ke.TraceID
}

func setCode(e *gqlerror.Error, msg, code string) {
	e.Message = msg
	if e.Extensions == nil {
		e.Extensions = map[string]any{}
	}
	e.Extensions["code"] = code
}

// Recover turns a resolver panic into a logged internal error instead of a crash.
func (r *Resolver) Recover(ctx context.Context, p any) error {
	r.log.ErrorContext(ctx, "resolver panic", "x_traceid", koodrive.CallerFrom(ctx).TraceID, "panic", fmt.Sprint(p))
	return &gqlerror.Error{Message: "internal server error", Extensions: map[string]any{"code": CodeInternal}}
}
