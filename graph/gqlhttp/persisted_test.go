package gqlhttp

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/99designs/gqlgen/client"

	"github.com/koodrive/facade/graph"
	"github.com/koodrive/facade/graph/internal/gqltest"
	"github.com/koodrive/facade/koodrive/demo"
)

const viewerName = `query Viewer { viewer { name } }`

// get sends a GraphQL GET with the demo caller's credentials and returns the body.
func (e *testEnv) get(t *testing.T, params url.Values) (int, map[string]any) {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, "/query?"+params.Encode(), nil)
	req.Header.Set("Authorization", demo.Authorization)
	req.Header.Set("X-User-Id", e.Up.CallerID())
	w := httptest.NewRecorder()
	e.Handler.ServeHTTP(w, req)
	var out map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil {
		t.Fatalf("status %d, body %q", w.Code, w.Body.String())
	}
	return w.Code, out
}

func hashExtension(query string) string {
	return fmt.Sprintf(`{"persistedQuery":{"version":1,"sha256Hash":%q}}`, queryHash(query))
}

func firstCode(resp map[string]any) string {
	errs, _ := resp["errors"].([]any)
	if len(errs) == 0 {
		return ""
	}
	ext, _ := errs[0].(map[string]any)["extensions"].(map[string]any)
	code, _ := ext["code"].(string)
	return code
}

func TestAutomaticPersistedQueriesOverGET(t *testing.T) {
	e := newEnv(t, envOptions{})
	byHash := url.Values{"extensions": {hashExtension(viewerName)}}
	if _, resp := e.get(t, byHash); firstCode(resp) != "PERSISTED_QUERY_NOT_FOUND" {
		t.Fatalf("unknown hash: %v", resp)
	}
	// The client registers the query once, with its hash...
	e.MustDo(t, viewerName, nil, client.Extensions(map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": queryHash(viewerName)}}))
	// ...and from then on sends only the hash, over GET.
	status, resp := e.get(t, byHash)
	if status != 200 || resp["data"] == nil || resp["errors"] != nil {
		t.Fatalf("by hash: %d %v", status, resp)
	}
	// A hash that does not match its query is refused.
	wrong := url.Values{"query": {`{ viewer { userId } }`}, "extensions": {byHash.Get("extensions")}}
	if _, resp := e.get(t, wrong); firstCode(resp) != graph.CodeBadRequest {
		t.Fatalf("mismatched hash accepted: %v", resp)
	}
}

// sharedQueries is a fleet's register in memory, counting its reads.
type sharedQueries struct {
	mu      sync.Mutex
	queries map[string]string
	reads   int
}

func (s *sharedQueries) GetQuery(_ context.Context, hash string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reads++
	q, ok := s.queries[hash]
	return q, ok
}

func (s *sharedQueries) AddQuery(_ context.Context, hash, query string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.queries == nil {
		s.queries = map[string]string{}
	}
	s.queries[hash] = query
}

// TestPersistedQueriesAreSharedByTheFleet: a hash registered through one replica is
// answered by another; the second asks the register once, then answers from its own LRU.
func TestPersistedQueriesAreSharedByTheFleet(t *testing.T) {
	shared := &sharedQueries{}
	one := newEnv(t, envOptions{edge: Options{SharedQueries: shared}})
	two := newEnv(t, envOptions{edge: Options{SharedQueries: shared}})
	byHash := url.Values{"extensions": {hashExtension(viewerName)}}
	if _, resp := two.get(t, byHash); firstCode(resp) != graph.CodePersistedQueryNotFound {
		t.Fatalf("unknown hash: %v", resp)
	}
	one.MustDo(t, viewerName, nil, client.Extensions(map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": queryHash(viewerName)}}))
	reads := shared.reads
	for range 3 {
		if status, resp := two.get(t, byHash); status != 200 || resp["data"] == nil || resp["errors"] != nil {
			t.Fatalf("by hash through the other replica: %d %v", status, resp)
		}
	}
	if shared.reads != reads+1 {
		t.Fatalf("%d reads of the register for 3 requests, want 1", shared.reads-reads)
	}
}

func TestSafelist(t *testing.T) {
	listed := map[string]string{queryHash(viewerName): viewerName}
	e := newEnv(t, envOptions{edge: Options{PersistedQueries: listed}})

	status, resp := e.get(t, url.Values{"extensions": {hashExtension(viewerName)}})
	if status != 200 || resp["errors"] != nil {
		t.Fatalf("listed hash: %d %v", status, resp)
	}
	e.MustDo(t, viewerName, nil) // the listed text itself
	for _, q := range []string{`{ viewer { name mobile } }`, viewerName + " ", `{ __schema { types { name } } }`} {
		errs, raw := e.Do(t, q, nil, e.As()...)
		if len(errs) != 1 || errs[0].Code() != "PERSISTED_QUERY_NOT_IN_LIST" {
			t.Fatalf("%q: %s", q, raw)
		}
	}
	// APQ registration is off: it would let any query in.
	other := `{ viewer { userId } }`
	errs, _ := e.Do(t, other, nil, append(e.As(), client.Extensions(map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": queryHash(other)}}))...)
	if len(errs) != 1 || errs[0].Code() != "PERSISTED_QUERY_NOT_IN_LIST" {
		t.Fatalf("APQ registration in safelist mode: %+v", errs)
	}
	if calls := e.Up.Path(gqltest.UsersPath + e.Up.CallerID()); calls != 2 {
		t.Fatalf("%d upstream calls, want 2 (the two listed requests)", calls)
	}
}

func TestParseManifest(t *testing.T) {
	h := queryHash(viewerName)
	body, _ := json.Marshal(viewerName)
	apollo := fmt.Sprintf(`{"format":"apollo-persisted-query-manifest","version":1,"operations":[{"id":%q,"name":"Viewer","type":"query","body":%s}]}`, h, body)
	relay := fmt.Sprintf(`{%q: %s}`, h, body)
	for name, manifest := range map[string]string{"apollo": apollo, "relay": relay} {
		got, err := ParseManifest([]byte(manifest))
		if err != nil || len(got) != 1 || got[h] != viewerName {
			t.Fatalf("%s: %v %v", name, got, err)
		}
	}
	for name, bad := range map[string]string{
		"not JSON":   "operations:",
		"empty":      `{}`,
		"wrong hash": fmt.Sprintf(`{"%s": %s}`, strings.Repeat("0", 64), body),
	} {
		if _, err := ParseManifest([]byte(bad)); err == nil {
			t.Fatalf("%s manifest accepted", name)
		}
	}
}

// TestAuditMode: with a manifest audited, a listed operation runs quietly; one outside
// it runs too, and is logged by name and hash (never its text or variables) and counted.
func TestAuditMode(t *testing.T) {
	obs := &fakeObserver{}
	listed := map[string]string{queryHash(viewerName): viewerName}
	e := newEnv(t, envOptions{edge: Options{AuditPersisted: listed, Observer: obs}})
	e.MustDo(t, viewerName, nil)
	const outside = `query Stranger($id: ID!) { node(id: $id) { id } viewer { userId } }`
	errs, raw := e.Do(t, outside, nil, append(e.As(), client.Var("id", "c2VjcmV0LXZhcmlhYmxl"))...)
	if len(errs) != 1 || !strings.Contains(raw, `"userId"`) { // ran: node's id is refused, viewer answers
		t.Fatalf("outside the manifest: %s", raw)
	}
	logs := e.Logs.String()
	obs.mu.Lock()
	defer obs.mu.Unlock()
	if obs.outside != 1 || strings.Count(logs, "outside the persisted-query manifest") != 1 ||
		!strings.Contains(logs, `"operation":"Stranger"`) || !strings.Contains(logs, queryHash(outside)) {
		t.Fatalf("%d counted; logs:\n%s", obs.outside, logs)
	}
	if strings.Contains(logs, "node(id") || strings.Contains(logs, "c2VjcmV0LXZhcmlhYmxl") {
		t.Fatalf("the text or a variable reached the log:\n%s", logs)
	}
}

// TestShippedManifestsValidate: every persisted-query manifest the repository ships
// parses and its operations validate against the current schema; a failure names the
// operation and the error.
func TestShippedManifestsValidate(t *testing.T) {
	files := []string{"../../web/relay/persisted-queries.json", "../../docs/examples/mobile-persisted-query-manifest.json", "../../web/explorer/persisted-query-manifest.json"}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		manifest, err := ParseManifest(raw)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, problem := range ValidateManifest(manifest) {
			t.Errorf("%s: %s", f, problem)
		}
	}
	broken := map[string]string{queryHash(`query Old { viewer { nickname } }`): `query Old { viewer { nickname } }`}
	if problems := ValidateManifest(broken); len(problems) != 1 || !strings.Contains(problems[0], "Old") || !strings.Contains(problems[0], "nickname") {
		t.Fatalf("an operation that no longer validates: %v", problems)
	}
}
