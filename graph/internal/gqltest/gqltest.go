// Package gqltest is what graph's and gqlhttp's tests share: the demo KooDrive behind a
// real client, the logs of whatever serves GraphQL over it (checked for the demo's
// secrets when the test ends), and a GraphQL client that reads the HTTP status itself.
// Each package puts its own handler in front: graph its resolvers alone, gqlhttp the
// whole edge.
package gqltest

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/99designs/gqlgen/client"

	"github.com/koodrive/facade/koodrive"
	"github.com/koodrive/facade/koodrive/demo"
)

// Options shape an Env.
type Options struct {
	Upstream demo.Options
	Timeout  time.Duration // of each KooDrive attempt; 0 keeps the adapter's default
	KooDrive []koodrive.Option
	// DiscardLogs, for benchmarks: a log buffer would grow with b.N.
	DiscardLogs bool
}

// Env is the demo KooDrive, an adapter for it, and the logs; Handler is the caller's.
type Env struct {
	Up      *demo.Upstream
	KD      *koodrive.Client
	Log     *slog.Logger
	Logs    *demo.LogBuffer // nil with DiscardLogs
	Handler http.Handler
}

// New starts the demo KooDrive on a loopback port and an adapter for it.
func New(t testing.TB, o Options) *Env {
	t.Helper()
	up := demo.New(o.Upstream)
	srv := httptest.NewServer(up)
	t.Cleanup(srv.Close)
	kdOpts := o.KooDrive
	if o.Timeout > 0 {
		kdOpts = append(kdOpts, koodrive.WithTimeout(o.Timeout))
	}
	kd, err := koodrive.New(srv.URL, kdOpts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(kd.CloseIdleConnections)
	e := &Env{Up: up, KD: kd, Log: slog.New(slog.DiscardHandler)}
	if !o.DiscardLogs {
		e.Logs = &demo.LogBuffer{}
		e.Log = slog.New(slog.NewJSONHandler(e.Logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		t.Cleanup(func() {
			if found := up.SecretsIn(e.Logs.String()); len(found) > 0 {
				t.Errorf("logs hold secrets %q:\n%s", found, e.Logs.String())
			}
		})
	}
	return e
}

// As sends the demo caller's credentials.
func (e *Env) As() []client.Option {
	return []client.Option{
		client.AddHeader("Authorization", demo.Authorization),
		client.AddHeader("X-User-Id", e.Up.CallerID()),
	}
}

// Error is one GraphQL error as a client sees it.
type Error struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

// Code is the error's extensions.code.
func (g Error) Code() string { s, _ := g.Extensions["code"].(string); return s }

// Post sends a GraphQL POST built from query and opts (gqlgen's client options) to the
// handler, and returns the HTTP status and body.
func (e *Env) Post(t testing.TB, query string, opts ...client.Option) (int, []byte) {
	t.Helper()
	r := &client.Request{Query: query, HTTP: httptest.NewRequest(http.MethodPost, "/query", nil)}
	for _, opt := range opts {
		opt(r)
	}
	body, err := json.Marshal(map[string]any{"query": r.Query, "variables": r.Variables, "operationName": r.OperationName, "extensions": r.Extensions})
	if err != nil {
		t.Fatal(err)
	}
	r.HTTP.Body, r.HTTP.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
	r.HTTP.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	e.Handler.ServeHTTP(w, r.HTTP)
	return w.Code, w.Body.Bytes()
}

// Do runs a query and decodes data into out (when non-nil); it returns the errors and
// the raw body, so callers can check what leaked. Request errors (4xx) are answers too.
func (e *Env) Do(t testing.TB, query string, out any, opts ...client.Option) ([]Error, string) {
	t.Helper()
	status, body := e.Post(t, query, opts...)
	var resp struct {
		Data   json.RawMessage `json:"data"`
		Errors []Error         `json:"errors"`
	}
	if err := json.Unmarshal(body, &resp); err != nil || status >= 500 || (status >= 300 && len(resp.Errors) == 0) {
		t.Fatalf("status %d, body %s", status, body)
	}
	if out != nil && len(resp.Data) > 0 && string(resp.Data) != "null" {
		if err := json.Unmarshal(resp.Data, out); err != nil {
			t.Fatalf("decode data %s: %v", resp.Data, err)
		}
	}
	return resp.Errors, string(body)
}

// MustDo runs a query as the demo caller; it must succeed without errors.
func (e *Env) MustDo(t testing.TB, query string, out any, opts ...client.Option) {
	t.Helper()
	if errs, raw := e.Do(t, query, out, append(e.As(), opts...)...); len(errs) > 0 {
		t.Fatalf("unexpected errors: %s", raw)
	}
}

// ExpectCode asserts exactly one error, with the given code.
func ExpectCode(t testing.TB, errs []Error, code string) Error {
	t.Helper()
	if len(errs) != 1 {
		t.Fatalf("want 1 error with code %s, got %+v", code, errs)
	}
	if errs[0].Code() != code {
		t.Fatalf("want code %s, got %+v", code, errs[0])
	}
	return errs[0]
}

// OwnersOfTen reads a page of ten groups with their owners; OwnersPage is its data.
const OwnersOfTen = `{ userGroups(first: 10) { nodes { ownerId owner { userId } } } }`

type OwnersPage struct {
	UserGroups struct {
		Nodes []struct {
			OwnerID string
			Owner   *struct{ UserID string }
		}
	}
}

// UsersPath is the path prefix of KooDrive's GET /users/{id}.
const UsersPath = "/koodrive/ose/v1/users/"

// FailUsers answers GET /users/{id} with fault, for the given ids or, with none, for
// every id; all other calls reach the demo KooDrive as usual.
func (e *Env) FailUsers(fault http.HandlerFunc, ids ...string) {
	e.Up.Intercept(func(w http.ResponseWriter, r *http.Request) bool {
		id, isUser := strings.CutPrefix(r.URL.Path, UsersPath)
		if !isUser || (len(ids) > 0 && !slices.Contains(ids, id)) {
			return false
		}
		fault(w, r)
		return true
	})
}
