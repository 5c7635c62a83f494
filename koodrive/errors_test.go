package koodrive

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

var sentinels = map[string]error{
	"ErrUnauthenticated": ErrUnauthenticated,
	"ErrForbidden":       ErrForbidden,
	"ErrNotFound":        ErrNotFound,
	"ErrTimeout":         ErrTimeout,
	"ErrBadResponse":     ErrBadResponse,
}

type wantError struct {
	op         string
	status     int    // HTTP status; 0 when no response arrived
	code       int    // upstream envelope code
	message    string // checked when non-empty
	kind       error  // the one sentinel err must match, or nil for none
	traceID    string
	mustNotSay []string // besides the token: body, URL, host:port, paths
}

// checkError asserts that err is an *Error as described, and that its text carries no
// credentials or whatever else must not reach clients or logs.
func checkError(t *testing.T, err error, want wantError) {
	t.Helper()
	if err == nil {
		t.Fatal("err = nil, want an error")
	}
	var ke *Error
	if !errors.As(err, &ke) {
		t.Fatalf("err = %T %v, want a *koodrive.Error", err, err)
	}
	if ke.Op != want.op || ke.StatusCode != want.status || ke.Code != want.code || ke.TraceID != want.traceID {
		t.Errorf("err = {Op:%q StatusCode:%d Code:%d TraceID:%q}, want {Op:%q StatusCode:%d Code:%d TraceID:%q}",
			ke.Op, ke.StatusCode, ke.Code, ke.TraceID, want.op, want.status, want.code, want.traceID)
	}
	if want.message != "" && ke.Message != want.message {
		t.Errorf("Message = %q, want %q", ke.Message, want.message)
	}
	for name, s := range sentinels {
		if got, wantIs := errors.Is(err, s), s == want.kind; got != wantIs {
			t.Errorf("errors.Is(err, %s) = %v, want %v (err: %v)", name, got, wantIs, err)
		}
	}
	text := err.Error()
	for _, secret := range append([]string{testToken, "Bearer"}, want.mustNotSay...) {
		if secret != "" && strings.Contains(text, secret) {
			t.Errorf("err.Error() = %q contains %q", text, secret)
		}
	}
}

func TestErrorEnvelopes(t *testing.T) {
	const marker = "BODY-MARKER-5c1d"
	tests := []struct {
		name   string
		status int
		body   string
		want   wantError
	}{
		{"200 with a non-zero code", 200, `{"code":1004,"msg":"X-Date expired","detail":"` + marker + `"}`,
			wantError{status: 200, code: 1004, message: "X-Date expired"}},
		{"401 envelope", 401, `{"code":1001,"msg":"invalid access token","detail":"` + marker + `"}`,
			wantError{status: 401, code: 1001, message: "invalid access token", kind: ErrUnauthenticated}},
		{"403 envelope", 403, `{"code":1403,"msg":"no permission","detail":"` + marker + `"}`,
			wantError{status: 403, code: 1403, message: "no permission", kind: ErrForbidden}},
		{"404 envelope", 404, `{"code":2404,"msg":"user not found","detail":"` + marker + `"}`,
			wantError{status: 404, code: 2404, message: "user not found", kind: ErrNotFound}},
		{"404 plain text", 404, "404 page not found " + marker,
			wantError{status: 404, message: "Not Found", kind: ErrNotFound}},
		{"500 HTML", 500, "<html><body><h1>Internal error</h1><pre>" + marker + "</pre></body></html>",
			wantError{status: 500, message: "Internal Server Error", mustNotSay: []string{"<html", "<pre>"}}},
		{"502 empty body", 502, "",
			wantError{status: 502, message: "Bad Gateway"}},
		{"504 envelope", 504, `{"code":5004,"msg":"gateway timeout"}`,
			wantError{status: 504, code: 5004, message: "gateway timeout", kind: ErrTimeout}},
		{"200 malformed JSON", 200, `{"code":0,"msg":"OK","data":{"name":"` + marker,
			wantError{status: 200, kind: ErrBadResponse}},
		{"200 HTML", 200, "<html>" + marker + "</html>",
			wantError{status: 200, kind: ErrBadResponse, mustNotSay: []string{"<html"}}},
		{"200 JSON without code", 200, `{"msg":"OK","data":{"name":"` + marker + `"}}`,
			wantError{status: 200, kind: ErrBadResponse}},
		{"200 code as a string", 200, `{"code":"0","msg":"OK","data":{"name":"` + marker + `"}}`,
			wantError{status: 200, kind: ErrBadResponse}},
		{"200 data of the wrong shape", 200, `{"code":0,"msg":"OK","data":{"role":"` + marker + `"}}`,
			wantError{status: 200, kind: ErrBadResponse}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := setup(t)
			f.mux.HandleFunc("GET /koodrive/ose/v1/users/{id}", func(w http.ResponseWriter, r *http.Request) {
				if strings.HasPrefix(tt.body, "<") {
					w.Header().Set("Content-Type", "text/html")
				}
				w.WriteHeader(tt.status)
				fmt.Fprint(w, tt.body)
			})
			user, err := f.client.GetUser(callerContext(t, testCaller()), "1316083732377070977")
			if user != nil {
				t.Errorf("user = %+v, want nil with an error", user)
			}
			want := tt.want
			want.op, want.traceID = "GetUser", testTraceID
			want.mustNotSay = append(want.mustNotSay, marker, f.server.URL, baseURLPath)
			if tt.body != "" {
				want.mustNotSay = append(want.mustNotSay, tt.body)
			}
			checkError(t, err, want)
		})
	}
}

func TestMaxBodyBytes(t *testing.T) {
	const limit = 1024
	const head, tail = `{"code":0,"msg":"OK","data":{"name":"`, `"}}`
	envelopeOfSize := func(n int) string { return head + strings.Repeat("x", n-len(head)-len(tail)) + tail }
	t.Run("body of exactly the limit is read", func(t *testing.T) {
		f := setup(t, WithMaxBodyBytes(limit))
		f.mux.HandleFunc("GET /koodrive/ose/v1/users/{id}", func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprint(w, envelopeOfSize(limit))
		})
		u, err := f.client.GetUser(callerContext(t, testCaller()), "1")
		if err != nil || u.Name == nil || len(*u.Name) != limit-len(head)-len(tail) {
			t.Fatalf("GetUser with a %d-byte body and a %d-byte limit = %+v, %v; want the user", limit, limit, u, err)
		}
	})
	t.Run("announced length within the limit is read whole", func(t *testing.T) {
		f := setup(t, WithMaxBodyBytes(8<<10))
		body := envelopeOfSize(6 << 10) // past the server's buffer: sent in more than one write
		f.mux.HandleFunc("GET /koodrive/ose/v1/users/{id}", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
			for i := 0; i < len(body); i += 1000 {
				_, _ = io.WriteString(w, body[i:min(i+1000, len(body))])
				w.(http.Flusher).Flush()
			}
		})
		u, err := f.client.GetUser(callerContext(t, testCaller()), "1")
		if err != nil || u.Name == nil || len(*u.Name) != len(body)-len(head)-len(tail) {
			t.Fatalf("GetUser with an announced %d-byte body = %+v, %v; want the user", len(body), u, err)
		}
	})
	t.Run("announced length over the limit", func(t *testing.T) {
		f := setup(t, WithMaxBodyBytes(limit))
		f.mux.HandleFunc("GET /koodrive/ose/v1/users/{id}", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", strconv.Itoa(limit+1))
			fmt.Fprint(w, envelopeOfSize(limit+1))
		})
		_, err := f.client.GetUser(callerContext(t, testCaller()), "1")
		checkError(t, err, wantError{op: "GetUser", status: 200, kind: ErrBadResponse, traceID: testTraceID, mustNotSay: []string{"xxxx"}})
	})
	t.Run("one byte over the limit", func(t *testing.T) {
		f := setup(t, WithMaxBodyBytes(limit))
		f.mux.HandleFunc("GET /koodrive/ose/v1/users/{id}", func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprint(w, envelopeOfSize(limit+1))
		})
		_, err := f.client.GetUser(callerContext(t, testCaller()), "1")
		checkError(t, err, wantError{op: "GetUser", status: 200, kind: ErrBadResponse, traceID: testTraceID, mustNotSay: []string{"xxxx"}})
	})
	t.Run("10 MiB body", func(t *testing.T) {
		f := setup(t, WithMaxBodyBytes(limit))
		f.mux.HandleFunc("GET /koodrive/ose/v1/users/{id}", func(w http.ResponseWriter, r *http.Request) {
			chunk := []byte(strings.Repeat("x", 64<<10))
			fmt.Fprint(w, `{"code":0,"data":{"name":"`)
			for written := 0; written < 10<<20; written += len(chunk) {
				if _, err := w.Write(chunk); err != nil {
					return // the client hung up, as it should
				}
			}
		})
		start := time.Now()
		_, err := f.client.GetUser(callerContext(t, testCaller()), "1")
		checkError(t, err, wantError{op: "GetUser", status: 200, kind: ErrBadResponse, traceID: testTraceID, mustNotSay: []string{"xxxx"}})
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("GetUser took %v on a 10 MiB body with a %d-byte limit", d, limit)
		}
	})
	t.Run("endless body stops at the limit", func(t *testing.T) {
		// The handler sends more than the limit and then never finishes: a client reading
		// until EOF would run into its 5s timeout instead of failing at once.
		f := setup(t, WithMaxBodyBytes(limit), WithTimeout(5*time.Second))
		release := make(chan struct{})
		t.Cleanup(func() { close(release) })
		f.mux.HandleFunc("GET /koodrive/ose/v1/users/{id}", func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprint(w, `{"code":0,"data":{"name":"`+strings.Repeat("x", 4*limit))
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
			case <-release:
			}
		})
		start := time.Now()
		_, err := f.client.GetUser(callerContext(t, testCaller()), "1")
		checkError(t, err, wantError{op: "GetUser", status: 200, kind: ErrBadResponse, traceID: testTraceID})
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("GetUser took %v: it read past the limit", d)
		}
	})
}

func TestTimeout(t *testing.T) {
	block := func(release chan struct{}, beforeBlocking func(w http.ResponseWriter)) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			beforeBlocking(w)
			select {
			case <-r.Context().Done():
			case <-release:
			}
		}
	}
	tests := []struct {
		name           string
		beforeBlocking func(w http.ResponseWriter)
		wantStatus     int
	}{
		{"no response", func(http.ResponseWriter) {}, 0},
		{"headers but no body", func(w http.ResponseWriter) {
			fmt.Fprint(w, `{"code":0,`)
			w.(http.Flusher).Flush()
		}, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := setup(t, WithTimeout(50*time.Millisecond))
			release := make(chan struct{})
			t.Cleanup(func() { close(release) })
			f.mux.HandleFunc("GET /koodrive/ose/v1/users/{id}", block(release, tt.beforeBlocking))
			start := time.Now()
			_, err := f.client.GetUser(callerContext(t, testCaller()), "1")
			elapsed := time.Since(start)
			checkError(t, err, wantError{op: "GetUser", status: tt.wantStatus, kind: ErrTimeout, traceID: testTraceID,
				mustNotSay: []string{f.server.URL, strings.TrimPrefix(f.server.URL, "http://"), baseURLPath, "/koodrive/"}})
			if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "deadline exceeded") {
				t.Errorf("err = %v, want it to match and name context.DeadlineExceeded", err)
			}
			if elapsed < 40*time.Millisecond || elapsed > 2*time.Second {
				t.Errorf("GetUser returned after %v, want about the 50ms timeout", elapsed)
			}
		})
	}
}

// A caller that went away (client disconnect) ends its calls, reported as a timeout.
func TestCanceledContext_isATimeout(t *testing.T) {
	f := setup(t)
	entered := make(chan struct{})
	f.mux.HandleFunc("GET /koodrive/ose/v1/users/{id}", func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-r.Context().Done()
	})
	ctx, cancel := context.WithCancel(callerContext(t, testCaller()))
	go func() { <-entered; cancel() }()
	_, err := f.client.GetUser(ctx, "1")
	checkError(t, err, wantError{op: "GetUser", kind: ErrTimeout, traceID: testTraceID})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("errors.Is(err, context.Canceled) = false for %v", err)
	}
}

func TestConnectionRefused(t *testing.T) {
	f := setup(t)
	f.server.Close() // nothing listens on its address any more
	_, err := f.client.GetUser(callerContext(t, testCaller()), "1316083732377070977")
	checkError(t, err, wantError{op: "GetUser", traceID: testTraceID,
		mustNotSay: []string{f.server.URL, strings.TrimPrefix(f.server.URL, "http://"), baseURLPath, "/koodrive/", "1316083732377070977"}})
}
