package koodrive

import (
	"errors"
	"fmt"
	"net/http"
)

// Sentinels matched with errors.Is against an *Error.
var (
	ErrUnauthenticated = errors.New("koodrive: unauthenticated")
	ErrForbidden       = errors.New("koodrive: forbidden")
	ErrNotFound        = errors.New("koodrive: not found")
	ErrTimeout         = errors.New("koodrive: timeout")
	ErrBadResponse     = errors.New("koodrive: malformed response")
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
