package graph

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/99designs/gqlgen/client"

	"github.com/koodrive/facade/koodrive"
	"github.com/koodrive/facade/koodrive/demo"
)

// testEnv is the facade in front of the demo KooDrive, reached through real HTTP.
type testEnv struct {
	up       *demo.Upstream
	resolver *Resolver
	handler  http.Handler
	client   *client.Client
	logs     *syncBuffer // nil with discardLogs
}

type envOptions struct {
	graph    Options
	timeout  time.Duration
	upstream demo.Options
	koodrive []koodrive.Option
	// discardLogs, for benchmarks: a log buffer would grow with b.N.
	discardLogs bool
}

func newEnv(t testing.TB, o envOptions) *testEnv {
	t.Helper()
	up := demo.New(o.upstream)
	srv := httptest.NewServer(up)
	t.Cleanup(srv.Close)
	kdOpts := o.koodrive
	if o.timeout > 0 {
		kdOpts = append(kdOpts, koodrive.WithTimeout(o.timeout))
	}
	kd, err := koodrive.New(srv.URL, kdOpts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(kd.CloseIdleConnections)
	e := &testEnv{up: up}
	handler := slog.DiscardHandler
	if !o.discardLogs {
		e.logs = &syncBuffer{}
		handler = slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})
		t.Cleanup(func() { e.assertLogsClean(t) })
	}
	e.resolver = New(kd, slog.New(handler), o.graph)
	e.handler = e.resolver.NewHandler()
	e.client = client.New(e.handler)
	return e
}

// failUsers answers GET /users/{id} with fault, for the given ids or, with none, for
// every id; all other calls reach the demo KooDrive as usual.
func (e *testEnv) failUsers(fault http.HandlerFunc, ids ...string) {
	e.up.Intercept(func(w http.ResponseWriter, r *http.Request) bool {
		id, isUser := strings.CutPrefix(r.URL.Path, usersPath)
		if !isUser || (len(ids) > 0 && !slices.Contains(ids, id)) {
			return false
		}
		fault(w, r)
		return true
	})
}

// assertLogsClean fails when a token or a mobile number reached the logs, or a list was
// walked in order while its elements called KooDrive.
func (e *testEnv) assertLogsClean(t testing.TB) {
	logs := e.logs.String()
	if strings.Contains(logs, waitingListMessage) {
		t.Errorf("a list walked in order called KooDrive:\n%s", logs)
	}
	secrets := append([]string{demo.Token}, e.up.Mobiles()...)
	for _, s := range secrets {
		if strings.Contains(logs, s) {
			t.Errorf("logs contain a secret %q:\n%s", s, logs)
		}
	}
}

// as sends the demo caller's credentials.
func (e *testEnv) as() []client.Option {
	return []client.Option{
		client.AddHeader("Authorization", demo.Authorization),
		client.AddHeader("X-User-Id", e.up.CallerID()),
	}
}

type gqlError struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

func (g gqlError) code() string { s, _ := g.Extensions["code"].(string); return s }

// do runs a query and decodes data into out (when non-nil); it returns the errors
// and the raw response so callers can check what leaked.
func (e *testEnv) do(t *testing.T, query string, out any, opts ...client.Option) ([]gqlError, string) {
	t.Helper()
	resp, err := e.client.RawPost(query, opts...)
	if err != nil {
		resp = requestError(t, err)
	}
	raw, _ := json.Marshal(resp)
	if out != nil && resp.Data != nil {
		b, _ := json.Marshal(resp.Data)
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("decode data %s: %v", b, err)
		}
	}
	var errs []gqlError
	if len(resp.Errors) > 0 {
		if err := json.Unmarshal(resp.Errors, &errs); err != nil {
			t.Fatalf("decode errors %s: %v", resp.Errors, err)
		}
	}
	return errs, string(raw)
}

// requestError decodes the body of a 4xx that gqlgen's client reports as an error
// ("http 422: {...}"): request errors such as parse and validation failures.
func requestError(t *testing.T, err error) *client.Response {
	t.Helper()
	var status int
	var body string
	if _, scanErr := fmt.Sscanf(err.Error(), "http %d:", &status); scanErr != nil || status < 400 || status >= 500 {
		t.Fatalf("post: %v", err)
	}
	_, body, _ = strings.Cut(err.Error(), ": ")
	var resp client.Response
	if jsonErr := json.Unmarshal([]byte(body), &resp); jsonErr != nil {
		t.Fatalf("post: %v", err)
	}
	return &resp
}

// mustDo runs a query that must succeed without errors.
func (e *testEnv) mustDo(t *testing.T, query string, out any, opts ...client.Option) {
	t.Helper()
	if errs, raw := e.do(t, query, out, append(e.as(), opts...)...); len(errs) > 0 {
		t.Fatalf("unexpected errors: %s", raw)
	}
}

// expectCode asserts exactly one error, with the given code.
func expectCode(t *testing.T, errs []gqlError, code string) gqlError {
	t.Helper()
	if len(errs) != 1 {
		t.Fatalf("want 1 error with code %s, got %+v", code, errs)
	}
	if errs[0].code() != code {
		t.Fatalf("want code %s, got %+v", code, errs[0])
	}
	return errs[0]
}

// recordQueries collects the query parameters of every upstream groups call.
func (e *testEnv) recordGroupCalls() func() []map[string][]string {
	var mu sync.Mutex
	var calls []map[string][]string
	e.up.Intercept(func(w http.ResponseWriter, r *http.Request) bool {
		if strings.HasSuffix(r.URL.Path, "/usergroups") {
			mu.Lock()
			calls = append(calls, r.URL.Query())
			mu.Unlock()
		}
		return false
	})
	return func() []map[string][]string {
		mu.Lock()
		defer mu.Unlock()
		return append([]map[string][]string(nil), calls...)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.b.Reset()
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

const usersPath = "/koodrive/ose/v1/users/"
const groupsPath = "/koodrive/ose/v1/usergroups"
