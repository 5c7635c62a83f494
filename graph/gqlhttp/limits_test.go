package gqlhttp

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestLimits(t *testing.T) {
	deep := `{ userGroups(first: 1) { edges { node { owner { name } } } } }` // 5 levels
	manyAliases := "{ viewer { " + aliases(31, "a%d: userId") + " } }"
	manyRoots := "{ " + strings.Repeat("viewer { userId } ", 11) + " }"
	costly := "{ " + aliases(4, "p%d: userGroups(first: 100) { edges { node { owner { name } } } }") + " }"
	tokens := "{ viewer { " + strings.Repeat("userId ", 2100) + "} }"
	cases := []struct {
		name   string
		limits Limits
		query  string
		code   string
	}{
		{"depth", Limits{MaxDepth: 4}, deep, "QUERY_TOO_DEEP"},
		{"aliases", Limits{}, manyAliases, "TOO_MANY_ALIASES"},
		{"root fields", Limits{}, manyRoots, "TOO_MANY_ROOT_FIELDS"},
		{"complexity", Limits{}, costly, "COMPLEXITY_LIMIT_EXCEEDED"},
		{"tokens", Limits{}, tokens, "GRAPHQL_PARSE_FAILED"},
		{"fragment bomb", Limits{MaxTokens: 100_000}, fragmentBomb(24, "query { %s }", "Query", "viewer { userId }"), "QUERY_TOO_LARGE"},
		// Introspection is not counted for depth and aliases, but walked within the budget.
		{"introspection bomb", Limits{MaxTokens: 100_000}, fragmentBomb(24, "query { __schema { %s } }", "__Schema", "queryType { name }"), "QUERY_TOO_LARGE"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, envOptions{edge: Options{Limits: tc.limits}})
			errs, raw := e.Do(t, tc.query, nil, e.As()...)
			if len(errs) != 1 || errs[0].Code() != tc.code {
				t.Fatalf("want one %s error, got %s", tc.code, raw)
			}
			if n := e.Up.Calls(); n != 0 {
				t.Fatalf("%d upstream calls for a refused operation", n)
			}
		})
	}
}

func TestLimitsLetRealQueriesThrough(t *testing.T) {
	e := newEnv(t, envOptions{})
	// Just under each default: 30 aliases, 10 root fields, depth 5, a full page of owners twice.
	e.MustDo(t, "{ viewer { "+aliases(30, "a%d: userId")+" } }", nil)
	e.MustDo(t, "{ "+strings.Repeat("viewer { userId } ", 10)+" }", nil)
	e.MustDo(t, "{ "+aliases(2, "p%d: userGroups(first: 100) { edges { node { owner { name } } } }")+" }", nil)
	e.MustDo(t, introspectionQuery, nil)
}

// TestDeferIsRefused: the one-response transports cannot deliver deferred fragments, so
// @defer is not in the schema: refused before any upstream call, and not offered.
func TestDeferIsRefused(t *testing.T) {
	e := newEnv(t, envOptions{})
	for _, q := range []string{
		`{ userGroups(first: 2) { edges { node { groupId ... @defer { owner { name } } } } } }`,
		`{ viewer { ...V @defer(label: "v") } } fragment V on User { name }`,
		`{ viewer { ...V } } fragment V on User { ... on User @defer(if: false) { name } }`,
		`{ __schema { types { name ... @defer { fields { name } } } } }`,
	} {
		errs, raw := e.Do(t, q, nil, e.As()...)
		if len(errs) != 1 || errs[0].Code() != "GRAPHQL_VALIDATION_FAILED" || !strings.Contains(errs[0].Message, "@defer") {
			t.Errorf("%s: want one validation error naming @defer, got %s", q, raw)
		}
	}
	if n := e.Up.Calls(); n != 0 {
		t.Fatalf("%d upstream calls for refused operations", n)
	}
	var schema struct {
		Schema struct{ Directives []struct{ Name string } } `json:"__schema"`
	}
	e.MustDo(t, `{ __schema { directives { name } } }`, &schema)
	var names []string
	for _, d := range schema.Schema.Directives {
		names = append(names, d.Name)
	}
	if slices.Contains(names, "defer") || !slices.Contains(names, "include") {
		t.Fatalf("directives offered: %v; want @include and not @defer", names)
	}
}

func TestIntrospectionAndSuggestionsSwitch(t *testing.T) {
	on := newEnv(t, envOptions{})
	off := newEnv(t, envOptions{edge: Options{DisableIntrospection: true}})
	on.MustDo(t, `{ __schema { queryType { name } } }`, nil)
	errs, raw := off.Do(t, `{ __schema { queryType { name } } }`, nil, off.As()...)
	if len(errs) == 0 || strings.Contains(raw, `"Query"`) {
		t.Fatalf("introspection answered while disabled: %s", raw)
	}
	_, raw = on.Do(t, `{ viewr { userId } }`, nil, on.As()...)
	if !strings.Contains(raw, "Did you mean") {
		t.Fatalf("no suggestion with introspection on: %s", raw)
	}
	_, raw = off.Do(t, `{ viewr { userId } }`, nil, off.As()...)
	if strings.Contains(raw, "Did you mean") || strings.Contains(raw, "viewer") {
		t.Fatalf("suggestion leaks the schema: %s", raw)
	}
}

func aliases(n int, format string) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = fmt.Sprintf(format, i)
	}
	return strings.Join(parts, " ")
}

// fragmentBomb nests n fragments on type on, each spreading the next twice, and spreads
// the first in op: 2^n copies of leaf.
func fragmentBomb(n int, op, on, leaf string) string {
	var b strings.Builder
	b.WriteString(fmt.Sprintf(op, "...F0") + "\n")
	for i := range n {
		fmt.Fprintf(&b, "fragment F%d on %s { ...F%d ...F%d }\n", i, on, i+1, i+1)
	}
	fmt.Fprintf(&b, "fragment F%d on %s { %s }\n", n, on, leaf)
	return b.String()
}

// introspectionQuery is the shape GraphiQL sends, nine levels of ofType deep.
const introspectionQuery = `query IntrospectionQuery {
  __schema {
    queryType { name } mutationType { name } subscriptionType { name }
    types { ...FullType }
    directives { name description locations args { ...InputValue } }
  }
}
fragment FullType on __Type {
  kind name description
  fields(includeDeprecated: true) { name description args { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason }
  inputFields { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
  possibleTypes { ...TypeRef }
}
fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue }
fragment TypeRef on __Type {
  kind name
  ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } }
}`
