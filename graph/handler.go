package graph

import (
	"net/http"

	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"
)

// queryCacheSize bounds the parsed-query LRU: clients send a handful of distinct
// operations, so this many covers them with room for GraphiQL experiments.
const queryCacheSize = 1000

// NewHandler is the GraphQL endpoint: GET and POST only (no multipart, no websocket),
// parsed queries cached, errors presented by PresentError, and every request scoped by
// RequestScope.
func (r *Resolver) NewHandler() http.Handler {
	srv := handler.New(NewExecutableSchema(Config{Resolvers: r}))
	srv.AddTransport(transport.GET{})
	srv.AddTransport(transport.POST{})
	srv.SetQueryCache(lru.New[*ast.QueryDocument](queryCacheSize))
	srv.Use(extension.Introspection{})
	srv.SetErrorPresenter(r.PresentError)
	srv.SetRecoverFunc(r.Recover)
	return r.RequestScope(srv)
}
