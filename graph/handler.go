package graph

import (
	"net/http"

	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/vektah/gqlparser/v2/ast"
)

// queryCacheSize bounds the parsed-query LRU: clients send a handful of distinct
// operations, so this many covers them with room for GraphiQL experiments.
const queryCacheSize = 1000

// apqCacheSize bounds the persisted queries kept by hash: the app's operations and more.
const apqCacheSize = 1000

// NewHandler is the GraphQL endpoint: GET and POST only (no multipart, no websocket),
// parsed queries cached, errors presented by PresentError, and every request scoped by
// RequestScope.
func (r *Resolver) NewHandler() http.Handler {
	srv := handler.New(NewExecutableSchema(Config{Resolvers: r, Complexity: complexity()}))
	for _, t := range httpTransports(r.opts.Limits.MaxTokens) {
		srv.AddTransport(t)
	}
	srv.SetQueryCache(lru.New[*ast.QueryDocument](queryCacheSize))
	srv.SetParserTokenLimit(r.opts.Limits.MaxTokens)
	if !r.opts.DisableIntrospection {
		srv.Use(extension.Introspection{})
	}
	srv.SetDisableSuggestion(r.opts.DisableIntrospection) // "did you mean" reveals the schema too
	if r.opts.PersistedQueries != nil {
		srv.Use(safelist{byHash: r.opts.PersistedQueries}) // and no APQ: it would register anything
	} else {
		srv.Use(extension.AutomaticPersistedQuery{Cache: lru.New[string](apqCacheSize)})
	}
	// The shape check walks within a budget, so it runs before the complexity walk.
	srv.Use(shapeLimit{limits: r.opts.Limits})
	srv.Use(extension.FixedComplexityLimit(r.opts.Limits.MaxComplexity))
	srv.SetErrorPresenter(r.PresentError)
	srv.SetRecoverFunc(r.Recover)
	srv.AroundResponses(observeResponses)
	return r.RequestScope(srv)
}
