package gqlhttp

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/99designs/gqlgen/client"

	"github.com/koodrive/facade/koodrive"
	"github.com/koodrive/facade/koodrive/demo"
)

// getQuery sends a GraphQL GET as the demo caller, with header added.
func getQuery(e *testEnv, params url.Values, header map[string]string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodGet, "/query?"+params.Encode(), nil)
	r.Header.Set("Authorization", demo.Authorization)
	r.Header.Set("X-User-Id", e.Up.CallerID())
	for k, v := range header {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	e.Handler.ServeHTTP(w, r)
	return w
}

// postQuery sends a GraphQL POST as the demo caller.
func postQuery(e *testEnv, query string) *httptest.ResponseRecorder {
	body, _ := json.Marshal(map[string]string{"query": query})
	r := httptest.NewRequest(http.MethodPost, "/query", bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("Authorization", demo.Authorization)
	r.Header.Set("X-User-Id", e.Up.CallerID())
	w := httptest.NewRecorder()
	e.Handler.ServeHTTP(w, r)
	return w
}

// TestConditionalGET: 200 with an ETag, 304 with no body for the same ETag (the query
// still runs), and after a change upstream 200 with a new ETag.
func TestConditionalGET(t *testing.T) {
	e := newEnv(t, envOptions{})
	q := url.Values{"query": {`{ userGroups(first: 3) { nodes { name } } }`}}
	first := getQuery(e, q, nil)
	tag := first.Header().Get("ETag")
	if first.Code != 200 || !strings.HasPrefix(tag, `W/"`) || first.Header().Get("Cache-Control") != "private, no-cache" ||
		!strings.Contains(first.Header().Get("Vary"), "Authorization") || !strings.Contains(first.Header().Get("Vary"), "X-User-Id") || !strings.Contains(first.Header().Get("Vary"), "Accept-Language") {
		t.Fatalf("first: %d %v", first.Code, first.Header())
	}
	calls := e.Up.Calls()
	again := getQuery(e, q, map[string]string{"If-None-Match": tag})
	if again.Code != http.StatusNotModified || again.Body.Len() != 0 || again.Header().Get("ETag") != tag || e.Up.Calls() == calls {
		t.Fatalf("revalidation: %d, %d bytes, ETag %q, %d calls", again.Code, again.Body.Len(), again.Header().Get("ETag"), e.Up.Calls()-calls)
	}
	// A persisted query sent by its hash is cached the same way.
	const viewer = `query Me { viewer { name } }`
	e.MustDo(t, viewer, nil, client.Extensions(map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": queryHash(viewer)}}))
	byHash := getQuery(e, url.Values{"extensions": {hashExtension(viewer)}}, nil)
	if byHash.Code != 200 || byHash.Header().Get("ETag") == "" {
		t.Fatalf("by hash: %d %v", byHash.Code, byHash.Header())
	}
	if w := getQuery(e, url.Values{"extensions": {hashExtension(viewer)}}, map[string]string{"If-None-Match": byHash.Header().Get("ETag")}); w.Code != http.StatusNotModified {
		t.Fatalf("by hash, revalidated: %d", w.Code)
	}
	// A change upstream: the first group's page now holds other data.
	e.Up.Intercept(func(w http.ResponseWriter, r *http.Request) bool {
		if !strings.HasSuffix(r.URL.Path, "/usergroups") {
			return false
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"code":0,"msg":"OK","total":1,"userGroupList":[{"id":"1","groupName":"Renamed","ownerId":"2"}]}`))
		return true
	})
	changed := getQuery(e, q, map[string]string{"If-None-Match": tag})
	if changed.Code != 200 || changed.Header().Get("ETag") == tag || !strings.Contains(changed.Body.String(), "Renamed") {
		t.Fatalf("after a change: %d %q %s", changed.Code, changed.Header().Get("ETag"), changed.Body.String())
	}
}

// TestNothingCacheableButGETQueriesWithoutErrors: POST, an answer with errors (partial)
// and a request error carry no validator; CACHE_MAX_AGE allows max-age.
func TestNothingCacheableButGETQueriesWithoutErrors(t *testing.T) {
	e := newEnv(t, envOptions{edge: Options{CacheMaxAge: 30 * time.Second}})
	if w := getQuery(e, url.Values{"query": {`{ viewer { name } }`}}, nil); w.Header().Get("Cache-Control") != "private, max-age=30" || w.Header().Get("ETag") == "" {
		t.Fatalf("CACHE_MAX_AGE: %v", w.Header())
	}
	e.FailUsers(demo.Status(404, ""), e.Up.UserIDs()[3])
	for name, w := range map[string]*httptest.ResponseRecorder{
		"partial":       getQuery(e, url.Values{"query": {`{ viewer { name } user(userId: "` + e.Up.UserIDs()[3] + `") { name } }`}}, nil),
		"request error": getQuery(e, url.Values{"query": {`{ nope }`}}, nil),
		"mutation":      getQuery(e, url.Values{"query": {`mutation { x }`}}, nil),
	} {
		if w.Header().Get("ETag") != "" || w.Header().Get("Cache-Control") != "" {
			t.Errorf("%s: %d with %v", name, w.Code, w.Header())
		}
	}
	w := postQuery(e, `{ viewer { name } }`)
	if w.Code != 200 || w.Header().Get("ETag") != "" || w.Header().Get("Cache-Control") != "" {
		t.Fatalf("POST: %d %v", w.Code, w.Header())
	}
}

// With the user cache (USER_CACHE_TTL) a revalidated page with its owners costs KooDrive
// only the group page: the query runs, its owners come from the cache, and the 304
// still says the answer is current.
func TestConditionalGETWithUserCacheCostsOnlyTheGroupPage(t *testing.T) {
	e := newEnv(t, envOptions{koodrive: []koodrive.Option{koodrive.WithUserCache(time.Minute, 1000)}})
	q := url.Values{"query": {`{ userGroups(first: 20) { nodes { name owner { name } } } }`}}
	first := getQuery(e, q, nil)
	if first.Code != 200 || first.Header().Get("ETag") == "" {
		t.Fatalf("first: %d %v", first.Code, first.Header())
	}
	if e.Up.Calls() < 2 {
		t.Fatalf("the first answer cost %d calls: no owner was read", e.Up.Calls())
	}
	calls := e.Up.Calls()
	again := getQuery(e, q, map[string]string{"If-None-Match": first.Header().Get("ETag")})
	if again.Code != http.StatusNotModified || e.Up.Calls()-calls != 1 {
		t.Fatalf("revalidation: %d after %d calls, want 304 after 1 (the group page)", again.Code, e.Up.Calls()-calls)
	}
}
