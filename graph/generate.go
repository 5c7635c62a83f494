// Package graph is the GraphQL layer: resolvers, per-request loaders, paging over
// KooDrive's cursors and the error presenter. Generated code lives in generated.go.
package graph

//go:generate go tool gqlgen generate
//go:generate go run ./internal/execrewrite generated.go
