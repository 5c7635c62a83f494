package demo

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"testing"
	"time"
)

// testNow is the demo's clock in the tests: a whole second, so that an X-Date of
// exactly 15 minutes ago is a boundary case and not one second off.
var testNow = time.Date(2025, 11, 3, 7, 1, 40, 0, time.UTC)

const xDateLayout = "20060102T150405Z"

func newDemo(t *testing.T, opts Options) (*Upstream, *httptest.Server) {
	t.Helper()
	if opts.Clock == nil {
		opts.Clock = func() time.Time { return testNow }
	}
	up := New(opts)
	srv := httptest.NewServer(up)
	t.Cleanup(srv.Close)
	return up, srv
}

// validHeaders are what a well-behaved client sends as the demo caller.
func validHeaders(up *Upstream) http.Header {
	return http.Header{
		"Authorization": {Authorization},
		"X-User-Id":     {up.CallerID()},
		"X-Date":        {testNow.Format(xDateLayout)},
	}
}

type groupJSON struct {
	ID, GroupName, OwnerID, CreatedTime, UpdatedTime string
}

// answer is a decoded demo response; Raw keeps the body byte for byte.
type answer struct {
	Status        int
	Raw           []byte
	Code          *int           `json:"code"`
	Msg           string         `json:"msg"`
	Total         *int           `json:"total"`
	NextCursor    *string        `json:"nextCursor"`
	UserGroupList []groupJSON    `json:"userGroupList"`
	Data          map[string]any `json:"data"`
}

func do(t *testing.T, srv *httptest.Server, method, path string, query url.Values, h http.Header) answer {
	t.Helper()
	target := srv.URL + path
	if query != nil {
		target += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(t.Context(), method, target, nil)
	if err != nil {
		t.Fatalf("NewRequest(%s): %v", target, err)
	}
	req.Header = h.Clone()
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	defer resp.Body.Close()
	a := answer{Status: resp.StatusCode}
	if a.Raw, err = io.ReadAll(resp.Body); err != nil {
		t.Fatalf("reading %s %s: %v", method, target, err)
	}
	if err := json.Unmarshal(a.Raw, &a); err != nil {
		t.Fatalf("%s %s answered %d with a body that is not the JSON envelope: %v\n%s", method, target, a.Status, err, a.Raw)
	}
	if a.Code == nil {
		t.Fatalf("%s %s answered %d without a code: %s", method, target, a.Status, a.Raw)
	}
	return a
}

func groupsQuery(size, cursor string, sourceType int) url.Values {
	return url.Values{"pageSize": {size}, "pageCursor": {cursor}, "sourceType": {strconv.Itoa(sourceType)}}
}

func TestAuthentication(t *testing.T) {
	date := func(d time.Duration) string { return testNow.Add(d).Format(xDateLayout) }
	tests := []struct {
		name       string
		header     string
		value      string // "" removes the header
		wantStatus int
		wantCode   int
	}{
		{"Bearer with a space", "Authorization", "Bearer " + Token, 200, 0},
		{"Bearer with a plus", "Authorization", "Bearer+" + Token, 200, 0},
		{"Authorization missing", "Authorization", "", 401, 1001},
		{"unknown token", "Authorization", "Bearer not-" + Token, 401, 1001},
		{"token without Bearer", "Authorization", Token, 401, 1001},
		{"Basic scheme", "Authorization", "Basic " + Token, 401, 1001},
		{"Bearer without a token", "Authorization", "Bearer ", 401, 1001},
		{"X-User-Id missing", "X-User-Id", "", 401, 1002},
		{"unknown X-User-Id", "X-User-Id", "1008600000293299999", 401, 1002},
		{"X-Date missing", "X-Date", "", 401, 1004},
		{"X-Date not in the KooDrive layout", "X-Date", testNow.Format(time.RFC3339), 401, 1004},
		{"X-Date exactly 15 minutes old", "X-Date", date(-15 * time.Minute), 200, 0},
		{"X-Date older than 15 minutes", "X-Date", date(-15*time.Minute - time.Second), 401, 1004},
		{"X-Date an hour old", "X-Date", date(-time.Hour), 401, 1004},
		{"X-Date one second in the future", "X-Date", date(time.Second), 401, 1004},
	}
	up, srv := newDemo(t, Options{})
	paths := map[string]url.Values{
		groupsPath:                  groupsQuery("10", "", 1),
		usersPrefix + up.CallerID(): nil,
	}
	for _, tt := range tests {
		for path, query := range paths {
			t.Run(tt.name+" "+path, func(t *testing.T) {
				h := validHeaders(up)
				if tt.value == "" {
					h.Del(tt.header)
				} else {
					h.Set(tt.header, tt.value)
				}
				a := do(t, srv, http.MethodGet, path, query, h)
				if a.Status != tt.wantStatus || *a.Code != tt.wantCode {
					t.Errorf("%s %q: status %d code %d, want %d code %d (%s)", tt.header, tt.value, a.Status, *a.Code, tt.wantStatus, tt.wantCode, a.Raw)
				}
			})
		}
	}
}

func TestAuthentication_clockLocationDoesNotMatter(t *testing.T) {
	up, srv := newDemo(t, Options{Clock: func() time.Time { return testNow.In(time.FixedZone("UTC-5", -5*60*60)) }})
	if a := do(t, srv, http.MethodGet, groupsPath, groupsQuery("10", "", 1), validHeaders(up)); a.Status != 200 {
		t.Errorf("status %d, want 200 for an X-Date of now on a clock in UTC-5 (%s)", a.Status, a.Raw)
	}
}

func TestAuthentication_tokensOption(t *testing.T) {
	up, srv := newDemo(t, Options{Tokens: []string{"alpha", "beta"}})
	for token, want := range map[string]int{"alpha": 200, "beta": 200, Token: 401} {
		h := validHeaders(up)
		h.Set("Authorization", "Bearer "+token)
		if a := do(t, srv, http.MethodGet, usersPrefix+up.CallerID(), nil, h); a.Status != want {
			t.Errorf("token %q: status %d, want %d (%s)", token, a.Status, want, a.Raw)
		}
	}
}

func TestRouting(t *testing.T) {
	up, srv := newDemo(t, Options{})
	if a := do(t, srv, http.MethodPost, groupsPath, groupsQuery("10", "", 1), validHeaders(up)); a.Status != 405 || *a.Code == 0 {
		t.Errorf("POST: status %d code %d, want 405 and a non-zero code", a.Status, *a.Code)
	}
	if a := do(t, srv, http.MethodGet, "/koodrive/ose/v1/nothing", nil, validHeaders(up)); a.Status != 404 || *a.Code == 0 {
		t.Errorf("unknown API: status %d code %d, want 404 and a non-zero code", a.Status, *a.Code)
	}
}
