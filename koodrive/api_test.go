package koodrive

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestListUserGroups_queryParameters(t *testing.T) {
	tests := []struct {
		name   string
		params ListUserGroupsParams
		want   url.Values
	}{
		{"first page sends an empty cursor", ListUserGroupsParams{PageSize: 100, SourceType: SourceGroup},
			url.Values{"pageSize": {"100"}, "pageCursor": {""}, "sourceType": {"0"}}},
		{"cursor passed through byte for byte", ListUserGroupsParams{PageSize: 7, PageCursor: "a+b/c==&d=e%2F f?#g", SourceType: SourceUserGroup},
			url.Values{"pageSize": {"7"}, "pageCursor": {"a+b/c==&d=e%2F f?#g"}, "sourceType": {"1"}}},
		{"group name filter", ListUserGroupsParams{PageSize: 1, PageCursor: "kd", GroupName: "Team & Co+ä=1", SourceType: SourceUserGroup},
			url.Values{"pageSize": {"1"}, "pageCursor": {"kd"}, "sourceType": {"1"}, "groupName": {"Team & Co+ä=1"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := setup(t)
			queries := make(chan url.Values, 1)
			f.mux.HandleFunc("GET /koodrive/ose/v1/usergroups", func(w http.ResponseWriter, r *http.Request) {
				queries <- r.URL.Query()
				fmt.Fprint(w, `{"code":0,"msg":"OK","total":0,"userGroupList":[]}`)
			})
			if _, err := f.client.ListUserGroups(callerContext(t, testCaller()), tt.params); err != nil {
				t.Fatalf("ListUserGroups(%+v): %v", tt.params, err)
			}
			if got := <-queries; !reflect.DeepEqual(got, tt.want) {
				t.Errorf("query = %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestListUserGroups_decodesAPage(t *testing.T) {
	f := setup(t)
	f.mux.HandleFunc("GET /koodrive/ose/v1/usergroups", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{
  "total" : 345,
  "userGroupList" : [ {
    "id" : "1407237551361847809",
    "groupName" : "7",
    "ownerId" : "1395476983395324033",
    "createdTime" : "2024-04-25T06:49:49.000Z",
    "updatedTime" : "2024-04-25T06:49:49.123Z"
  }, {
    "id" : "9999999999999999999",
    "groupName" : "111",
    "ownerId" : "0000000000000000001",
    "createdTime" : "2024-04-22T02:18:46.001Z",
    "updatedTime" : "2024-04-22T02:18:46.999Z"
  } ],
  "nextCursor" : "a2Q6Mjox+/=",
  "code" : 0,
  "msg" : "OK"
}`)
	})
	page, err := f.client.ListUserGroups(callerContext(t, testCaller()), ListUserGroupsParams{PageSize: 2})
	if err != nil {
		t.Fatalf("ListUserGroups: %v", err)
	}
	if page.Total != 345 || page.NextCursor != "a2Q6Mjox+/=" || len(page.Groups) != 2 {
		t.Fatalf("page = {Total:%d NextCursor:%q len(Groups):%d}, want {345 %q 2}", page.Total, page.NextCursor, len(page.Groups), "a2Q6Mjox+/=")
	}
	at := func(s string) time.Time { tm, _ := time.Parse(time.RFC3339Nano, s); return tm }
	want := []struct {
		id, name, owner  string
		created, updated time.Time
	}{
		{"1407237551361847809", "7", "1395476983395324033", at("2024-04-25T06:49:49Z"), at("2024-04-25T06:49:49.123Z")},
		{"9999999999999999999", "111", "0000000000000000001", at("2024-04-22T02:18:46.001Z"), at("2024-04-22T02:18:46.999Z")},
	}
	for i, w := range want {
		g := page.Groups[i]
		if g.ID != w.id || g.GroupName != w.name || g.OwnerID != w.owner {
			t.Errorf("group %d = {ID:%q GroupName:%q OwnerID:%q}, want {%q %q %q}", i, g.ID, g.GroupName, g.OwnerID, w.id, w.name, w.owner)
		}
		if g.CreatedTime == nil || !g.CreatedTime.Equal(w.created) {
			t.Errorf("group %d CreatedTime = %v, want %v", i, g.CreatedTime, w.created)
		}
		if g.UpdatedTime == nil || !g.UpdatedTime.Equal(w.updated) {
			t.Errorf("group %d UpdatedTime = %v, want %v", i, g.UpdatedTime, w.updated)
		}
	}
}

func TestListUserGroups_endOfList(t *testing.T) {
	tests := []struct {
		name, fields string
		wantCursor   string
		wantGroups   int
	}{
		{"nextCursor absent", `"userGroupList":[{"id":"1"}]`, "", 1},
		{"nextCursor null", `"userGroupList":[{"id":"1"}],"nextCursor":null`, "", 1},
		{"nextCursor empty", `"userGroupList":[{"id":"1"}],"nextCursor":""`, "", 1},
		{"empty page before the end", `"userGroupList":[],"nextCursor":"more"`, "more", 0},
		{"list absent before the end", `"nextCursor":"more"`, "more", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := setup(t)
			f.mux.HandleFunc("GET /koodrive/ose/v1/usergroups", func(w http.ResponseWriter, r *http.Request) {
				fmt.Fprintf(w, `{"code":0,"msg":"OK","total":1,%s}`, tt.fields)
			})
			page, err := f.client.ListUserGroups(callerContext(t, testCaller()), ListUserGroupsParams{PageSize: 5})
			if err != nil {
				t.Fatalf("ListUserGroups: %v", err)
			}
			if page.NextCursor != tt.wantCursor || len(page.Groups) != tt.wantGroups {
				t.Errorf("page = {NextCursor:%q len(Groups):%d}, want {%q %d}", page.NextCursor, len(page.Groups), tt.wantCursor, tt.wantGroups)
			}
		})
	}
}

func TestGetUser_path(t *testing.T) {
	// Ids made of digits, of characters legal in a path segment as they are, and of
	// characters that must be escaped exactly once.
	for _, id := range []string{"1316083732377070977", "0000000000000000001", "user:42@org+x=y&z", "a/b", "a b", "ä", "100%", "q?x#y"} {
		t.Run(id, func(t *testing.T) {
			f := setup(t)
			got := make(chan string, 1)
			f.mux.HandleFunc("GET /koodrive/ose/v1/users/{id}", func(w http.ResponseWriter, r *http.Request) {
				got <- r.PathValue("id")
				fmt.Fprint(w, okBody)
			})
			if _, err := f.client.GetUser(callerContext(t, testCaller()), id); err != nil {
				t.Fatalf("GetUser(%q): %v", id, err)
			}
			if g := <-got; g != id {
				t.Errorf("server got user id %q, want %q", g, id)
			}
		})
	}
}

func TestGetUser_decodesTheDocumentedExample(t *testing.T) {
	f := setup(t)
	f.mux.HandleFunc("GET /koodrive/ose/v1/users/{id}", func(w http.ResponseWriter, r *http.Request) {
		// The documentation's example, minus its trailing comma.
		fmt.Fprint(w, `{
  "data": {
    "id": "1316083732377070977",
    "orgId": "9190086000001210958",
    "userId": "1008600000293202821",
    "deptId": "1243693141656107521",
    "deptName": "newDept",
    "mobile": "0086181****8439",
    "name": "Sam",
    "role": 1,
    "status": 0
  },
  "code": 0,
  "msg": "success"
}`)
	})
	u, err := f.client.GetUser(callerContext(t, testCaller()), "1316083732377070977")
	if err != nil {
		t.Fatalf("GetUser: %v", err)
	}
	want := map[string]any{
		"ID": "1316083732377070977", "OrgID": "9190086000001210958", "UserID": "1008600000293202821",
		"DeptID": "1243693141656107521", "DeptName": "newDept", "Mobile": "0086181****8439",
		"Name": "Sam", "Role": 1, "Status": 0,
	}
	fields := reflect.ValueOf(*u)
	for i := range fields.NumField() {
		name, p := fields.Type().Field(i).Name, fields.Field(i)
		w, ok := want[name]
		switch {
		case !ok:
			t.Errorf("User.%s is not checked by this test", name)
		case p.IsNil():
			t.Errorf("User.%s = nil, want %v", name, w)
		case p.Elem().Interface() != w:
			t.Errorf("User.%s = %v, want %v", name, p.Elem().Interface(), w)
		}
	}
}

func TestGetUser_everyFieldIsOptional(t *testing.T) {
	tests := []struct {
		name, data string
		wantSet    []string // fields that must be non-nil; all others nil
	}{
		{"empty data", `{}`, nil},
		{"name only", `{"name":"Sam"}`, []string{"Name"}},
		{"zero values are kept apart from absent ones", `{"role":0,"status":0,"mobile":""}`, []string{"Mobile", "Role", "Status"}},
		{"nulls", `{"id":null,"role":null}`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := setup(t)
			f.mux.HandleFunc("GET /koodrive/ose/v1/users/{id}", func(w http.ResponseWriter, r *http.Request) {
				fmt.Fprintf(w, `{"code":0,"msg":"success","data":%s}`, tt.data)
			})
			u, err := f.client.GetUser(callerContext(t, testCaller()), "1")
			if err != nil {
				t.Fatalf("GetUser with data %s: %v", tt.data, err)
			}
			fields := reflect.ValueOf(*u)
			for i := range fields.NumField() {
				name, p := fields.Type().Field(i).Name, fields.Field(i)
				if wantSet := slices.Contains(tt.wantSet, name); p.IsNil() == wantSet {
					t.Errorf("User.%s set = %v, want %v (data %s)", name, !p.IsNil(), wantSet, tt.data)
				}
			}
		})
	}
}

func TestGetUser_withoutData(t *testing.T) {
	for name, body := range map[string]string{
		"data missing": `{"code":0,"msg":"success"}`,
		"data null":    `{"code":0,"msg":"success","data":null}`,
	} {
		t.Run(name, func(t *testing.T) {
			f := setup(t)
			f.mux.HandleFunc("GET /koodrive/ose/v1/users/{id}", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, body) })
			u, err := f.client.GetUser(callerContext(t, testCaller()), "1")
			if u != nil {
				t.Errorf("user = %+v, want nil", u)
			}
			checkError(t, err, wantError{op: "GetUser", status: 200, kind: ErrBadResponse, traceID: testTraceID})
		})
	}
}

func TestListUserGroups_refusesAnOverlongNextCursor(t *testing.T) {
	for _, n := range []int{MaxCursorLen, MaxCursorLen + 1} {
		f := setup(t)
		f.mux.HandleFunc("GET /koodrive/ose/v1/usergroups", func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, `{"code":0,"msg":"OK","total":1,"userGroupList":[],"nextCursor":%q}`, strings.Repeat("c", n))
		})
		page, err := f.client.ListUserGroups(callerContext(t, testCaller()), ListUserGroupsParams{PageSize: 1})
		if n <= MaxCursorLen && (err != nil || len(page.NextCursor) != n) {
			t.Fatalf("%d-byte cursor: %v", n, err)
		}
		if n > MaxCursorLen && !errors.Is(err, ErrBadResponse) {
			t.Fatalf("%d-byte cursor: err %v, want ErrBadResponse", n, err)
		}
	}
}

func TestGetUser_withoutDataKeepsTheStatus(t *testing.T) {
	f := setup(t)
	f.mux.HandleFunc("GET /koodrive/ose/v1/users/{id}", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusAccepted)
		fmt.Fprint(w, `{"code":0,"msg":"ok"}`)
	})
	_, err := f.client.GetUser(callerContext(t, testCaller()), "1")
	var ke *Error
	if !errors.As(err, &ke) || ke.StatusCode != http.StatusAccepted || !errors.Is(err, ErrBadResponse) {
		t.Fatalf("err %v, want ErrBadResponse with status 202", err)
	}
}
