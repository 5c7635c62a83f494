package gqlhttp

import (
	"testing"
	"time"

	"github.com/99designs/gqlgen/client"

	"github.com/koodrive/facade/graph"
	"github.com/koodrive/facade/graph/internal/gqltest"
	"github.com/koodrive/facade/koodrive"
	"github.com/koodrive/facade/koodrive/demo"
)

// testEnv is the whole GraphQL endpoint, edge and resolvers, in front of the demo
// KooDrive.
type testEnv struct {
	*gqltest.Env
	client *client.Client
}

type envOptions struct {
	edge     Options
	graph    graph.Options
	upstream demo.Options
	koodrive []koodrive.Option
	timeout  time.Duration // of each KooDrive attempt
}

func newEnv(t testing.TB, o envOptions) *testEnv {
	t.Helper()
	env := gqltest.New(t, gqltest.Options{Upstream: o.upstream, KooDrive: o.koodrive, Timeout: o.timeout})
	env.Handler = New(graph.New(env.KD, env.Log, o.graph), env.Log, o.edge)
	return &testEnv{Env: env, client: client.New(env.Handler)}
}
