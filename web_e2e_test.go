package main

// The browser pages and real GraphQL clients against the real server: Node scripts in
// web/e2e/ drive headless Chromium (playwright-core with the system's chromium) or
// Apollo Client, and exit non-zero on a failed check; relay-compiler checks the Relay
// operations in web/relay/. They need node, chromium and `npm ci` in web/: missing
// ones skip the tests locally and fail them in CI (CI=true).

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/koodrive/facade/graph"
	"github.com/koodrive/facade/graph/gqlhttp"
	"github.com/koodrive/facade/koodrive/demo"
)

// requireTools skips the test, or fails it in CI, when a tool it needs is missing.
func requireTools(t *testing.T, browser bool) {
	t.Helper()
	var missing []string
	if _, err := exec.LookPath("node"); err != nil {
		missing = append(missing, "node")
	}
	if _, err := os.Stat(filepath.Join("web", "node_modules", ".package-lock.json")); err != nil {
		missing = append(missing, "web/node_modules (run: cd web && npm ci)")
	}
	if browser {
		if _, err := os.Stat(chromiumPath()); err != nil {
			missing = append(missing, chromiumPath()+" (Debian package chromium)")
		}
	}
	if len(missing) == 0 {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("CI must run this test, but it lacks: %s", strings.Join(missing, ", "))
	}
	t.Skipf("lacks %s", strings.Join(missing, ", "))
}

func chromiumPath() string {
	if p := os.Getenv("CHROMIUM_PATH"); p != "" {
		return p
	}
	return "/usr/bin/chromium"
}

// runScript runs a command in web/ within timeout and fails the test with its output
// when it exits non-zero.
func runScript(t *testing.T, timeout time.Duration, name string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = "web"
	cmd.WaitDelay = 5 * time.Second // the browser's pipes close even if it outlives node
	out, err := cmd.CombinedOutput()
	t.Logf("%s %s:\n%s", name, strings.Join(args, " "), out)
	if ctx.Err() != nil {
		t.Fatalf("%s did not finish within %s", args[0], timeout)
	}
	if err != nil {
		t.Fatalf("%s: %v", args[0], err)
	}
}

// writeExpectations writes what a script checks against to a temporary JSON file.
func writeExpectations(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "expect.json")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// artifact is where a screenshot goes: $E2E_ARTIFACTS, or the ignored web/e2e/artifacts.
func artifact(t *testing.T, name string) string {
	t.Helper()
	dir := os.Getenv("E2E_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join("web", "e2e", "artifacts")
	}
	dir, err := filepath.Abs(dir)
	if err == nil {
		err = os.MkdirAll(dir, 0o755)
	}
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, name)
}

// seededDemo has the data of the demo KooDrive that `go run .` embeds: it seeds the
// same organisation from the same default options.
func seededDemo() *demo.Upstream { return demo.New(demo.Options{}) }

const (
	userGroupSource = 1 // upstream sourceType of USER_GROUP
	plainGroup      = 0 // of GROUP
)

func TestBrowserGraphiQL(t *testing.T) {
	requireTools(t, true)
	base := startServer(t, nil) // demo mode: GraphiQL opens with the demo credentials
	up := seededDemo()
	all := up.GroupIDs(up.CallerID(), userGroupSource, "")
	expect := writeExpectations(t, map[string]any{
		"groupIds":   all[:10], // the example's first: 10
		"totalCount": len(all),
		"headers":    map[string]string{"Authorization": demo.Authorization, "X-User-Id": up.CallerID()},
	})
	runScript(t, 120*time.Second, "node", "e2e/graphiql.mjs", base, expect, artifact(t, "graphiql.png"))
}

// explorerExpectations is what e2e/explorer.mjs checks on the demo's page: every group of
// the caller, a filtered list, and reloads at the end.
func explorerExpectations(t *testing.T, reloads int) string {
	t.Helper()
	up := seededDemo()
	return writeExpectations(t, map[string]any{
		"groupIds": up.GroupIDs(up.CallerID(), userGroupSource, ""),
		"filtered": map[string]any{
			"groupName":  "platform",
			"sourceType": "GROUP",
			"groupIds":   up.GroupIDs(up.CallerID(), plainGroup, "platform"),
		},
		"reloads": reloads,
	})
}

func TestBrowserExplorer(t *testing.T) {
	requireTools(t, true)
	base, logs := startServerWithLogs(t, nil) // demo mode: the page as `go run .` serves it
	expect := explorerExpectations(t, 2)
	runScript(t, 150*time.Second, "node", "e2e/explorer.mjs", base, expect, artifact(t, "explorer.png"))
	// Chromium's own HTTP cache revalidated the page's GET queries on the second reload
	// (their ETags were stored on the first): the facade answered 304, no body.
	if !strings.Contains(logs.String(), `"status":304`) {
		t.Fatalf("no GraphQL GET was revalidated with 304; the facade's log:\n%s", logs.String())
	}
}

// Under PERSISTED_QUERIES_ONLY with the manifest Apollo's tool generates for /explorer
// (web/build.sh), the page works: its APQ link sends the manifest's hashes, and the
// facade never needs, nor accepts, an operation's text. With another manifest loaded
// the page's operations are refused and the script times out waiting for its rows.
func TestBrowserExplorerPersistedOnly(t *testing.T) {
	requireTools(t, true)
	base := startServer(t, func(c *config) {
		c.PersistedQueriesOnly = true
		// /explorer's manifest with Relay's, as a deployment serving both clients loads them
		c.PersistedQueries = filepath.Join("web", "explorer", "persisted-query-manifest.json") + "," +
			filepath.Join("web", "relay", "persisted-queries.json")
	})
	expect := explorerExpectations(t, 0)
	runScript(t, 150*time.Second, "node", "e2e/explorer.mjs", base, expect, artifact(t, "explorer-persisted-only.png"))
}

// One owner's GET /users/{id} fails: each of that owner's groups shows the error on
// its row, and every other row its owner.
func TestBrowserExplorerOwnerFailure(t *testing.T) {
	requireTools(t, true)
	up := demo.New(demo.Options{})
	kd := httptest.NewServer(up)
	defer kd.Close()
	base := startServer(t, func(c *config) { c.KooDriveBaseURL = kd.URL })
	creds := map[string]string{"Authorization": demo.Authorization, "X-User-Id": up.CallerID()}

	owners := groupOwners(t, base, creds)
	ids := up.GroupIDs(up.CallerID(), userGroupSource, "")
	if len(owners) != len(ids) {
		t.Fatalf("read %d groups through GraphQL, the upstream has %d", len(owners), len(ids))
	}
	failing := owners[ids[2]] // an owner on the first page
	if failing == up.CallerID() {
		t.Fatal("the failing owner must not be the caller: the page's viewer query would fail too")
	}
	ownerErrors := map[string]string{}
	for id, owner := range owners {
		if owner == failing {
			ownerErrors[id] = graph.CodeNotFound
		}
	}
	usersPath := "/koodrive/ose/v1/users/" + failing
	up.Intercept(func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path != usersPath {
			return false
		}
		demo.Status(http.StatusNotFound, "")(w, r)
		return true
	})

	expect := writeExpectations(t, map[string]any{
		"groupIds":    ids,
		"ownerErrors": ownerErrors,
		// Outside demo mode the page sends no credentials of its own; the browser adds
		// them, as a gateway in front of a real deployment would.
		"headers": creds,
	})
	runScript(t, 150*time.Second, "node", "e2e/explorer.mjs", base, expect, artifact(t, "explorer-owner-error.png"))
	if up.Path(usersPath) == 0 {
		t.Fatal("the failing owner was never asked for")
	}
}

// groupOwners reads every user group's owner id through GraphQL, ownerId needing no
// GET /users.
func groupOwners(t *testing.T, base string, creds map[string]string) map[string]string {
	t.Helper()
	header := http.Header{}
	for k, v := range creds {
		header.Set(k, v)
	}
	owners := map[string]string{}
	after := "null"
	for range 20 {
		_, out := postQuery(t, base, fmt.Sprintf(`{ userGroups(first: 100, after: %s) { pageInfo { hasNextPage endCursor } nodes { groupId ownerId } } }`, after), header)
		if len(out.Errors) > 0 {
			t.Fatalf("reading owners: %+v", out.Errors)
		}
		page := out.Data["userGroups"].(map[string]any)
		for _, n := range page["nodes"].([]any) {
			node := n.(map[string]any)
			owners[node["groupId"].(string)] = node["ownerId"].(string)
		}
		info := page["pageInfo"].(map[string]any)
		if info["hasNextPage"] != true {
			return owners
		}
		b, _ := json.Marshal(info["endCursor"])
		after = string(b)
	}
	t.Fatal("no end after 20 pages")
	return nil
}

func TestApolloClientPaging(t *testing.T) {
	requireTools(t, false)
	base := startServer(t, nil)
	up := seededDemo()
	// 7 matches no upstream page size, so pages end in the middle of upstream pages.
	expect := writeExpectations(t, map[string]any{"groupIds": up.GroupIDs(up.CallerID(), userGroupSource, ""), "pageSize": 7})
	runScript(t, 60*time.Second, "node", "e2e/apollo-paging.mjs", base+"/query", expect)
}

// relay-compiler accepts the schema and the Relay operations, and what it compiles runs:
// its persisted-query manifest is loaded as PERSISTED_QUERIES, and its pagination query,
// sent by hash alone, pages through every group.
func TestRelayCompiler(t *testing.T) {
	requireTools(t, false)
	runScript(t, 60*time.Second, "bash", "relay/validate.sh")

	manifestPath := filepath.Join("web", "relay", "__generated__", "persisted-queries.json")
	raw, err := os.ReadFile(manifestPath)
	if err != nil {
		t.Fatal(err)
	}
	manifest, err := gqlhttp.ParseManifest(raw)
	if err != nil {
		t.Fatalf("the facade refuses Relay's manifest: %v", err)
	}
	byName := map[string]string{}
	for hash, text := range manifest {
		name, _, _ := strings.Cut(strings.TrimPrefix(text, "query "), "(")
		byName[strings.Fields(name)[0]] = hash
	}
	for _, name := range []string{"ViewerQuery", "GroupListQuery", "GroupListPaginationQuery", "OwnerRefetchQuery", "GroupRowRefetchQuery"} {
		if byName[name] == "" {
			t.Fatalf("manifest lacks %s: %v", name, byName)
		}
	}

	base := startServer(t, func(c *config) {
		c.PersistedQueriesOnly = true
		c.PersistedQueries = manifestPath
	})
	up := seededDemo()
	var ids []string
	var ownerID string
	var group struct {
		ID      string `json:"id"`
		GroupID string `json:"groupId"`
		Name    string `json:"name"`
	}
	vars := map[string]any{"count": 50, "sourceType": "USER_GROUP"}
	for page := 0; ; page++ {
		if page == 20 {
			t.Fatal("no end after 20 pages")
		}
		var res struct {
			Data struct {
				UserGroups struct {
					Edges []struct {
						Node struct {
							ID, GroupID, Name string
							Owner             struct{ ID string }
						}
					}
					PageInfo struct {
						HasNextPage bool
						EndCursor   string
					}
				}
			}
			Errors []any
		}
		getPersisted(t, base, byName["GroupListPaginationQuery"], vars, &res)
		if len(res.Errors) > 0 {
			t.Fatalf("page %d: %v", page, res.Errors)
		}
		for _, e := range res.Data.UserGroups.Edges {
			ids = append(ids, e.Node.GroupID)
			ownerID = e.Node.Owner.ID
			group.ID, group.GroupID, group.Name = e.Node.ID, e.Node.GroupID, e.Node.Name
		}
		if !res.Data.UserGroups.PageInfo.HasNextPage {
			break
		}
		vars["cursor"] = res.Data.UserGroups.PageInfo.EndCursor
	}
	if want := up.GroupIDs(up.CallerID(), userGroupSource, ""); strings.Join(ids, ",") != strings.Join(want, ",") {
		t.Fatalf("Relay's pagination query listed %d groups, the upstream %d, or in another order", len(ids), len(want))
	}

	// @refetchable on the owner: Relay's refetch goes through Query.node.
	var owner struct {
		Data struct{ Node struct{ ID, Name string } }
	}
	getPersisted(t, base, byName["OwnerRefetchQuery"], map[string]any{"id": ownerID}, &owner)
	if owner.Data.Node.ID != ownerID || owner.Data.Node.Name == "" {
		t.Fatalf("OwnerRefetchQuery: %+v", owner)
	}

	// @refetchable on the group: Relay's generated refetch query, run by a Node script as
	// a Relay app sends it, brings the last group of the list back by its id.
	expect := writeExpectations(t, map[string]any{"group": group})
	runScript(t, 60*time.Second, "node", "relay/refetch.mjs", base+"/query", expect)
}

// getPersisted sends a persisted query by its hash alone, over GET.
func getPersisted(t *testing.T, base, hash string, vars map[string]any, into any) {
	t.Helper()
	ext, _ := json.Marshal(map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": hash}})
	v, _ := json.Marshal(vars)
	q := url.Values{"extensions": {string(ext)}, "variables": {string(v)}}
	resp, err := http.Get(base + "/query?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(into); err != nil {
		t.Fatal(err)
	}
}
