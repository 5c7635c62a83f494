package demo

import (
	"net/http"
	"strings"
	"time"
)

// Faults for Intercept and for tests' own handlers: the ways a real upstream fails.

// ResetConnection drops the TCP connection without an answer.
func ResetConnection(w http.ResponseWriter, _ *http.Request) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err == nil {
		_ = conn.Close()
	}
}

// TruncatedBody promises a longer body than it sends, then hangs up.
func TruncatedBody(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", "200")
	_, _ = w.Write([]byte(`{"code":0,"msg":"success","data":{"name":"Sa`))
}

// MalformedJSON answers 200 with a body that is not JSON.
func MalformedJSON(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(`{"code":0,"msg":"success","data":{"name":`))
}

// OversizedBody answers 200 with a valid envelope of about n bytes.
func OversizedBody(n int) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"code":0,"msg":"success","data":{"name":"` + strings.Repeat("x", n) + `"}}`))
	}
}

// Hang answers nothing until the caller gives up or d has passed.
func Hang(d time.Duration) http.HandlerFunc {
	return func(_ http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(d):
		}
	}
}

// Status answers status with a KooDrive error envelope and optional Retry-After.
func Status(status int, retryAfter string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		if retryAfter != "" {
			w.Header().Set("Retry-After", retryAfter)
		}
		reply(w, status, 9000+status, http.StatusText(status), nil)
	}
}
