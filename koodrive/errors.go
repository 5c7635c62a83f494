package koodrive

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
)

// Sentinels matched with errors.Is against an *Error.
var (
	ErrUnauthenticated = errors.New("koodrive: unauthenticated")
	ErrForbidden       = errors.New("koodrive: forbidden")
	ErrNotFound        = errors.New("koodrive: not found")
	ErrTimeout         = errors.New("koodrive: timeout")
	ErrBadResponse     = errors.New("koodrive: malformed response")
	ErrUnavailable     = errors.New("koodrive: unavailable (circuit open)")
	ErrRateLimited     = errors.New("koodrive: KOODRIVE_RATE_LIMIT reached")
)

// Error is every failed KooDrive call: a refused request, a non-2xx status, a non-zero
// envelope code, a malformed or oversized body, a timeout or a transport failure.
// It never holds a URL, a header or a response body, so it is safe to log.
type Error struct {
	Op         string // adapter method, e.g. "GetUser"
	StatusCode int    // HTTP status; 0 when no response arrived
	Code       int    // upstream envelope code; 0 when there was none
	Message    string // upstream msg, or a short description of the failure
	TraceID    string // X-Traceid the call carried
	kind       error  // one of the sentinels, or nil
	cause      error  // underlying error, stripped of URLs
}

func (e *Error) Error() string {
	s := "koodrive " + e.Op + ":"
	if e.StatusCode != 0 {
		s += fmt.Sprintf(" status %d", e.StatusCode)
	}
	if e.Code != 0 {
		s += fmt.Sprintf(" code %d", e.Code)
	}
	if e.Message != "" {
		s += " " + e.Message
	}
	if e.cause != nil {
		s += ": " + e.cause.Error()
	}
	return s
}

// Unwrap exposes the cause (e.g. context.DeadlineExceeded) to errors.Is.
func (e *Error) Unwrap() error { return e.cause }

// Is matches the sentinels.
func (e *Error) Is(target error) bool { return target != nil && target == e.kind }

// kindForStatus classifies an HTTP status; a 200 with a non-zero code has no kind.
func kindForStatus(status int) error {
	switch status {
	case http.StatusUnauthorized:
		return ErrUnauthenticated
	case http.StatusForbidden:
		return ErrForbidden
	case http.StatusNotFound:
		return ErrNotFound
	case http.StatusGatewayTimeout, http.StatusRequestTimeout:
		return ErrTimeout
	}
	return nil
}

// transportKind: a call whose deadline passed, or whose caller went away, timed out.
func transportKind(err error) error {
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) || (errors.As(err, &ne) && ne.Timeout()) {
		return ErrTimeout
	}
	return nil
}

// safeError is a transport error with the addresses taken out of its text.
type safeError struct {
	msg string
	err error
}

func (e *safeError) Error() string { return e.msg }
func (e *safeError) Unwrap() error { return e.err }

// sanitize drops what a transport error says of the upstream's URL, host and port.
func sanitize(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var dns *net.DNSError
	var op *net.OpError
	switch {
	case errors.As(err, &dns):
		return &safeError{msg: "dns lookup failed", err: err}
	case errors.As(err, &op):
		return &safeError{msg: op.Op + ": " + op.Err.Error(), err: err}
	}
	return err
}
