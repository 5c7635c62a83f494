package gqlhttp

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/99designs/gqlgen/client"

	"github.com/koodrive/facade/graph"
	"github.com/koodrive/facade/graph/internal/gqltest"
)

// fakeObserver records what the GraphQL layer reports.
type fakeObserver struct {
	mu       sync.Mutex
	requests []string
	codes    []string
	batches  []int
	limited  int
	fields   map[string]int
	outside  int
}

func (o *fakeObserver) Request(op, outcome string, _ time.Duration, _ string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.requests = append(o.requests, op+":"+outcome)
}

func (o *fakeObserver) Error(code string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.codes = append(o.codes, code)
}

func (o *fakeObserver) RateLimited(string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.limited++
}

func (o *fakeObserver) FieldUsed(typeName, field string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.fields == nil {
		o.fields = map[string]int{}
	}
	o.fields[typeName+"."+field]++
}

func (o *fakeObserver) OutsideManifest() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.outside++
}

func (o *fakeObserver) UserBatch(n int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.batches = append(o.batches, n)
}

func TestOneLogLinePerRequest(t *testing.T) {
	obs := &fakeObserver{}
	e := newEnv(t, envOptions{edge: Options{Observer: obs}, graph: graph.Options{Observer: obs}})
	var ids gqltest.OwnersPage
	e.MustDo(t, gqltest.OwnersOfTen, &ids)
	broken := ids.UserGroups.Nodes[0].OwnerID
	e.FailUsers(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusBadGateway) }, broken)
	e.Do(t, `query OwnersPage `+gqltest.OwnersOfTen, nil, append(e.As(), client.AddHeader("X-Traceid", "log-trace-1"))...)
	e.Do(t, `{ nope }`, nil, e.As()...)

	var lines []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(e.Logs.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line is not JSON: %q", l)
		}
		if m["msg"] == "graphql request" {
			lines = append(lines, m)
		}
	}
	if len(lines) != 3 {
		t.Fatalf("%d request lines for 3 requests:\n%s", len(lines), e.Logs.String())
	}
	page := lines[1]
	distinct := map[string]bool{}
	for _, n := range ids.UserGroups.Nodes {
		distinct[n.OwnerID] = true
	}
	// One group page, the owners, and the broken owner's two retries.
	wantCalls := float64(1 + len(distinct) + 2)
	if page["x_traceid"] != "log-trace-1" || page["operation"] != "OwnersPage" || page["outcome"] != "partial" ||
		page["upstream_calls"] != wantCalls || fmt.Sprint(page["error_codes"]) != "[UPSTREAM_ERROR]" || page["status"] != float64(200) {
		t.Fatalf("request line %v, want %v upstream calls", page, wantCalls)
	}
	if bad := lines[2]; bad["outcome"] != "error" || fmt.Sprint(bad["error_codes"]) != "[GRAPHQL_VALIDATION_FAILED]" || bad["upstream_calls"] != float64(0) {
		t.Fatalf("validation failure line %v", bad)
	}
	obs.mu.Lock()
	defer obs.mu.Unlock()
	if !slices.Equal(obs.requests, []string{":ok", "OwnersPage:partial", ":error"}) {
		t.Fatalf("observed requests %v", obs.requests)
	}
	if len(obs.batches) == 0 || slices.Max(obs.batches) > len(distinct) {
		t.Fatalf("observed batches %v for %d distinct owners", obs.batches, len(distinct))
	}
}

// TestFieldUsage: a query counts each schema field it selects once (fragments, aliases
// and repeats included); introspection counts nothing.
func TestFieldUsage(t *testing.T) {
	obs := &fakeObserver{}
	e := newEnv(t, envOptions{edge: Options{Observer: obs}})
	const q = `{ viewer { name n: name ...U } userGroups(first: 2) { nodes { name owner { ...U } } } } fragment U on User { userId mobile }`
	for range 2 {
		e.MustDo(t, q, nil)
	}
	e.MustDo(t, `{ __schema { types { name fields { name } } } __typename }`, nil)
	obs.mu.Lock()
	defer obs.mu.Unlock()
	want := map[string]int{"Query.viewer": 2, "User.name": 2, "User.userId": 2, "User.mobile": 2, "Query.userGroups": 2,
		"UserGroupConnection.nodes": 2, "UserGroup.name": 2, "UserGroup.owner": 2}
	if fmt.Sprint(obs.fields) != fmt.Sprint(want) {
		t.Fatalf("field usage %v, want %v", obs.fields, want)
	}
}
