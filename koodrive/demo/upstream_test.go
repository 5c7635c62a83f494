package demo

import (
	"fmt"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"testing"
	"time"
)

var nineteenDigits = regexp.MustCompile(`^[0-9]{19}$`)

func TestGetUser(t *testing.T) {
	up, srv := newDemo(t, Options{})
	ids := up.UserIDs()
	for _, id := range []string{ids[0], ids[1], ids[len(ids)-1]} {
		a := do(t, srv, http.MethodGet, usersPrefix+id, nil, validHeaders(up))
		if a.Status != 200 || *a.Code != 0 || a.Data == nil {
			t.Fatalf("user %s: status %d code %d, want 200 code 0 with data (%s)", id, a.Status, *a.Code, a.Raw)
		}
		if a.Data["userId"] != id {
			t.Errorf("user %s: data.userId = %v", id, a.Data["userId"])
		}
		wantKeys := []string{"deptId", "deptName", "id", "mobile", "name", "orgId", "role", "status", "userId"}
		if keys := slices.Sorted(maps.Keys(a.Data)); !slices.Equal(keys, wantKeys) {
			t.Errorf("user %s: data fields %v, want %v", id, keys, wantKeys)
		}
		for _, k := range []string{"id", "userId", "orgId", "deptId"} {
			if s, ok := a.Data[k].(string); !ok || !nineteenDigits.MatchString(s) {
				t.Errorf("user %s: %s = %#v, want a string of 19 digits", id, k, a.Data[k])
			}
		}
	}
	for _, id := range []string{"1008600000293299999", "", "admin"} {
		a := do(t, srv, http.MethodGet, usersPrefix+id, nil, validHeaders(up))
		if a.Status != 404 || *a.Code == 0 || a.Data != nil {
			t.Errorf("unknown user %q: status %d code %d, want 404, a non-zero code and no data (%s)", id, a.Status, *a.Code, a.Raw)
		}
	}
}

func TestSeed(t *testing.T) {
	up := New(Options{})
	users, mobiles := up.UserIDs(), up.Mobiles()
	if len(users) != 40 || len(mobiles) != 40 || up.CallerID() != users[0] {
		t.Fatalf("default demo: %d users, %d mobiles, caller %s; want 40, 40 and the first user", len(users), len(mobiles), up.CallerID())
	}
	groups := append(up.GroupIDs(up.CallerID(), 0, ""), up.GroupIDs(up.CallerID(), 1, "")...)
	if len(groups) != 300 {
		t.Errorf("the caller sees %d groups, want all 300", len(groups))
	}
	for _, ids := range [][]string{users, groups} {
		seen := map[string]bool{}
		for _, id := range ids {
			if !nineteenDigits.MatchString(id) || seen[id] {
				t.Errorf("id %q: want distinct ids of 19 digits", id)
			}
			seen[id] = true
		}
	}
	again := New(Options{})
	if !slices.Equal(again.UserIDs(), users) || !slices.Equal(again.GroupIDs(again.CallerID(), 1, ""), up.GroupIDs(up.CallerID(), 1, "")) {
		t.Error("two demos with the same options hold different data")
	}
	small := New(Options{Users: 3, Groups: 10})
	if n := len(small.UserIDs()); n != 3 {
		t.Errorf("Options.Users 3 gave %d users", n)
	}
	if n := len(small.GroupIDs(small.CallerID(), 0, "")) + len(small.GroupIDs(small.CallerID(), 1, "")); n != 10 {
		t.Errorf("Options.Groups 10 gave %d groups", n)
	}
}

func TestIntercept(t *testing.T) {
	up, srv := newDemo(t, Options{})
	up.Intercept(func(w http.ResponseWriter, r *http.Request) bool {
		if r.Header.Get("X-Fault") != "503" {
			return false
		}
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprint(w, `{"code":9503,"msg":"injected"}`)
		return true
	})
	// No credentials: the interceptor runs before the checks. Twice: it stays installed.
	fault := http.Header{"X-Fault": {"503"}}
	for i := range 2 {
		if a := do(t, srv, http.MethodGet, groupsPath, nil, fault); a.Status != 503 || *a.Code != 9503 {
			t.Errorf("intercepted request %d: status %d code %d, want 503 code 9503 (%s)", i, a.Status, *a.Code, a.Raw)
		}
	}
	if a := do(t, srv, http.MethodGet, usersPrefix+up.CallerID(), nil, validHeaders(up)); a.Status != 200 {
		t.Errorf("passed through: status %d, want 200 (%s)", a.Status, a.Raw)
	}
	up.Intercept(nil)
	h := validHeaders(up)
	h.Set("X-Fault", "503")
	if a := do(t, srv, http.MethodGet, usersPrefix+up.CallerID(), nil, h); a.Status != 200 {
		t.Errorf("after Intercept(nil): status %d, want 200 (%s)", a.Status, a.Raw)
	}
	if n := up.Calls(); n != 4 {
		t.Errorf("Calls() = %d, want 4 including the intercepted ones", n)
	}
}

func TestCounters(t *testing.T) {
	up, srv := newDemo(t, Options{})
	withTrace := func(id string) http.Header {
		h := validHeaders(up)
		h.Set("X-Traceid", id)
		return h
	}
	userPath := usersPrefix + up.UserIDs()[2]
	for range 3 {
		do(t, srv, http.MethodGet, groupsPath, groupsQuery("5", "", 1), withTrace("trace-a"))
	}
	for range 2 {
		do(t, srv, http.MethodGet, userPath, nil, withTrace("trace-b"))
	}
	do(t, srv, http.MethodGet, "/elsewhere", nil, http.Header{}) // refused, but counted

	if n := up.Calls(); n != 6 {
		t.Errorf("Calls() = %d, want 6", n)
	}
	for path, want := range map[string]int{groupsPath: 3, userPath: 2, "/elsewhere": 1, usersPrefix + up.CallerID(): 0} {
		if n := up.Path(path); n != want {
			t.Errorf("Path(%q) = %d, want %d", path, n, want)
		}
	}
	want := map[string]int{"trace-a": 3, "trace-b": 2, "": 1}
	got := up.TraceIDs()
	if !maps.Equal(got, want) {
		t.Errorf("TraceIDs() = %v, want %v", got, want)
	}
	got["trace-a"] = 100
	if n := up.TraceIDs()["trace-a"]; n != 3 {
		t.Errorf("TraceIDs() shares its map with the upstream: trace-a became %d", n)
	}
}

func TestLatency(t *testing.T) {
	const latency = 30 * time.Millisecond
	up, srv := newDemo(t, Options{Latency: latency})
	start := time.Now()
	if a := do(t, srv, http.MethodGet, usersPrefix+up.CallerID(), nil, validHeaders(up)); a.Status != 200 {
		t.Fatalf("status %d, want 200 (%s)", a.Status, a.Raw)
	}
	if d := time.Since(start); d < latency {
		t.Errorf("answered after %v, want at least the %v latency", d, latency)
	}
}
