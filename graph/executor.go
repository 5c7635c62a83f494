package graph

import (
	"context"
	"io"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/koodrive/facade/koodrive"
)

// What internal/execrewrite points gqlgen's generated executor at, for three costs it
// has no setting for. gqlgen marshals every list of objects with a goroutine per element,
// so that elements waiting on I/O wait together; once a page's owners are in, no edge
// waits for anything, and those goroutines only cost: stack growth and scheduling were a
// third of a request's time after KooDrive's last answer. It prepares every object for
// @defer, which this server does not offer. And it writes every object through a map
// that drops repeated keys, copying each field to the heap, though an object's fields
// come from CollectFields, which already merged them by key.
// (BenchmarkPhasesUserGroups50 in bench/, µs-after-last-answer, shows each.)

// marshalList marshals a list of n elements: in order on the caller's goroutine, unless
// an element may wait on KooDrive, then as gqlgen does.
func marshalList(ctx context.Context, n int, workerLimit int64, omitPanicHandler bool, marshal func(context.Context, int) graphql.Marshaler) graphql.Array {
	if n > 1 && listMayWait(ctx) {
		return graphql.MarshalSliceConcurrently(ctx, n, workerLimit, omitPanicHandler, marshal)
	}
	walk := koodrive.WithCallCount(ctx) // this walk's calls, apart from other fields'
	out := make(graphql.Array, n)
	for i := range n {
		out[i] = marshalElement(walk, i, omitPanicHandler, marshal)
	}
	if n > 1 && koodrive.CallCount(walk) != 0 {
		reportWaitingList(ctx)
	}
	return out
}

// reportWaitingList: a list walked in order called KooDrive, one element after another.
// listMayWait missed a field (selection.go); the answer is right, only slow, so it is
// logged rather than failed. Every test's log is checked for it.
func reportWaitingList(ctx context.Context) {
	if l, ok := ctx.Value(loadersKey{}).(*loaders); ok {
		fc := graphql.GetFieldContext(ctx)
		l.log.ErrorContext(ctx, waitingListMessage, "x_traceid", koodrive.CallerFrom(ctx).TraceID, "field", fc.Object+"."+fc.Field.Name)
	}
}

const waitingListMessage = "a list walked in order called KooDrive per element: a field under it was not prefetched"

// marshalElement is one element as gqlgen marshals it: under a field context holding
// its index, with a panic becoming the element's error and null.
func marshalElement(ctx context.Context, i int, omitPanicHandler bool, marshal func(context.Context, int) graphql.Marshaler) (m graphql.Marshaler) {
	index := i
	ctx = graphql.WithFieldContext(ctx, &graphql.FieldContext{Index: &index})
	if !omitPanicHandler {
		defer func() {
			if r := recover(); r != nil {
				graphql.AddError(ctx, graphql.Recover(ctx, r))
				m = graphql.Null
			}
		}()
	}
	return marshal(ctx, i)
}

// withoutDefer stands in for graphql.NewDeferredGroup, which computes the object's path
// and allocates a field set and a map for @defer's sake. The schema has no @defer
// (withoutDeferDirective), so no field is deferred and the group stays empty. Should an
// object's fields be deferred anyway (a schema built with @defer put back), gqlgen's own
// group takes them: an empty one would panic on the first.
func withoutDefer(ctx context.Context, fields []graphql.CollectedField) graphql.DeferredGroup {
	for i := range fields {
		if fields[i].IsDeferred() {
			return graphql.NewDeferredGroup(ctx)
		}
	}
	return graphql.DeferredGroup{Context: ctx}
}

// withoutDeferDirective takes @defer, which gqlparser adds to every schema, out of the
// schema that generated.go loads and every executable schema defaults to: the
// transports answer with one response, so a deferred fragment would come back null
// with "hasNext" and never follow. Validation refuses it as an unknown directive, and
// introspection does not offer it.
func withoutDeferDirective(s *ast.Schema) *ast.Schema {
	delete(s.Directives, "defer")
	return s
}

// objectJSON writes an executed object as graphql.FieldSet does, without its map and
// copies: fields are the object's collected fields (one per response key), values their
// results.
type objectJSON struct {
	fields []graphql.CollectedField
	values []graphql.Marshaler
}

func (o objectJSON) MarshalGQL(w io.Writer) {
	_, _ = io.WriteString(w, "{")
	for i := range o.fields {
		if i > 0 {
			_, _ = io.WriteString(w, ",")
		}
		// A response key is a GraphQL name ([_A-Za-z][_0-9A-Za-z]*): nothing to escape.
		_, _ = io.WriteString(w, `"`)
		_, _ = io.WriteString(w, o.fields[i].Alias)
		_, _ = io.WriteString(w, `":`)
		o.values[i].MarshalGQL(w)
	}
	_, _ = io.WriteString(w, "}")
}
