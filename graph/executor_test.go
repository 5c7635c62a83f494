package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/99designs/gqlgen/client"
	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/executor"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/koodrive/facade/koodrive"
	"github.com/koodrive/facade/koodrive/demo"
)

func TestListMayWaitWhenItCannotTell(t *testing.T) {
	cases := []struct {
		name string
		path []*graphql.FieldContext
		want bool
	}{
		{"no field context", nil, true},
		{"introspection", []*graphql.FieldContext{{Object: "Query"}, {Object: "__Type"}}, false},
		{"outside a request's scope (no loaders)", []*graphql.FieldContext{{Object: "Query"}, {Object: "UserGroupConnection"}}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			for _, fc := range tc.path {
				ctx = graphql.WithFieldContext(ctx, fc)
			}
			if got := listMayWait(ctx); got != tc.want {
				t.Fatalf("listMayWait = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestResolvedFieldsAreReadOffTheResolvers(t *testing.T) {
	got := resolvedFields()
	want := map[string]bool{"query.viewer": true, "query.user": true, "query.node": true, "query.usergroups": true, "usergroup.owner": true}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("resolvedFields = %v, want %v", got, want)
	}
}

// selectEverything writes a selection of every field of typeName that needs no
// argument, objects expanded to depth: a field added to the schema is in it.
func selectEverything(t *testing.T, typeName string, depth int) string {
	t.Helper()
	var b strings.Builder
	for _, f := range parsedSchema.Types[typeName].Fields {
		if strings.HasPrefix(f.Name, "__") || slices.ContainsFunc(f.Arguments, func(a *ast.ArgumentDefinition) bool { return a.Type.NonNull && a.DefaultValue == nil }) {
			continue
		}
		b.WriteString(" " + f.Name)
		switch def := parsedSchema.Types[f.Type.Name()]; {
		case def.IsAbstractType():
			b.WriteString(" { __typename }")
		case def.Kind == ast.Object && depth > 0:
			b.WriteString(" {" + selectEverything(t, def.Name, depth-1) + " }")
		case def.Kind == ast.Object:
			b.WriteString(" { __typename }")
		}
	}
	return b.String()
}

// TestNoListWalkedInOrderCallsKooDrive: every field under a page's edges and nodes,
// selected every way, reaches KooDrive only before the list is walked, or the list is
// walked as gqlgen would. marshalList logs waitingListMessage otherwise, and every
// test's logs are checked for it (assertLogsClean); this test selects the most.
func TestNoListWalkedInOrderCallsKooDrive(t *testing.T) {
	everything := selectEverything(t, "UserGroup", 3)
	queries := []string{
		`{ userGroups(first: 30) { totalCount edges { cursor node {` + everything + ` } } nodes {` + everything + ` } } }`,
		`{ userGroups(first: 30) { edges { node { ...G } } } } fragment G on UserGroup {` + everything + ` }`,
		`{ userGroups(first: 30) { nodes { ... on Node { id } ... on UserGroup { o: owner { name } owner { userId } } } } }`,
		`query($skip: Boolean!) { userGroups(first: 30) { nodes { name owner @skip(if: $skip) { name } } } }`,
		`{ userGroups(first: 30) { nodes { name owner @include(if: false) { name } } } }`,
		`{ a: userGroups(first: 10) { nodes { owner { name } } } b: userGroups(first: 10, sourceType: GROUP) { edges { node { name } } } }`,
	}
	for _, naive := range []bool{false, true} {
		e := newEnv(t, envOptions{graph: Options{NaiveUserFetch: naive}})
		for _, q := range queries {
			resp, err := e.client.RawPost(q, append(e.As(), client.Var("skip", false))...)
			if err != nil || len(resp.Errors) > 0 {
				t.Fatalf("naive %v, %s: %v %s", naive, q, err, resp.Errors)
			}
		}
		if logs := e.Logs.String(); strings.Contains(logs, waitingListMessage) {
			t.Fatalf("naive %v: a list walked in order called KooDrive:\n%s", naive, logs)
		}
	}
}

// TestAWaitingListWalkedInOrderIsReported: the check TestNoListWalkedInOrderCallsKooDrive
// relies on fires when an element calls KooDrive during an in-order walk.
func TestAWaitingListWalkedInOrderIsReported(t *testing.T) {
	e := newEnv(t, envOptions{})
	ctx := koodrive.WithCallCount(koodrive.WithCaller(context.Background(), koodrive.Caller{Authorization: demo.Authorization, UserID: e.Up.CallerID()}))
	ctx = context.WithValue(ctx, loadersKey{}, e.resolver.newLoaders())
	ctx = graphql.WithFieldContext(ctx, &graphql.FieldContext{Object: "__Type", Field: graphql.CollectedField{Field: &ast.Field{Name: "fields"}}}) // walked in order
	marshalList(ctx, 2, 0, false, func(ctx context.Context, i int) graphql.Marshaler {
		if _, err := e.resolver.kd.GetUser(ctx, e.Up.CallerID()); err != nil {
			t.Error(err)
		}
		return graphql.MarshalInt(i)
	})
	if logs := e.Logs.String(); !strings.Contains(logs, waitingListMessage) {
		t.Fatalf("not reported; logs:\n%s", logs)
	}
	e.Logs.Take() // reported on purpose: the end-of-test check looks for it
}

// TestListsWalkInOrderOnlyWhenReady runs queries through an executor that records, at
// each edges and nodes field, the choice marshalList makes.
func TestListsWalkInOrderOnlyWhenReady(t *testing.T) {
	const query = `{ userGroups(first: 5) { edges { node { owner { name } } } nodes { groupId } } }`
	cases := []struct {
		name     string
		opts     Options
		query    string
		wantWait map[string]bool
	}{
		{"owners prefetched", Options{}, query, map[string]bool{"edges waits": false, "nodes waits": false}},
		{"no owner read", Options{}, `{ userGroups(first: 5) { edges { node { name } } nodes { groupId } } }`, map[string]bool{"edges waits": false, "nodes waits": false}},
		// The edges read owners with a call each, when reached; the nodes read none.
		{"naive owners", Options{NaiveUserFetch: true}, query, map[string]bool{"edges waits": true, "nodes waits": false}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, envOptions{graph: tc.opts})
			var mu sync.Mutex
			seen := map[string]bool{}
			srv := newTestServer(e.resolver.ExecutableSchema())
			srv.AroundFields(func(ctx context.Context, next graphql.Resolver) (any, error) {
				if f := graphql.GetFieldContext(ctx).Field.Name; f == "edges" || f == "nodes" {
					mu.Lock()
					seen[f+" waits"] = listMayWait(ctx)
					mu.Unlock()
				}
				return next(ctx)
			})
			var resp struct {
				UserGroups struct {
					Edges []any
					Nodes []struct{ GroupID string }
				}
			}
			if err := client.New(e.serve(srv, 0)).Post(tc.query, &resp, e.As()...); err != nil {
				t.Fatal(err)
			}
			if len(resp.UserGroups.Nodes) != 5 || len(resp.UserGroups.Edges) != 5 {
				t.Fatalf("%d edges and %d nodes, want 5 each", len(resp.UserGroups.Edges), len(resp.UserGroups.Nodes))
			}
			for f, want := range tc.wantWait {
				if got, ok := seen[f]; !ok || got != want {
					t.Errorf("%s: %v (recorded: %v), want %v", f, got, ok, want)
				}
			}
		})
	}
}

// TestWaitingOwnersWaitTogether: where owner fields do wait (the naive baseline), the
// list still runs its elements at once: every owner call of the page is in flight
// together before any is answered.
func TestWaitingOwnersWaitTogether(t *testing.T) {
	e := newEnv(t, envOptions{graph: Options{NaiveUserFetch: true}, koodrive: []koodrive.Option{koodrive.WithoutCoalescing()}})
	const owners = 10
	var inFlight atomic.Int32
	var timedOut atomic.Bool
	all := make(chan struct{})
	var once sync.Once
	e.Up.Intercept(func(w http.ResponseWriter, r *http.Request) bool {
		if !strings.HasPrefix(r.URL.Path, usersPath) {
			return false
		}
		if inFlight.Add(1) == owners {
			once.Do(func() { close(all) })
		}
		if timedOut.Load() {
			return false // already failed: answer the rest at once
		}
		select {
		case <-all:
		case <-time.After(10 * time.Second): // generous: a loaded CI machine, and only a broken list waits it out
			timedOut.Store(true)
		}
		return false
	})
	e.MustDo(t, `{ userGroups(first: 10) { nodes { owner { userId } } } }`, nil)
	if timedOut.Load() {
		t.Fatalf("only %d of %d owner calls were in flight together", inFlight.Load(), owners)
	}
}

func TestMarshalListRecoversAPanickingElement(t *testing.T) {
	for _, n := range []int{1, 3} {
		quiet := func(context.Context, any) error { return errors.New("internal error") }
		ctx := graphql.WithResponseContext(context.Background(), graphql.DefaultErrorPresenter, quiet)
		ctx = graphql.WithFieldContext(ctx, &graphql.FieldContext{Object: "__Type"})
		out := marshalList(ctx, n, 0, false, func(_ context.Context, i int) graphql.Marshaler {
			if i == n-1 {
				panic("boom")
			}
			return graphql.MarshalString("ok")
		})
		if len(out) != n || out[n-1] != graphql.Null {
			t.Fatalf("n=%d: the panicking element is %v, want null", n, out[n-1])
		}
		for i := range n - 1 {
			if out[i] == graphql.Null {
				t.Fatalf("n=%d: element %d is null", n, i)
			}
		}
		var errs gqlerror.List = graphql.GetErrors(ctx)
		if len(errs) != 1 || len(errs[0].Path) == 0 {
			t.Fatalf("n=%d: want one error at the element's path, got %v", n, errs)
		}
	}
}

// TestObjectJSONIsFieldSet: an object writes the bytes graphql.FieldSet writes.
func TestObjectJSONIsFieldSet(t *testing.T) {
	fields := []graphql.CollectedField{{Field: &ast.Field{Alias: "userId"}}, {Field: &ast.Field{Alias: "name"}}, {Field: &ast.Field{Alias: "owner"}}, {Field: &ast.Field{Alias: "__typename"}}}
	values := []graphql.Marshaler{graphql.MarshalString("42"), graphql.MarshalString(`"Ann" <a&b> ü` + "\n"), graphql.Null,
		objectJSON{fields: fields[:1], values: []graphql.Marshaler{graphql.MarshalInt(7)}}}
	set := graphql.NewFieldSet(fields)
	copy(set.Values, values)
	var want, got bytes.Buffer
	set.MarshalGQL(&want)
	objectJSON{fields: fields, values: values}.MarshalGQL(&got)
	if got.String() != want.String() || !json.Valid(got.Bytes()) {
		t.Fatalf("got  %s\nwant %s", got.String(), want.String())
	}
	var empty bytes.Buffer
	objectJSON{}.MarshalGQL(&empty)
	if empty.String() != "{}" {
		t.Fatalf("empty object: %s", empty.String())
	}
}

// TestRepeatedKeysAreMerged: a response key asked for twice is written once, its
// selections merged, as the spec's field collection does.
func TestRepeatedKeysAreMerged(t *testing.T) {
	e := newEnv(t, envOptions{})
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPost, "/query", strings.NewReader(
		`{"query":"{ a: viewer { name } a: viewer { userId } viewer { name name n: name ... on User { name } } }"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", demo.Authorization)
	req.Header.Set("X-User-Id", e.Up.CallerID())
	e.Handler.ServeHTTP(rec, req)
	var me struct {
		UserID, Name string
	}
	e.MustDo(t, `{ viewer { userId name } }`, &struct {
		Viewer *struct{ UserID, Name string }
	}{Viewer: &me})
	want := fmt.Sprintf(`{"data":{"a":{"name":%q,"userId":%q},"viewer":{"name":%q,"n":%q}}}`, me.Name, me.UserID, me.Name, me.Name)
	if rec.Body.String() != want {
		t.Fatalf("got  %s\nwant %s", rec.Body.String(), want)
	}
}

// TestEverySchemaRefusesDefer builds the executable schema every way the package
// allows: @defer is a validation error in each, and a schema with @defer put back on
// purpose defers through gqlgen's own group instead of panicking in withoutDefer.
func TestEverySchemaRefusesDefer(t *testing.T) {
	e := newEnv(t, envOptions{})
	deferred := `{ userGroups(first: 2) { edges { node { groupId ... @defer { owner { name } } } } } }`
	serve := func(es graphql.ExecutableSchema) http.Handler { return e.serve(newTestServer(es), 0) }
	ways := map[string]http.Handler{
		"Resolver.ExecutableSchema":       serve(e.resolver.ExecutableSchema()),
		"NewExecutableSchema, no options": serve(NewExecutableSchema(Config{Resolvers: e.resolver})),
		"NewExecutableSchema, priced":     serve(NewExecutableSchema(Config{Resolvers: e.resolver, Complexity: complexity()})),
	}
	for name, h := range ways {
		resp, err := client.New(h).RawPost(deferred, e.As()...)
		raw := fmt.Sprint(err) // gqlgen's POST answers a validation error with 422
		if resp != nil {
			raw += string(resp.Errors)
		}
		if !strings.Contains(raw, "GRAPHQL_VALIDATION_FAILED") || !strings.Contains(raw, "defer") {
			t.Errorf("%s: want a validation error naming @defer, got %s", name, raw)
		}
	}
	if n := e.Up.Calls(); n != 0 {
		t.Fatalf("%d upstream calls for refused operations", n)
	}

	withDefer := *parsedSchema
	withDefer.Directives = maps.Clone(parsedSchema.Directives)
	withDefer.Directives["defer"] = gqlparser.MustLoadSchema().Directives["defer"]
	// Executed directly, reading every payload as an incremental transport would: the
	// owners follow the first payload, and nothing panicked.
	exec := executor.New(NewExecutableSchema(Config{Resolvers: e.resolver, Schema: &withDefer}))
	exec.SetErrorPresenter(e.resolver.PresentError)
	exec.SetRecoverFunc(e.resolver.Recover)
	ctx := koodrive.WithCaller(t.Context(), koodrive.Caller{Authorization: demo.Authorization, UserID: e.Up.CallerID()})
	ctx = graphql.StartOperationTrace(e.resolver.WithLoaders(ctx))
	opCtx, errs := exec.CreateOperationContext(ctx, &graphql.RawParams{Query: deferred, ReadTime: graphql.TraceTiming{Start: graphql.Now(), End: graphql.Now()}})
	if errs != nil {
		t.Fatalf("a schema with @defer: %v", errs)
	}
	responses, ctx := exec.DispatchOperation(ctx, opCtx)
	var payloads []string
	for resp := responses(ctx); resp != nil; resp = responses(ctx) {
		if len(resp.Errors) > 0 {
			t.Fatalf("a schema with @defer: %s", resp.Errors)
		}
		payloads = append(payloads, string(resp.Data))
		if resp.HasNext == nil || !*resp.HasNext {
			break
		}
	}
	if len(payloads) < 2 || !strings.Contains(strings.Join(payloads[1:], ""), `"owner"`) {
		t.Fatalf("a schema with @defer: payloads %q, want the owners after the first", payloads)
	}
}

// TestMaxCalls prices operations in KooDrive calls, the worst case the rate limit takes.
func TestMaxCalls(t *testing.T) {
	e := newEnv(t, envOptions{})
	exec := executor.New(e.resolver.ExecutableSchema())
	for query, want := range map[string]int{
		`{ viewer { name } }`:                                    1,
		`{ viewer { name } a: user(userId: "1") { name } }`:      2,
		`{ node(id: "x") { id } }`:                               10, // a group's refetch: up to 10 pages
		`{ userGroups { totalCount } }`:                          10, // at most 10 pages
		`{ userGroups(first: 30) { nodes { owner { name } } } }`: 40, // + an owner per edge
		`{ userGroups(first: 5) { edges { node { owner { name } } } nodes { owner { userId } } } }`:  20,
		`query($n: Int) { userGroups(first: $n) { nodes { name owner @skip(if: true) { name } } } }`: 10,
		`{ userGroups(first: 100) { nodes { ...O } } } fragment O on UserGroup { owner { name } }`:   110,
		`{ __schema { types { name } } }`:                                       0,
		`query($n: Int) { userGroups(first: $n) { nodes { owner { name } } } }`: 17, // first from a variable
	} {
		ctx := graphql.StartOperationTrace(context.Background())
		oc, errs := exec.CreateOperationContext(ctx, &graphql.RawParams{Query: query, Variables: map[string]any{"n": json.Number("7")}})
		if errs != nil {
			t.Fatalf("%s: %v", query, errs)
		}
		if got := e.resolver.MaxCalls(oc); got != want {
			t.Errorf("%s: %d calls, want %d", query, got, want)
		}
	}
}
