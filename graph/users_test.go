package graph

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/99designs/gqlgen/client"

	"github.com/koodrive/facade/graph/internal/gqltest"
	"github.com/koodrive/facade/koodrive"
)

const ownersQuery = `{
  viewer { userId }
  me: viewer { name }
  again: user(userId: "%s") { userId name }
  userGroups(first: 100) { edges { node { ownerId owner { userId name mobile } } } }
  more: userGroups(first: 50, sourceType: GROUP) { nodes { ownerId owner { userId } } }
}`

func TestOwnersFetchedOncePerDistinctUser(t *testing.T) {
	e := newEnv(t, envOptions{})
	var got struct {
		UserGroups struct {
			Edges []struct {
				Node struct {
					OwnerID string
					Owner   struct{ UserID, Name, Mobile string }
				}
			}
		}
		More struct{ Nodes []struct{ OwnerID string } }
	}
	e.MustDo(t, fmt.Sprintf(ownersQuery, e.Up.CallerID()), &got)

	distinct := map[string]bool{e.Up.CallerID(): true}
	for _, edge := range got.UserGroups.Edges {
		distinct[edge.Node.OwnerID] = true
		if edge.Node.Owner.UserID != edge.Node.OwnerID || edge.Node.Owner.Name == "" || edge.Node.Owner.Mobile == "" {
			t.Fatalf("owner not resolved: %+v", edge.Node)
		}
	}
	for _, n := range got.More.Nodes {
		distinct[n.OwnerID] = true
	}
	if len(got.UserGroups.Edges) != 100 || len(distinct) < 10 {
		t.Fatalf("test needs a page with many owners: %d edges, %d users", len(got.UserGroups.Edges), len(distinct))
	}
	total := 0
	for _, id := range e.Up.UserIDs() {
		n := e.Up.Path(usersPath + id)
		if n > 1 {
			t.Errorf("user %s fetched %d times", id, n)
		}
		total += n
	}
	if total != len(distinct) {
		t.Fatalf("%d user calls, want %d (distinct owners and the viewer)", total, len(distinct))
	}
}

func TestUserFieldsAreWhatKooDriveHolds(t *testing.T) {
	e := newEnv(t, envOptions{})
	var got struct {
		User struct {
			ID, UserID, ExternalID, Name, Mobile, OrgID, DeptID, DeptName string
			Role, Status                                                  int
		}
	}
	e.MustDo(t, `query($id: ID!) { user(userId: $id) { id userId externalId name mobile role status orgId deptId deptName } }`,
		&got, client.Var("id", e.Up.CallerID()))
	u := got.User
	if u.UserID != e.Up.CallerID() || u.ExternalID != "1316083732377070977" || u.Name != "Sam Tan" ||
		u.Mobile != e.Up.Mobiles()[0] || u.OrgID != "9190086000001210958" || u.DeptName != "Engineering" || u.DeptID == "" {
		t.Fatalf("user %+v", u)
	}
	// The global id refetches the same user through node.
	var n struct{ Node struct{ UserID string } }
	e.MustDo(t, `query($id: ID!) { node(id: $id) { ... on User { userId } } }`, &n, client.Var("id", u.ID))
	if n.Node.UserID != u.UserID {
		t.Fatalf("node(%s) = %+v", u.ID, n)
	}
}

func TestMissingUserFieldsAreNull(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.Up.Intercept(func(w http.ResponseWriter, r *http.Request) bool {
		fmt.Fprint(w, `{"code":0,"msg":"success","data":{}}`)
		return true
	})
	var got struct {
		User map[string]any
	}
	e.MustDo(t, `{ user(userId: "42") { userId externalId name mobile role status orgId deptId deptName } }`, &got)
	for k, v := range got.User {
		if k == "userId" && v != "42" || k != "userId" && v != nil {
			t.Fatalf("field %s = %v in %v", k, v, got.User)
		}
	}
}

func TestUserArgumentErrors(t *testing.T) {
	e := newEnv(t, envOptions{})
	cases := []struct{ query, code string }{
		{`{ user(userId: "abc") { userId } }`, CodeBadUserInput},
		{`{ user(userId: "12345678901234567890") { userId } }`, CodeBadUserInput},
		{`{ node(id: "garbage") { id } }`, CodeBadUserInput},
		{`{ node(id: "VXNlcjphYmM") { id } }`, CodeBadUserInput},     // "User:abc"
		{`{ node(id: "VXNlckdyb3VwOjE") { id } }`, CodeBadUserInput}, // "UserGroup:1"
	}
	for _, tc := range cases {
		errs, _ := e.Do(t, tc.query, nil, e.As()...)
		gqltest.ExpectCode(t, errs, tc.code)
	}
	if n := e.Up.Calls(); n != 0 {
		t.Fatalf("bad arguments made %d upstream calls", n)
	}
	errs, _ := e.Do(t, `{ user(userId: "1") { userId } }`, nil, e.As()...)
	gqltest.ExpectCode(t, errs, CodeNotFound)
}

// TestPageOwnersFetchedInOneWave holds every GET /users until all of a page's distinct
// owners are in flight at once: a fan-out bound below that would deadlock here and
// fail, as it costs a second upstream round trip in production.
func TestPageOwnersFetchedInOneWave(t *testing.T) {
	for _, tc := range []struct {
		fanout  int
		oneWave bool
	}{{0, true}, {5, false}} {
		t.Run(fmt.Sprintf("fanout=%d", tc.fanout), func(t *testing.T) {
			e := newEnv(t, envOptions{graph: Options{UserFanout: tc.fanout}})
			distinct := pageOwners(t, e, 60)
			var inFlight, peak atomic.Int64
			all := make(chan struct{})
			var once sync.Once
			e.Up.Intercept(func(w http.ResponseWriter, r *http.Request) bool {
				if !strings.HasPrefix(r.URL.Path, usersPath) {
					return false
				}
				n := inFlight.Add(1)
				defer inFlight.Add(-1)
				for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
				}
				if n == int64(len(distinct)) {
					once.Do(func() { close(all) })
				}
				// With one wave expected, wait long for the rest, however loaded the machine;
				// with a bound, the rest cannot come, so let this wave finish soon.
				patience := 5 * time.Second
				if !tc.oneWave {
					patience = 100 * time.Millisecond
				}
				select {
				case <-all:
				case <-time.After(patience):
				}
				return false
			})
			e.MustDo(t, `{ userGroups(first: 60) { nodes { owner { userId } } } }`, nil)
			switch {
			case tc.oneWave && peak.Load() != int64(len(distinct)):
				t.Fatalf("peak %d concurrent user calls, want all %d owners at once", peak.Load(), len(distinct))
			case !tc.oneWave && peak.Load() > int64(tc.fanout):
				t.Fatalf("peak %d concurrent user calls over the fan-out bound %d", peak.Load(), tc.fanout)
			}
		})
	}
}

// TestNaiveUserFetchIsNPlusOne checks the benchmarks' baseline: without the loader (and
// without coalescing) every owner field costs its own call.
func TestNaiveUserFetchIsNPlusOne(t *testing.T) {
	e := newEnv(t, envOptions{graph: Options{NaiveUserFetch: true}, koodrive: []koodrive.Option{koodrive.WithoutCoalescing()}})
	e.MustDo(t, `{ userGroups(first: 50) { nodes { owner { userId } } } }`, nil)
	if users := userCallCount(e); users != 50 {
		t.Fatalf("%d user calls for 50 owner fields, want 50", users)
	}
}

// pageOwners is the distinct owners of the caller's first n user groups (which costs
// no user call).
func pageOwners(t *testing.T, e *testEnv, n int) map[string]bool {
	t.Helper()
	var ids struct {
		UserGroups struct{ Nodes []struct{ OwnerID string } }
	}
	e.MustDo(t, fmt.Sprintf(`{ userGroups(first: %d) { nodes { ownerId } } }`, n), &ids)
	distinct := map[string]bool{}
	for _, n := range ids.UserGroups.Nodes {
		distinct[n.OwnerID] = true
	}
	return distinct
}

// userCallCount is the GET /users calls the demo KooDrive has served.
func userCallCount(e *testEnv) int {
	n := 0
	for _, id := range e.Up.UserIDs() {
		n += e.Up.Path(usersPath + id)
	}
	return n
}

// TestPageOwnersStartWithThePage: when a userGroups field selects owner (directly, through
// nodes, or in fragments), its page's distinct owners are fetched as one set started
// with the page; when it does not (or skips it), no user is fetched.
// batchRecorder records the user calls started together.
type batchRecorder struct {
	mu      sync.Mutex
	batches []int
}

func (o *batchRecorder) UserBatch(n int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.batches = append(o.batches, n)
}

func TestPageOwnersStartWithThePage(t *testing.T) {
	for _, tc := range []struct {
		name, query string
		vars        map[string]any
		owners      bool
	}{
		{"edges", `{ userGroups(first: 30) { edges { node { owner { userId } } } } }`, nil, true},
		{"nodes", `{ userGroups(first: 30) { nodes { owner { userId } } } }`, nil, true},
		{"fragment spread", `{ userGroups(first: 30) { nodes { ...G } } } fragment G on UserGroup { owner { userId } }`, nil, true},
		{"inline fragment", `{ userGroups(first: 30) { edges { node { ... on Node { id } ... on UserGroup { owner { name } } } } } }`, nil, true},
		{"alias", `{ userGroups(first: 30) { edges { n: node { boss: owner { userId } } } } }`, nil, true},
		{"no owner", `{ userGroups(first: 30) { edges { cursor node { groupId ownerId } } totalCount } }`, nil, false},
		{"skipped owner", `{ userGroups(first: 30) { nodes { groupId owner @skip(if: true) { userId } } } }`, nil, false},
		{"owner excluded by a variable", `query($with: Boolean!) { userGroups(first: 30) { nodes { owner @include(if: $with) { userId } } } }`, map[string]any{"with": false}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			obs := &batchRecorder{}
			e := newEnv(t, envOptions{graph: Options{Observer: obs}})
			distinct := pageOwners(t, e, 30)
			var opts []client.Option
			if tc.vars != nil {
				opts = append(opts, func(bd *client.Request) { bd.Variables = tc.vars })
			}
			e.MustDo(t, tc.query, nil, opts...)
			obs.mu.Lock()
			defer obs.mu.Unlock()
			calls := userCallCount(e)
			switch {
			case tc.owners && (calls != len(distinct) || !slices.Equal(obs.batches, []int{len(distinct)})):
				t.Fatalf("%d user calls started in sets %v; want the %d distinct owners in one set", calls, obs.batches, len(distinct))
			case !tc.owners && calls != 0:
				t.Fatalf("%d user calls for a query that reads no owner", calls)
			}
		})
	}
}

// TestResumedPagePrefetchesOnlyItsOwners: resuming mid-page refetches the whole upstream
// page, but only the owners of the groups that become edges are fetched.
func TestResumedPagePrefetchesOnlyItsOwners(t *testing.T) {
	e := newEnv(t, envOptions{})
	var first struct {
		UserGroups struct {
			Edges []struct {
				Cursor string
				Node   struct{ OwnerID string }
			}
		}
	}
	e.MustDo(t, `{ userGroups(first: 10) { edges { cursor node { ownerId } } } }`, &first)
	all := first.UserGroups.Edges
	if len(all) != 10 {
		t.Fatalf("%d edges, want 10", len(all))
	}
	distinct := map[string]bool{}
	for _, edge := range all[3:6] {
		distinct[edge.Node.OwnerID] = true
	}
	var next struct {
		UserGroups struct {
			Edges []struct {
				Node struct{ Owner struct{ UserID string } }
			}
		}
	}
	e.MustDo(t, fmt.Sprintf(`{ userGroups(first: 3, after: %q) { edges { node { owner { userId } } } } }`, all[2].Cursor), &next)
	for i, edge := range next.UserGroups.Edges {
		if edge.Node.Owner.UserID != all[3+i].Node.OwnerID {
			t.Fatalf("edge %d: owner %s, want %s", i, edge.Node.Owner.UserID, all[3+i].Node.OwnerID)
		}
	}
	if calls := userCallCount(e); calls != len(distinct) {
		t.Fatalf("%d user calls, want the %d distinct owners of the 3 edges", calls, len(distinct))
	}
}
