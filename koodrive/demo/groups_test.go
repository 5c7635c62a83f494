package demo

import (
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestListGroups_rejectsBadParameters(t *testing.T) {
	b64 := base64.RawURLEncoding.EncodeToString
	tests := []struct {
		name     string
		query    url.Values
		wantCode int
	}{
		{"pageSize 0", groupsQuery("0", "", 1), 3001},
		{"pageSize 101", groupsQuery("101", "", 1), 3001},
		{"pageSize -1", groupsQuery("-1", "", 1), 3001},
		{"pageSize not a number", groupsQuery("ten", "", 1), 3001},
		{"pageSize empty", groupsQuery("", "", 1), 3001},
		{"pageSize missing", url.Values{"pageCursor": {""}, "sourceType": {"1"}}, 3001},
		{"sourceType 2", groupsQuery("10", "", 2), 3002},
		{"sourceType missing", url.Values{"pageSize": {"10"}, "pageCursor": {""}}, 3002},
		{"pageCursor missing", url.Values{"pageSize": {"10"}, "sourceType": {"1"}}, 3003},
		{"pageCursor not base64", groupsQuery("10", "!!not base64!!", 1), 3004},
		{"pageCursor of another shape", groupsQuery("10", b64([]byte("offset=7")), 1), 3004},
		{"pageCursor with a negative offset", groupsQuery("10", b64([]byte("kd:-7:1")), 1), 3004},
		{"pageCursor with a negative page", groupsQuery("10", b64([]byte("kd:7:-1")), 1), 3004},
	}
	up, srv := newDemo(t, Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := do(t, srv, http.MethodGet, groupsPath, tt.query, validHeaders(up))
			if a.Status != 400 || *a.Code != tt.wantCode {
				t.Errorf("query %s: status %d code %d, want 400 code %d (%s)", tt.query.Encode(), a.Status, *a.Code, tt.wantCode, a.Raw)
			}
		})
	}
	for _, size := range []int{1, 100} { // the first page is a full one
		if a := do(t, srv, http.MethodGet, groupsPath, groupsQuery(strconv.Itoa(size), "", 1), validHeaders(up)); a.Status != 200 || len(a.UserGroupList) != size {
			t.Errorf("pageSize %d: status %d with %d groups, want 200 with %d", size, a.Status, len(a.UserGroupList), size)
		}
	}
}

type fetched struct {
	cursor string
	answer
}

// walk follows nextCursor from the first page to the end and checks every page's shape.
func walk(t *testing.T, srv *httptest.Server, h http.Header, size, sourceType int, groupName string) (ids []string, pages []fetched) {
	t.Helper()
	cursor := ""
	for range 1000 {
		q := groupsQuery(strconv.Itoa(size), cursor, sourceType)
		if groupName != "" {
			q.Set("groupName", groupName)
		}
		a := do(t, srv, http.MethodGet, groupsPath, q, h)
		if a.Status != 200 || *a.Code != 0 || a.Total == nil {
			t.Fatalf("page %d (cursor %q): status %d code %d, want 200 code 0 with a total (%s)", len(pages), cursor, a.Status, *a.Code, a.Raw)
		}
		if len(a.UserGroupList) > size {
			t.Errorf("page %d holds %d groups, more than pageSize %d", len(pages), len(a.UserGroupList), size)
		}
		if len(pages) > 0 && *a.Total != *pages[0].Total {
			t.Errorf("page %d total = %d, page 0 said %d", len(pages), *a.Total, *pages[0].Total)
		}
		pages = append(pages, fetched{cursor, a})
		for _, g := range a.UserGroupList {
			ids = append(ids, g.ID)
		}
		if a.NextCursor == nil {
			return ids, pages
		}
		if *a.NextCursor == "" || *a.NextCursor == cursor {
			t.Fatalf("page %d: nextCursor %q after cursor %q", len(pages)-1, *a.NextCursor, cursor)
		}
		cursor = *a.NextCursor
	}
	t.Fatalf("no end after %d pages", len(pages))
	return nil, nil
}

func TestListGroups_walkVisitsEveryGroupOnceInOrder(t *testing.T) {
	const size = 7
	up, srv := newDemo(t, Options{})
	for sourceType := range 2 {
		t.Run("sourceType "+strconv.Itoa(sourceType), func(t *testing.T) {
			want := up.GroupIDs(up.CallerID(), sourceType, "")
			if len(want) < 3*size {
				t.Fatalf("only %d groups: too few to meet partial and empty pages", len(want))
			}
			ids, pages := walk(t, srv, validHeaders(up), size, sourceType, "")
			if !slices.Equal(ids, want) {
				t.Errorf("walk visited %d ids, want the %d of GroupIDs in order\n got %v\nwant %v", len(ids), len(want), ids, want)
			}
			if total := *pages[0].Total; total != len(want) {
				t.Errorf("total = %d, want %d", total, len(want))
			}
			var empty, partial int
			for _, p := range pages[:len(pages)-1] { // the last page may be short: it is the end
				switch n := len(p.UserGroupList); {
				case n == 0:
					empty++
				case n < size:
					partial++
				}
			}
			if empty == 0 || partial == 0 {
				t.Errorf("walk of %d pages met %d empty and %d partial pages before the end, want at least one of each", len(pages), empty, partial)
			}
		})
	}
}

func TestListGroups_sameCursorSamePage(t *testing.T) {
	up, srv := newDemo(t, Options{})
	_, pages := walk(t, srv, validHeaders(up), 7, 1, "")
	for i, p := range pages {
		again := do(t, srv, http.MethodGet, groupsPath, groupsQuery("7", p.cursor, 1), validHeaders(up))
		if string(again.Raw) != string(p.Raw) {
			t.Errorf("page %d (cursor %q) refetched:\n got %s\nwant %s", i, p.cursor, again.Raw, p.Raw)
		}
	}
}

func TestListGroups_sourceTypeFilter(t *testing.T) {
	up, srv := newDemo(t, Options{})
	groups, _ := walk(t, srv, validHeaders(up), 100, 0, "")
	userGroups, _ := walk(t, srv, validHeaders(up), 100, 1, "")
	if len(groups) == 0 || len(userGroups) == 0 {
		t.Fatalf("%d groups and %d user groups, want some of each", len(groups), len(userGroups))
	}
	for _, id := range groups {
		if slices.Contains(userGroups, id) {
			t.Errorf("group %s listed under both source types", id)
		}
	}
	// The demo caller joins every group, so the two types together are all of them.
	if n := len(groups) + len(userGroups); n != 300 {
		t.Errorf("%d groups of both types, want the 300 seeded", n)
	}
	if !slices.Equal(groups, up.GroupIDs(up.CallerID(), 0, "")) || !slices.Equal(userGroups, up.GroupIDs(up.CallerID(), 1, "")) {
		t.Error("the listed groups differ from GroupIDs")
	}
}

func TestListGroups_groupNameFilter(t *testing.T) {
	up, srv := newDemo(t, Options{})
	_, all := walk(t, srv, validHeaders(up), 100, 1, "")
	var want []string
	for _, p := range all {
		for _, g := range p.UserGroupList {
			if strings.Contains(strings.ToLower(g.GroupName), "payroll") {
				want = append(want, g.ID)
			}
		}
	}
	if len(want) == 0 || len(want) == *all[0].Total {
		t.Fatalf("%d of %d groups are named like payroll: the filter would prove nothing", len(want), *all[0].Total)
	}
	for _, filter := range []string{"payroll", "PAYROLL", "yRoL"} {
		got, pages := walk(t, srv, validHeaders(up), 100, 1, filter)
		if !slices.Equal(got, want) {
			t.Errorf("groupName %q gave %v, want %v", filter, got, want)
		}
		if *pages[0].Total != len(want) {
			t.Errorf("groupName %q: total %d, want %d", filter, *pages[0].Total, len(want))
		}
		if ids := up.GroupIDs(up.CallerID(), 1, filter); !slices.Equal(ids, want) {
			t.Errorf("GroupIDs(groupName %q) = %v, want %v", filter, ids, want)
		}
	}
	if got, _ := walk(t, srv, validHeaders(up), 100, 1, "no such group"); len(got) != 0 {
		t.Errorf("groupName with no match gave %v, want none", got)
	}
}

func TestListGroups_otherUsersSeeTheirGroupsOnly(t *testing.T) {
	up, srv := newDemo(t, Options{})
	other := up.UserIDs()[1]
	h := validHeaders(up)
	h.Set("X-User-Id", other)
	got, _ := walk(t, srv, h, 100, 1, "")
	want := up.GroupIDs(other, 1, "")
	if !slices.Equal(got, want) {
		t.Errorf("user %s saw %v, want %v", other, got, want)
	}
	if all := up.GroupIDs(up.CallerID(), 1, ""); len(want) == 0 || len(want) >= len(all) {
		t.Errorf("user %s joins %d of %d groups, want some but not all", other, len(want), len(all))
	}
}
