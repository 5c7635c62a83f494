// Package demo is an in-process KooDrive: seeded users and groups behind the two OSE
// endpoints, with the same header checks, opaque cursors, and the partial and empty
// pages the real API warns of. It backs `go run .` without an upstream, and the tests.
package demo

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Credentials the demo accepts out of the box.
const (
	Token         = "demo-token"
	Authorization = "Bearer " + Token
)

// Options shape the demo organisation.
type Options struct {
	Users   int           // default 40, at most 200
	Groups  int           // default 300, at most 3000
	Tokens  []string      // accepted access tokens; default {Token}
	Latency time.Duration // added to every call, as a remote API would
	Clock   func() time.Time
	// ClockOffset runs the demo's clock this far ahead of Clock (negative: behind), as a
	// KooDrive host whose time differs from the facade's; its Date headers show it.
	ClockOffset time.Duration
	// XDateAhead is how far ahead of the demo's clock an X-Date may be. KooDrive's
	// pages allow none; a real deployment may be lenient.
	XDateAhead time.Duration
}

// Upstream is the demo KooDrive. Its counters and interceptor serve the tests.
type Upstream struct {
	opts    Options
	users   []user
	byID    map[string]*user
	groups  []group
	tokens  map[string]bool
	calls   atomic.Int64
	mu      sync.Mutex
	byPath  map[string]int
	byToken map[string]int
	traces  map[string]int
	parents []string // traceparent headers, the latest maxTraces
	intcept func(w http.ResponseWriter, r *http.Request) bool
}

// New seeds a demo KooDrive.
func New(opts Options) *Upstream {
	if opts.Users <= 0 {
		opts.Users = 40
	}
	if opts.Groups <= 0 {
		opts.Groups = 300
	}
	// The seeded ids keep KooDrive's 19 digits only up to these sizes.
	opts.Users, opts.Groups = min(opts.Users, 200), min(opts.Groups, 3000)
	if len(opts.Tokens) == 0 {
		opts.Tokens = []string{Token}
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	u := &Upstream{opts: opts, byID: map[string]*user{}, tokens: map[string]bool{}, byPath: map[string]int{}, byToken: map[string]int{}, traces: map[string]int{}}
	u.users, u.groups = seed(opts.Users, opts.Groups)
	for i := range u.users {
		u.byID[u.users[i].UserID] = &u.users[i]
	}
	for _, t := range opts.Tokens {
		u.tokens[t] = true
	}
	return u
}

// CallerID is the demo caller's X-User-Id: the user who joins every group.
func (u *Upstream) CallerID() string { return u.users[0].UserID }

// UserIDs lists every seeded KooDrive user id.
func (u *Upstream) UserIDs() []string {
	ids := make([]string, len(u.users))
	for i, us := range u.users {
		ids[i] = us.UserID
	}
	return ids
}

// Mobiles lists every seeded mobile number (tests grep logs for them).
func (u *Upstream) Mobiles() []string {
	m := make([]string, len(u.users))
	for i, us := range u.users {
		m[i] = us.Mobile
	}
	return m
}

// GroupIDs lists, in list order, the ids of the groups callerID sees for a filter.
func (u *Upstream) GroupIDs(callerID string, sourceType int, groupName string) []string {
	var ids []string
	for _, g := range u.visible(callerID, sourceType, groupName) {
		ids = append(ids, g.ID)
	}
	return ids
}

// Calls is the number of requests received, and Path how many were for one path.
func (u *Upstream) Calls() int64 { return u.calls.Load() }

func (u *Upstream) Path(path string) int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.byPath[path]
}

// CallsFor is the number of requests received with token, one the demo accepts.
func (u *Upstream) CallsFor(token string) int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.byToken[token]
}

// Traceparents are the W3C traceparent headers received, in order.
func (u *Upstream) Traceparents() []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]string(nil), u.parents...)
}

// TraceIDs counts the requests by X-Traceid received.
func (u *Upstream) TraceIDs() map[string]int {
	u.mu.Lock()
	defer u.mu.Unlock()
	out := make(map[string]int, len(u.traces))
	for k, v := range u.traces {
		out[k] = v
	}
	return out
}

// Intercept installs a fault injector run before the checks; returning true means it
// answered the request. nil removes it.
func (u *Upstream) Intercept(fn func(w http.ResponseWriter, r *http.Request) bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.intcept = fn
}

// maxTraces bounds the trace ids TraceIDs remembers.
const maxTraces = 10_000

const (
	usersPrefix = "/koodrive/ose/v1/users/"
	groupsPath  = "/koodrive/ose/v1/usergroups"
)

// now is the demo KooDrive's own clock.
func (u *Upstream) now() time.Time { return u.opts.Clock().Add(u.opts.ClockOffset) }

func (u *Upstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// Every answer carries the standard Date, from the demo's clock (net/http would
	// write the host's).
	w.Header().Set("Date", u.now().UTC().Format(http.TimeFormat))
	u.calls.Add(1)
	u.mu.Lock()
	u.byPath[r.URL.Path]++
	if m := bearer.FindStringSubmatch(r.Header.Get("Authorization")); m != nil && u.tokens[m[1]] {
		u.byToken[m[1]]++ // only tokens it accepts: a map that callers cannot grow
	}
	if len(u.traces) >= maxTraces { // every request brings a new one: keep it bounded
		clear(u.traces)
	}
	u.traces[r.Header.Get("X-Traceid")]++
	if tp := r.Header.Get("traceparent"); tp != "" && len(u.parents) < maxTraces {
		u.parents = append(u.parents, tp)
	}
	intercept := u.intcept
	u.mu.Unlock()
	if u.opts.Latency > 0 {
		select {
		case <-time.After(u.opts.Latency):
		case <-r.Context().Done():
			return
		}
	}
	if intercept != nil && intercept(w, r) {
		return
	}
	if r.Method != http.MethodGet {
		reply(w, http.StatusMethodNotAllowed, 1405, "method not allowed", nil)
		return
	}
	if status, code, msg := u.checkHeaders(r); status != 0 {
		reply(w, status, code, msg, nil)
		return
	}
	switch {
	case r.URL.Path == groupsPath:
		u.listGroups(w, r)
	case strings.HasPrefix(r.URL.Path, usersPrefix):
		u.getUser(w, strings.TrimPrefix(r.URL.Path, usersPrefix))
	default:
		reply(w, http.StatusNotFound, 1404, "no such API", nil)
	}
}

var bearer = regexp.MustCompile(`^Bearer[ +](\S+)$`)

// checkHeaders applies KooDrive's authentication rules to the mandatory headers.
func (u *Upstream) checkHeaders(r *http.Request) (status, code int, msg string) {
	m := bearer.FindStringSubmatch(r.Header.Get("Authorization"))
	if m == nil || !u.tokens[m[1]] {
		return http.StatusUnauthorized, 1001, "invalid access token"
	}
	if _, ok := u.byID[r.Header.Get("X-User-Id")]; !ok {
		return http.StatusUnauthorized, 1002, "invalid X-User-Id"
	}
	if r.Host == "" {
		return http.StatusBadRequest, 1003, "missing Host"
	}
	d, err := time.Parse("20060102T150405Z", r.Header.Get("X-Date"))
	now := u.now()
	if err != nil || d.After(now.Add(u.opts.XDateAhead)) || now.Sub(d) > 15*time.Minute {
		return http.StatusUnauthorized, 1004, "X-Date missing, expired or in the future"
	}
	return 0, 0, ""
}

func (u *Upstream) getUser(w http.ResponseWriter, id string) {
	us, ok := u.byID[id]
	if !ok {
		reply(w, http.StatusNotFound, 2404, "user not found", nil)
		return
	}
	reply(w, http.StatusOK, 0, "success", map[string]any{"data": us})
}

func reply(w http.ResponseWriter, status, code int, msg string, fields map[string]any) {
	body := map[string]any{"code": code, "msg": msg}
	for k, v := range fields {
		body[k] = v
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

// cursor is the demo's pagination state, opaque to callers: the list offset and the
// page number, which decides the page's shape.
type cursor struct{ offset, page int }

func (c cursor) encode() string {
	return base64.RawURLEncoding.EncodeToString([]byte(fmt.Sprintf("kd:%d:%d", c.offset, c.page)))
}

func decodeCursor(s string) (cursor, bool) {
	if s == "" {
		return cursor{}, true
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	var c cursor
	if err != nil {
		return c, false
	}
	if n, err := fmt.Sscanf(string(b), "kd:%d:%d", &c.offset, &c.page); n != 2 || err != nil || c.offset < 0 || c.page < 0 {
		return c, false
	}
	return c, true
}

// pageShape: every fifth page is empty and every third is half full, before the end,
// as the real API warns it may do.
func pageShape(page, size int) int {
	switch {
	case page%5 == 2:
		return 0
	case page%3 == 1 && size > 1:
		return size / 2
	}
	return size
}

func (u *Upstream) listGroups(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	size, err := strconv.Atoi(q.Get("pageSize"))
	if err != nil || size < 1 || size > 100 {
		reply(w, http.StatusBadRequest, 3001, "pageSize must be 1..100", nil)
		return
	}
	st, err := strconv.Atoi(q.Get("sourceType"))
	if err != nil || (st != 0 && st != 1) {
		reply(w, http.StatusBadRequest, 3002, "sourceType must be 0 or 1", nil)
		return
	}
	if _, ok := q["pageCursor"]; !ok {
		reply(w, http.StatusBadRequest, 3003, "pageCursor is mandatory", nil)
		return
	}
	cur, ok := decodeCursor(q.Get("pageCursor"))
	if !ok {
		reply(w, http.StatusBadRequest, 3004, "invalid pageCursor", nil)
		return
	}
	all := u.visible(r.Header.Get("X-User-Id"), st, q.Get("groupName"))
	start := min(cur.offset, len(all))
	end := min(start+pageShape(cur.page, size), len(all))
	page := all[start:end]
	fields := map[string]any{"total": len(all), "userGroupList": page}
	if end < len(all) {
		fields["nextCursor"] = cursor{offset: end, page: cur.page + 1}.encode()
	}
	reply(w, http.StatusOK, 0, "OK", fields)
}

// visible is the caller's groups of one source type whose name contains groupName.
func (u *Upstream) visible(callerID string, sourceType int, groupName string) []group {
	out := []group{}
	needle := strings.ToLower(groupName)
	for _, g := range u.groups {
		if g.members[callerID] && g.sourceType == sourceType && strings.Contains(strings.ToLower(g.GroupName), needle) {
			out = append(out, g)
		}
	}
	return out
}
