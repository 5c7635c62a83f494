package graph

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/99designs/gqlgen/client"

	"github.com/koodrive/facade/graph/internal/gqltest"
	"github.com/koodrive/facade/graph/model"
)

type groupPage struct {
	UserGroups struct {
		TotalCount int
		PageInfo   struct {
			HasNextPage, HasPreviousPage bool
			StartCursor, EndCursor       *string
		}
		Edges []struct {
			Cursor string
			Node   struct{ GroupID, Name, OwnerID string }
		}
	}
}

func (p groupPage) ids() []string {
	var ids []string
	for _, e := range p.UserGroups.Edges {
		ids = append(ids, e.Node.GroupID)
	}
	return ids
}

const pageQuery = `query($first: Int, $after: String, $name: String, $st: UserGroupSourceType) {
  userGroups(first: $first, after: $after, groupName: $name, sourceType: $st) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { groupId name ownerId } }
  }
}`

func (e *testEnv) page(t *testing.T, first int, after *string, st string, name string) groupPage {
	t.Helper()
	var p groupPage
	e.MustDo(t, pageQuery, &p, client.Var("first", first), client.Var("after", after), client.Var("st", st), client.Var("name", name))
	return p
}

func TestPagingWalksEveryGroupOnce(t *testing.T) {
	for _, st := range []string{"USER_GROUP", "GROUP"} {
		for _, first := range []int{1, 7, 20, 100} {
			t.Run(fmt.Sprintf("%s/first=%d", st, first), func(t *testing.T) {
				e := newEnv(t, envOptions{})
				calls := e.recordGroupCalls()
				want := e.Up.GroupIDs(e.Up.CallerID(), map[string]int{"GROUP": 0, "USER_GROUP": 1}[st], "")
				var got []string
				var after *string
				for i := 0; ; i++ {
					if i > len(want)+1 {
						t.Fatal("paging does not end")
					}
					p := e.page(t, first, after, st, "")
					if n := len(p.UserGroups.Edges); n > first || (n < first && p.UserGroups.PageInfo.HasNextPage) {
						t.Fatalf("page %d: %d edges for first=%d with hasNextPage=%v", i, n, first, p.UserGroups.PageInfo.HasNextPage)
					}
					if p.UserGroups.TotalCount != len(want) {
						t.Fatalf("totalCount %d, want %d", p.UserGroups.TotalCount, len(want))
					}
					if p.UserGroups.PageInfo.HasPreviousPage != (after != nil) {
						t.Fatalf("hasPreviousPage %v with after=%v", p.UserGroups.PageInfo.HasPreviousPage, after)
					}
					got = append(got, p.ids()...)
					if !p.UserGroups.PageInfo.HasNextPage {
						break
					}
					after = p.UserGroups.PageInfo.EndCursor
				}
				if !slices.Equal(got, want) {
					t.Fatalf("walked %d groups, want %d in upstream order\ngot  %v\nwant %v", len(got), len(want), got, want)
				}
				for _, q := range calls() {
					if size, _ := strconv.Atoi(q["pageSize"][0]); size < 1 || size > first {
						t.Fatalf("asked KooDrive for pageSize %d with first=%d", size, first)
					}
				}
			})
		}
	}
}

func TestPagingCrossesPartialAndEmptyPages(t *testing.T) {
	e := newEnv(t, envOptions{})
	head := e.page(t, 10, nil, "USER_GROUP", "")
	calls := e.recordGroupCalls()
	// The demo's second upstream page is half full and its third empty: 30 groups from
	// there take three calls (30 asked, 15 sent; 15 asked, none sent; 15 asked and sent).
	p := e.page(t, 30, head.UserGroups.PageInfo.EndCursor, "USER_GROUP", "")
	want := e.Up.GroupIDs(e.Up.CallerID(), 1, "")[10:40]
	if !slices.Equal(p.ids(), want) {
		t.Fatalf("got %v, want %v", p.ids(), want)
	}
	var sizes []string
	for _, q := range calls() {
		sizes = append(sizes, q["pageSize"][0])
	}
	if got := strings.Join(sizes, ","); got != "30,15,15" {
		t.Fatalf("pageSizes asked %s, want 30,15,15", got)
	}
}

func TestResumeFromEveryEdge(t *testing.T) {
	e := newEnv(t, envOptions{})
	want := e.Up.GroupIDs(e.Up.CallerID(), 1, "")
	// 10 edges from one full upstream page, then 30 across a partial and an empty one:
	// cursors in the middle and at the end of full and partial upstream pages.
	head := e.page(t, 10, nil, "USER_GROUP", "")
	cross := e.page(t, 30, head.UserGroups.PageInfo.EndCursor, "USER_GROUP", "")
	edges := append(head.UserGroups.Edges, cross.UserGroups.Edges...)
	for k, edge := range edges {
		p := e.page(t, 10, &edge.Cursor, "USER_GROUP", "")
		if !slices.Equal(p.ids(), want[k+1:k+11]) {
			t.Fatalf("after edge %d: got %v, want %v", k, p.ids(), want[k+1:k+11])
		}
		if !p.UserGroups.PageInfo.HasPreviousPage || !p.UserGroups.PageInfo.HasNextPage {
			t.Fatalf("after edge %d: pageInfo %+v", k, p.UserGroups.PageInfo)
		}
	}
}

func TestLastPageHasNoNextPage(t *testing.T) {
	e := newEnv(t, envOptions{})
	want := e.Up.GroupIDs(e.Up.CallerID(), 1, "alpha") // no group is named so
	p := e.page(t, 20, nil, "USER_GROUP", "alpha")
	if len(want) != 0 || len(p.UserGroups.Edges) != 0 || p.UserGroups.PageInfo.HasNextPage || p.UserGroups.PageInfo.EndCursor != nil {
		t.Fatalf("empty list: %+v", p.UserGroups)
	}
	// The very last edge's cursor resumes to an empty, final page.
	all := e.Up.GroupIDs(e.Up.CallerID(), 0, "")
	full := e.page(t, 100, nil, "GROUP", "")
	for full.UserGroups.PageInfo.HasNextPage {
		full = e.page(t, 100, full.UserGroups.PageInfo.EndCursor, "GROUP", "")
	}
	last := full.UserGroups.Edges[len(full.UserGroups.Edges)-1]
	if last.Node.GroupID != all[len(all)-1] {
		t.Fatalf("last group %s, want %s", last.Node.GroupID, all[len(all)-1])
	}
	end := e.page(t, 5, &last.Cursor, "GROUP", "")
	if len(end.UserGroups.Edges) != 0 || end.UserGroups.PageInfo.HasNextPage {
		t.Fatalf("after the last edge: %+v", end.UserGroups)
	}
}

func TestFilterIsApplied(t *testing.T) {
	e := newEnv(t, envOptions{})
	want := e.Up.GroupIDs(e.Up.CallerID(), 1, "payroll")
	p := e.page(t, 100, nil, "USER_GROUP", "payroll")
	if len(want) == 0 || !slices.Equal(p.ids(), want) || p.UserGroups.TotalCount != len(want) {
		t.Fatalf("filtered page %v (total %d), want %v", p.ids(), p.UserGroups.TotalCount, want)
	}
}

func TestBadPagingArgumentsMakeNoUpstreamCall(t *testing.T) {
	e := newEnv(t, envOptions{})
	page := e.page(t, 3, nil, "USER_GROUP", "team")
	cursor := page.UserGroups.Edges[1].Cursor
	before := e.Up.Calls()
	cases := []struct {
		name  string
		vars  []client.Option
		inMsg string
	}{
		{"first 0", []client.Option{client.Var("first", 0)}, "first"},
		{"first 101", []client.Option{client.Var("first", 101)}, "first"},
		{"first negative", []client.Option{client.Var("first", -5)}, "first"},
		{"cursor of another name", []client.Option{client.Var("after", cursor), client.Var("name", "payroll")}, "cursor"},
		{"cursor without its name", []client.Option{client.Var("after", cursor)}, "cursor"},
		{"cursor of another source type", []client.Option{client.Var("after", cursor), client.Var("name", "team"), client.Var("st", "GROUP")}, "cursor"},
		{"garbled cursor", []client.Option{client.Var("after", "not-a-cursor!")}, "cursor"},
		{"base64 of junk", []client.Option{client.Var("after", base64.RawURLEncoding.EncodeToString([]byte("{junk")))}, "cursor"},
		{"negative skip", []client.Option{client.Var("after", encodeCursor(pagePosition{Filter: filterKey("", 1), Skip: -1}))}, "cursor"},
		{"page size over 100", []client.Option{client.Var("after", encodeCursor(pagePosition{Filter: filterKey("", 1), PageSize: 500}))}, "cursor"},
		{"huge cursor", []client.Option{client.Var("after", strings.Repeat("A", 5000))}, "cursor"},
		{"long groupName", []client.Option{client.Var("name", strings.Repeat("x", 300))}, "groupName"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			errs, _ := e.Do(t, pageQuery, nil, append(e.As(), tc.vars...)...)
			got := gqltest.ExpectCode(t, errs, CodeBadUserInput)
			if !strings.Contains(got.Message, tc.inMsg) {
				t.Fatalf("message %q does not name %q", got.Message, tc.inMsg)
			}
		})
	}
	if n := e.Up.Calls() - before; n != 0 {
		t.Fatalf("bad arguments made %d upstream calls", n)
	}
}

func TestMisbehavingUpstreamIsBounded(t *testing.T) {
	e := newEnv(t, envOptions{graph: Options{MaxUpstreamPages: 4}})
	// Every page is empty and points to another: without a bound this never ends.
	e.Up.Intercept(func(w http.ResponseWriter, r *http.Request) bool {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"code":0,"msg":"OK","total":3,"userGroupList":[],"nextCursor":"again"}`)
		return true
	})
	p := e.page(t, 10, nil, "USER_GROUP", "")
	if n := e.Up.Path(groupsPath); n != 4 {
		t.Fatalf("%d upstream pages read, want the bound 4", n)
	}
	info := p.UserGroups.PageInfo
	if len(p.UserGroups.Edges) != 0 || !info.HasNextPage || info.EndCursor == nil {
		t.Fatalf("bound hit: want no edges, hasNextPage and a resume cursor, got %+v", p.UserGroups)
	}
	// The resume cursor continues from where the bound stopped.
	e.Up.Intercept(func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Query().Get("pageCursor") != "again" {
			t.Errorf("resumed at %q, want the upstream cursor reached", r.URL.Query().Get("pageCursor"))
		}
		fmt.Fprint(w, `{"code":0,"msg":"OK","total":1,"userGroupList":[{"id":"1","groupName":"g","ownerId":"2"}]}`)
		return true
	})
	p = e.page(t, 10, info.EndCursor, "USER_GROUP", "")
	if len(p.UserGroups.Edges) != 1 || p.UserGroups.PageInfo.HasNextPage {
		t.Fatalf("after resuming: %+v", p.UserGroups)
	}
}

// TestGroupRefetch: a group's id finds it again through node(id:), by the list endpoint
// filtered by its name, counted; a group the caller no longer joins is null with
// NOT_FOUND; old and garbled ids are BAD_USER_INPUT, with no call.
func TestGroupRefetch(t *testing.T) {
	e := newEnv(t, envOptions{})
	var page struct {
		UserGroups struct {
			Nodes []struct{ ID, GroupID, Name string }
		}
	}
	e.MustDo(t, `{ userGroups(first: 30, sourceType: GROUP) { nodes { id groupId name } } }`, &page)
	for _, g := range []int{0, 7, 29} {
		want := page.UserGroups.Nodes[g]
		before := e.Up.Path(groupsPath)
		var got struct {
			Node *struct {
				GroupID, Name string
				Owner         struct{ UserID string }
			}
		}
		e.MustDo(t, `query($id: ID!) { node(id: $id) { ... on UserGroup { groupId name owner { userId } } } }`, &got, client.Var("id", want.ID))
		if got.Node == nil || got.Node.GroupID != want.GroupID || got.Node.Name != want.Name || got.Node.Owner.UserID == "" {
			t.Fatalf("refetch of %+v: %+v", want, got.Node)
		}
		if calls := e.Up.Path(groupsPath) - before; calls < 1 || calls > 10 {
			t.Fatalf("%d group pages read for one refetch, want 1..10", calls)
		}
	}

	// A group the caller does not join: null, NOT_FOUND.
	var missing struct{ Node *struct{ ID string } }
	gone := model.UserGroup{GroupID: "999999999", Name: page.UserGroups.Nodes[0].Name, SourceType: 0}
	errs, raw := e.Do(t, `query($id: ID!) { node(id: $id) { id } }`, &missing, append(e.As(), client.Var("id", gone.ID()))...)
	if len(errs) != 1 || errs[0].Code() != CodeNotFound || missing.Node != nil || !strings.Contains(raw, `"node":null`) {
		t.Fatalf("a group the caller does not join: %s", raw)
	}

	before := e.Up.Calls()
	for id, code := range map[string]string{
		model.NewGlobalID(model.TypeUserGroup, "1407237551361847826"): CodeBadUserInput, // the old format
		model.NewGlobalID(model.TypeUserGroup, "v2:7:1:name"):         CodeBadUserInput, // no such source type
		model.NewGlobalID(model.TypeUserGroup, "v3:0:1:name"):         CodeBadUserInput,
		model.NewGlobalID(model.TypeUserGroup, "v2:0::name"):          CodeBadUserInput,
		model.NewGlobalID("Team", "v2:0:1:name"):                      CodeBadUserInput,
	} {
		errs, raw := e.Do(t, `query($id: ID!) { node(id: $id) { id } }`, nil, append(e.As(), client.Var("id", id))...)
		if len(errs) != 1 || errs[0].Code() != code {
			t.Errorf("%s: %s", id, raw)
		}
		if strings.Contains(raw, "INTERNAL") {
			t.Errorf("%s: %s", id, raw)
		}
	}
	if e.Up.Calls() != before {
		t.Fatalf("%d upstream calls for refused ids", e.Up.Calls()-before)
	}
}

// TestGroupRefetchIsBounded: when every page holds other groups and says more follow,
// the refetch stops at the page bound: NOT_FOUND after exactly that many pages.
func TestGroupRefetchIsBounded(t *testing.T) {
	e := newEnv(t, envOptions{graph: Options{MaxUpstreamPages: 3}})
	var pages atomic.Int64
	e.Up.Intercept(func(w http.ResponseWriter, r *http.Request) bool {
		if !strings.HasSuffix(r.URL.Path, "/usergroups") {
			return false
		}
		pages.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"code":0,"msg":"OK","total":1000,"userGroupList":[{"id":"1","groupName":"Team","ownerId":"2"}],"nextCursor":"more"}`))
		return true
	})
	id := model.UserGroup{GroupID: "42", Name: "Team", SourceType: 1}.ID()
	errs, raw := e.Do(t, `query($id: ID!) { node(id: $id) { id } }`, nil, append(e.As(), client.Var("id", id))...)
	if len(errs) != 1 || errs[0].Code() != CodeNotFound || pages.Load() != 3 {
		t.Fatalf("%d pages read (bound 3): %s", pages.Load(), raw)
	}
}
