package graph

import (
	"context"
	"io"
	"strings"

	"github.com/99designs/gqlgen/graphql"

	"github.com/koodrive/facade/graph/model"
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
	out := make(graphql.Array, n)
	for i := range n {
		out[i] = marshalElement(ctx, i, omitPanicHandler, marshal)
	}
	return out
}

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

// listMayWait says whether resolving an element of the list being marshalled may wait on
// KooDrive. Of this schema's lists, only a user group's owner can, and not once its
// connection's owners are ready; introspection never does. A list this does not know
// (a field added later) is taken to wait.
func listMayWait(ctx context.Context) bool {
	fc := graphql.GetFieldContext(ctx)
	switch {
	case fc == nil:
		return true
	case strings.HasPrefix(fc.Object, "__"):
		return false
	case fc.Object == "UserGroupConnection" && fc.Parent != nil:
		conn, ok := fc.Parent.Result.(*model.UserGroupConnection)
		return !ok || !conn.OwnersReady
	}
	return true
}

// withoutDefer stands in for graphql.NewDeferredGroup, which computes the object's path
// and allocates a field set and a map for @defer's sake. @defer is not in the schema
// (handler.go), so no field is ever deferred and the group stays empty.
func withoutDefer(ctx context.Context) graphql.DeferredGroup {
	return graphql.DeferredGroup{Context: ctx}
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
