package graph

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/99designs/gqlgen/client"
	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/transport"

	"github.com/koodrive/facade/graph/internal/gqltest"
	"github.com/koodrive/facade/koodrive"
	"github.com/koodrive/facade/koodrive/demo"
)

// testEnv is the resolvers in front of the demo KooDrive, reached through real HTTP and
// served without the edge (graph/gqlhttp tests the whole stack): gqlgen's transports,
// this package's presenter, and each request's caller and loaders in its context.
type testEnv struct {
	*gqltest.Env
	resolver *Resolver
	client   *client.Client
}

type envOptions struct {
	graph    Options
	timeout  time.Duration // of each KooDrive attempt
	budget   time.Duration // of each request, as gqlhttp's RequestTimeout
	upstream demo.Options
	koodrive []koodrive.Option
	// discardLogs, for benchmarks: a log buffer would grow with b.N.
	discardLogs bool
}

func newEnv(t testing.TB, o envOptions) *testEnv {
	t.Helper()
	env := gqltest.New(t, gqltest.Options{Upstream: o.upstream, Timeout: o.timeout, KooDrive: o.koodrive, DiscardLogs: o.discardLogs})
	e := &testEnv{Env: env, resolver: New(env.KD, env.Log, o.graph)}
	e.Handler = e.serve(newTestServer(e.resolver.ExecutableSchema()), o.budget)
	e.client = client.New(e.Handler)
	if e.Logs != nil {
		t.Cleanup(func() {
			if logs := e.Logs.String(); strings.Contains(logs, waitingListMessage) {
				t.Errorf("a list walked in order called KooDrive:\n%s", logs)
			}
		})
	}
	return e
}

// newTestServer serves es over GET and POST with gqlgen's transports.
func newTestServer(es graphql.ExecutableSchema) *handler.Server {
	srv := handler.New(es)
	srv.AddTransport(transport.GET{})
	srv.AddTransport(transport.POST{})
	return srv
}

// serve runs srv's requests with the resolver's presenter; each carries its caller's
// headers as they came (gqlhttp checks them), fresh loaders and, when set, a budget.
func (e *testEnv) serve(srv *handler.Server, budget time.Duration) http.Handler {
	srv.SetErrorPresenter(e.resolver.PresentError)
	srv.SetRecoverFunc(e.resolver.Recover)
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		ctx := req.Context()
		if budget > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, budget)
			defer cancel()
		}
		h := req.Header
		ctx = koodrive.WithCaller(ctx, koodrive.Caller{Authorization: h.Get("Authorization"), UserID: h.Get("X-User-Id"), TraceID: h.Get("X-Traceid"), Language: h.Get("language")})
		ctx = koodrive.WithCallCount(ctx)
		srv.ServeHTTP(w, req.WithContext(e.resolver.WithLoaders(ctx)))
	})
}

// recordGroupCalls collects the query parameters of every upstream groups call.
func (e *testEnv) recordGroupCalls() func() []map[string][]string {
	var mu sync.Mutex
	var calls []map[string][]string
	e.Up.Intercept(func(w http.ResponseWriter, r *http.Request) bool {
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

const usersPath = gqltest.UsersPath
const groupsPath = "/koodrive/ose/v1/usergroups"
