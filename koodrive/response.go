package koodrive

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/sony/gobreaker/v2"
	"go.opentelemetry.io/otel/trace"
)

// response is one upstream answer as read, shared by coalesced callers.
type response struct {
	status      int
	retryAfter  string
	body        []byte
	tooLarge    bool       // the body went past maxBodyBytes and was not read further
	clockSkewed bool       // a 401 whose Date shows the X-Date sent was outside KooDrive's window
	span        trace.Span // the attempt's client span, when tracing: ended by endAnswered
}

// envelope is the part of every KooDrive answer that says whether it succeeded;
// response types embed it, so a body is decoded once.
type envelope struct {
	Code *int   `json:"code"`
	Msg  string `json:"msg"`
}

func (e *envelope) fields() *envelope { return e }

type enveloped interface{ fields() *envelope }

// readBody reads at most limit+1 bytes of resp's body (one more says it is too large),
// in one allocation when the length is announced and within the limit.
func readBody(resp *http.Response, limit int64) ([]byte, error) {
	if n := resp.ContentLength; n >= 0 && n <= limit {
		body := make([]byte, n)
		_, err := io.ReadFull(resp.Body, body)
		return body, err
	}
	return io.ReadAll(io.LimitReader(resp.Body, limit+1))
}

// callFailure is the *Error of a call that got no usable answer: the breaker refused
// it, or the transport failed before or while reading the body. nil when err is.
func callFailure(resp *response, err error) *Error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, gobreaker.ErrOpenState) || errors.Is(err, gobreaker.ErrTooManyRequests):
		return &Error{Message: "circuit open after repeated failures", kind: ErrUnavailable}
	case errors.Is(err, errNoSlot):
		return &Error{Message: "no call slot under KOODRIVE_RATE_LIMIT within the request's budget", kind: ErrRateLimited}
	case errors.Is(err, errHeld):
		return &Error{StatusCode: http.StatusTooManyRequests, Message: "KooDrive asked to wait (429 Retry-After) past the request's budget", kind: ErrUnavailable}
	case resp != nil:
		return &Error{StatusCode: resp.status, Message: "reading response", kind: transportKind(err), cause: sanitize(err)}
	default:
		return &Error{Message: "request failed", kind: transportKind(err), cause: sanitize(err)}
	}
}

// checkResponse reads an answer as KooDrive defines success, after go-github's
// CheckResponse: a 2xx whose envelope code is 0. It decodes the body into out (a
// response type embedding envelope) once on the happy path, and the envelope alone
// when the rest does not fit. A failure is an *Error without Op and TraceID, which the
// caller sets; nil means out holds the answer.
func checkResponse(resp *response, out enveloped) *Error {
	if resp.tooLarge {
		return &Error{StatusCode: resp.status, Message: "response body over the size limit", kind: ErrBadResponse}
	}
	decodeErr := json.Unmarshal(resp.body, out)
	env := out.fields()
	if decodeErr != nil {
		*env = envelope{}
		_ = json.Unmarshal(resp.body, env)
	}
	ok2xx := resp.status >= 200 && resp.status < 300
	switch {
	case !ok2xx && env.Code == nil:
		return &Error{StatusCode: resp.status, Message: http.StatusText(resp.status), kind: kindForStatus(resp.status)}
	case !ok2xx:
		return &Error{StatusCode: resp.status, Code: *env.Code, Message: env.Msg, kind: kindForStatus(resp.status)}
	case env.Code == nil:
		return &Error{StatusCode: resp.status, Message: "malformed response body", kind: ErrBadResponse}
	case *env.Code != 0:
		return &Error{StatusCode: resp.status, Code: *env.Code, Message: env.Msg}
	case decodeErr != nil:
		return &Error{StatusCode: resp.status, Message: "malformed response body", kind: ErrBadResponse}
	}
	return nil
}
