package gqlhttp

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// fieldUsage counts, per operation run, each schema field it selects
// (graphql_field_usage_total{type, field}), so an operator sees when a deprecated field is
// no longer asked for. A document's fields are found once and kept with it; introspection
// counts nothing. The labels are the schema's own names: bounded by its size.
type fieldUsage struct {
	observer Observer
	fields   *lru.Cache[usageKey, []fieldRef]
}

// usageKey is a parsed document (gqlgen's query cache hands out the same one for the
// same text) and the operation run from it.
type usageKey struct {
	doc       *ast.QueryDocument
	operation string
}

// fieldRef is one field of one type.
type fieldRef struct{ typeName, field string }

func newFieldUsage(observer Observer) fieldUsage {
	cache, _ := lru.New[usageKey, []fieldRef](queryCacheSize) // errors only for a size < 1
	return fieldUsage{observer: observer, fields: cache}
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = fieldUsage{}

func (fieldUsage) ExtensionName() string                   { return "FieldUsage" }
func (fieldUsage) Validate(graphql.ExecutableSchema) error { return nil }

func (u fieldUsage) MutateOperationContext(_ context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil {
		return nil
	}
	key := usageKey{oc.Doc, oc.OperationName}
	fields, ok := u.fields.Get(key)
	if !ok {
		fields = usedFields(oc.Operation.SelectionSet)
		u.fields.Add(key, fields)
	}
	for _, f := range fields {
		u.observer.FieldUsed(f.typeName, f.field)
	}
	return nil
}

// usedFields is the set of schema fields a selection selects, each fragment walked
// once (the shape limit has refused fragment bombs by now), introspection left out.
func usedFields(set ast.SelectionSet) []fieldRef {
	seen := map[fieldRef]bool{}
	walked := map[string]bool{}
	var out []fieldRef
	var walk func(ast.SelectionSet)
	walk = func(set ast.SelectionSet) {
		for _, sel := range set {
			switch s := sel.(type) {
			case *ast.Field:
				if s.ObjectDefinition == nil || s.Name == "__typename" || s.Name == "__schema" || s.Name == "__type" {
					continue
				}
				ref := fieldRef{s.ObjectDefinition.Name, s.Name}
				if !seen[ref] {
					seen[ref] = true
					out = append(out, ref)
				}
				walk(s.SelectionSet)
			case *ast.InlineFragment:
				walk(s.SelectionSet)
			case *ast.FragmentSpread:
				if s.Definition != nil && !walked[s.Name] {
					walked[s.Name] = true
					walk(s.Definition.SelectionSet)
				}
			}
		}
	}
	walk(set)
	return out
}
