package graph

import (
	"context"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// Spans for the resolvers that reach KooDrive (viewer, user, node, userGroups with its
// first) and for the owners' wave of a page, not for every trivial field: with
// Options.Tracer set. KooDrive's calls are spans of their own, children of these.

// TraceRootField is a root-field middleware (handler.Server.AroundRootFields): a span per
// root field that reaches KooDrive, with the codes of its errors as its status.
func (r *Resolver) TraceRootField(ctx context.Context, next graphql.RootResolver) graphql.Marshaler {
	fc := graphql.GetRootFieldContext(ctx)
	if r.tracer == nil || fc == nil || !r.resolved[coordinate("Query", fc.Field.Name)] {
		return next(ctx)
	}
	attrs := []attribute.KeyValue{attribute.String("graphql.field.name", fc.Field.Name), attribute.String("graphql.field.alias", fc.Field.Alias)}
	if fc.Field.Name == "userGroups" && graphql.HasOperationContext(ctx) {
		attrs = append(attrs, attribute.Int("graphql.argument.first", firstOf(fc.Field.ArgumentMap(graphql.GetOperationContext(ctx).Variables))))
	}
	ctx, span := r.tracer.Start(ctx, "Query."+fc.Field.Name, trace.WithAttributes(attrs...))
	defer span.End()
	m := next(ctx)
	var failed []string
	for _, e := range graphql.GetErrors(ctx) {
		if len(e.Path) > 0 && e.Path[0] == ast.PathName(fc.Field.Alias) {
			code, _ := e.Extensions["code"].(string)
			failed = append(failed, code)
		}
	}
	if len(failed) > 0 {
		span.SetStatus(codes.Error, strings.Join(failed, ","))
	}
	return m
}

// startWave starts the span of a page's owners' wave (its distinct owner ids), when
// tracing: its calls are its children. end is never nil.
func (r *Resolver) startWave(ctx context.Context, ownerIDs []string) (context.Context, func()) {
	if r.tracer == nil {
		return ctx, func() {}
	}
	distinct := make(map[string]bool, len(ownerIDs))
	for _, id := range ownerIDs {
		distinct[id] = true
	}
	ctx, span := r.tracer.Start(ctx, "owners", trace.WithAttributes(attribute.Int("koodrive.users", len(distinct))))
	return ctx, func() { span.End() }
}
