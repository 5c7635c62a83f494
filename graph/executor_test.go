package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/99designs/gqlgen/client"
	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/koodrive/facade/graph/model"
	"github.com/koodrive/facade/koodrive"
	"github.com/koodrive/facade/koodrive/demo"
)

func TestListMayWait(t *testing.T) {
	// The field contexts from the root down to the list's field.
	userGroups := func(conn any) []*graphql.FieldContext {
		return []*graphql.FieldContext{{Object: "Query", Result: conn}, {Object: "UserGroupConnection"}}
	}
	cases := []struct {
		name string
		path []*graphql.FieldContext
		want bool
	}{
		{"no field context", nil, true},
		{"introspection", []*graphql.FieldContext{{Object: "Query"}, {Object: "__Type"}}, false},
		{"edges of a ready connection", userGroups(&model.UserGroupConnection{OwnersReady: true}), false},
		{"edges of a connection still fetching", userGroups(&model.UserGroupConnection{}), true},
		{"connection not resolved", userGroups(nil), true},
		{"a list this does not know", []*graphql.FieldContext{{Object: "Query"}}, true},
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

// TestListsWalkInOrderOnlyWhenReady runs queries through an executor that records, at
// each edges and nodes field, the choice marshalList makes.
func TestListsWalkInOrderOnlyWhenReady(t *testing.T) {
	const query = `{ userGroups(first: 5) { edges { node { owner { name } } } nodes { groupId } } }`
	cases := []struct {
		name     string
		opts     Options
		query    string
		wantWait bool
	}{
		{"owners prefetched", Options{}, query, false},
		{"no owner read", Options{}, `{ userGroups(first: 5) { edges { node { name } } nodes { groupId } } }`, false},
		{"naive owners (one call each, when reached)", Options{NaiveUserFetch: true}, query, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, envOptions{graph: tc.opts})
			var mu sync.Mutex
			seen := map[string]bool{}
			srv := handler.New(NewExecutableSchema(Config{Resolvers: e.resolver, Complexity: complexity()}))
			srv.AddTransport(transport.POST{})
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
			if err := client.New(e.resolver.RequestScope(srv)).Post(tc.query, &resp, e.as()...); err != nil {
				t.Fatal(err)
			}
			if len(resp.UserGroups.Nodes) != 5 || len(resp.UserGroups.Edges) != 5 {
				t.Fatalf("%d edges and %d nodes, want 5 each", len(resp.UserGroups.Edges), len(resp.UserGroups.Nodes))
			}
			for _, f := range []string{"edges waits", "nodes waits"} {
				if got, ok := seen[f]; !ok || got != tc.wantWait {
					t.Errorf("%s: %v (recorded: %v), want %v", f, got, ok, tc.wantWait)
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
	e.up.Intercept(func(w http.ResponseWriter, r *http.Request) bool {
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
	e.mustDo(t, `{ userGroups(first: 10) { nodes { owner { userId } } } }`, nil)
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
	req.Header.Set("X-User-Id", e.up.CallerID())
	e.handler.ServeHTTP(rec, req)
	var me struct {
		UserID, Name string
	}
	e.mustDo(t, `{ viewer { userId name } }`, &struct {
		Viewer *struct{ UserID, Name string }
	}{Viewer: &me})
	want := fmt.Sprintf(`{"data":{"a":{"name":%q,"userId":%q},"viewer":{"name":%q,"n":%q}}}`, me.Name, me.UserID, me.Name, me.Name)
	if rec.Body.String() != want {
		t.Fatalf("got  %s\nwant %s", rec.Body.String(), want)
	}
}
