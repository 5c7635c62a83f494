package web

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"regexp"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
)

var demo = Options{
	Endpoint: "/query",
	Headers:  map[string]string{"Authorization": "Bearer demo-token", "X-User-Id": "1008600000000000001"},
}

func get(t *testing.T, h http.Handler, method, target string) (*http.Response, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, target, nil))
	res := rec.Result()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, string(b)
}

var configRe = regexp.MustCompile(`<script id="(?:graphiql|explorer)-config" type="application/json">([^<]*)</script>`)

// pageConfig is the JSON config a page carries for its script.
func pageConfig(t *testing.T, body string) map[string]any {
	t.Helper()
	m := configRe.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no config script:\n%s", body)
	}
	var cfg map[string]any
	if err := json.Unmarshal([]byte(m[1]), &cfg); err != nil {
		t.Fatalf("config is not JSON: %v\n%s", err, m[1])
	}
	return cfg
}

func TestGraphiQLPage(t *testing.T) {
	res, body := get(t, Handler(demo), http.MethodGet, "/")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d", res.StatusCode)
	}
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("Content-Type %q", ct)
	}
	if res.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Error("missing nosniff")
	}
	if !strings.Contains(body, "<title>KooDrive GraphQL</title>") {
		t.Error("no title")
	}
	cfg := pageConfig(t, body)
	if cfg["endpoint"] != "/query" {
		t.Errorf("endpoint %v", cfg["endpoint"])
	}
	headers := cfg["headers"].(map[string]any)
	if headers["Authorization"] != "Bearer demo-token" || headers["X-User-Id"] != "1008600000000000001" {
		t.Errorf("headers %v", headers)
	}
	var names []string
	for _, tab := range cfg["tabs"].([]any) {
		q := tab.(map[string]any)["query"].(string)
		names = append(names, regexp.MustCompile(`query (\w+)`).FindStringSubmatch(q)[1])
	}
	if got := strings.Join(names, ","); got != "Viewer,GroupsWithOwners,NextPage,FilteredGroups" {
		t.Errorf("example tabs %s", got)
	}
}

func TestExplorerPage(t *testing.T) {
	res, body := get(t, Handler(demo), http.MethodGet, "/explorer")
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("status %d, Content-Type %q", res.StatusCode, res.Header.Get("Content-Type"))
	}
	cfg := pageConfig(t, body)
	if cfg["endpoint"] != "/query" || cfg["headers"].(map[string]any)["X-User-Id"] != "1008600000000000001" {
		t.Errorf("config %v", cfg)
	}
	for _, want := range []string{`src="/static/explorer/explorer.js"`, `href="/static/explorer/explorer.css"`} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %s", want)
		}
	}
}

func TestPagesWithoutHeaders(t *testing.T) {
	h := Handler(Options{Endpoint: "/query", DefaultQuery: "{ viewer { userId } }"})
	for _, p := range []string{"/", "/explorer"} {
		_, body := get(t, h, http.MethodGet, p)
		if h := pageConfig(t, body)["headers"]; h == nil || len(h.(map[string]any)) != 0 {
			t.Errorf("%s: headers should be an empty object, are %v", p, h)
		}
	}
	_, body := get(t, h, http.MethodGet, "/")
	tabs := pageConfig(t, body)["tabs"].([]any)
	if len(tabs) != 1 || tabs[0].(map[string]any)["query"] != "{ viewer { userId } }" {
		t.Errorf("a default query should be the only tab: %v", tabs)
	}
}

// The examples must run: each parses and validates against the schema, and its
// variables are a JSON object.
func TestExampleTabsValidate(t *testing.T) {
	sdl, err := os.ReadFile("../schema.graphqls")
	if err != nil {
		t.Fatal(err)
	}
	schema, gerr := gqlparser.LoadSchema(&ast.Source{Name: "schema.graphqls", Input: string(sdl)})
	if gerr != nil {
		t.Fatal(gerr)
	}
	for _, tab := range ExampleTabs {
		if _, errs := gqlparser.LoadQuery(schema, tab.Query); errs != nil {
			t.Errorf("%v\n%s", errs, tab.Query)
		}
		if tab.Variables != "" {
			var vars map[string]any
			if err := json.Unmarshal([]byte(tab.Variables), &vars); err != nil {
				t.Errorf("variables %q: %v", tab.Variables, err)
			}
		}
	}
}

var nonceRe = regexp.MustCompile(`'nonce-([A-Za-z0-9+/_-]+=*)'`)

// Every response allows its own origin only: no inline script or style, no eval, no
// other host, no data: URL. The GraphiQL page allows its own <style> elements by a
// nonce that changes with every response.
func TestContentSecurityPolicy(t *testing.T) {
	h := Handler(demo)
	for _, p := range []string{"/", "/explorer", "/static/graphiql.js", "/static/vendor/graphiql.min.css", "/nope"} {
		res, _ := get(t, h, http.MethodGet, p)
		csp := res.Header.Get("Content-Security-Policy")
		if !strings.HasPrefix(csp, ContentSecurityPolicy) {
			t.Errorf("%s: CSP %q", p, csp)
		}
		for _, bad := range []string{"unsafe-inline", "unsafe-eval", "data:", "http:", "https:", "*", "script-src"} {
			if strings.Contains(csp, bad) {
				t.Errorf("%s: CSP allows %s: %q", p, bad, csp)
			}
		}
		if p != "/" && csp != ContentSecurityPolicy {
			t.Errorf("%s: CSP %q, want the base policy", p, csp)
		}
	}

	nonces := map[string]bool{}
	for range 2 {
		res, body := get(t, h, http.MethodGet, "/")
		csp := res.Header.Get("Content-Security-Policy")
		m := nonceRe.FindStringSubmatch(csp)
		if m == nil || !strings.HasSuffix(csp, "; style-src 'self' 'nonce-"+m[1]+"'") {
			t.Fatalf("GraphiQL CSP %q: want style-src 'self' and a nonce", csp)
		}
		if !strings.Contains(body, `<script nonce="`+m[1]+`" src="/static/vendor/graphiql.min.js">`) {
			t.Errorf("the GraphiQL bundle does not carry the CSP's nonce %s", m[1])
		}
		if len(m[1]) < 22 {
			t.Errorf("nonce %q is short", m[1])
		}
		if cc := res.Header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("a page with a nonce is cached: Cache-Control %q", cc)
		}
		nonces[m[1]] = true
	}
	if len(nonces) != 2 {
		t.Error("the nonce repeats across responses")
	}
}

// The vendored GraphiQL takes its nonce from the script element that loads it
// (tools/build.mjs patches webpack's nonce hook); without the patch its dialogs break
// the CSP.
func TestVendoredGraphiQLReadsNonce(t *testing.T) {
	static, _ := fs.Sub(embedded, "static")
	files, err := loadAssets(static)
	if err != nil || files["/vendor/graphiql.min.js"] == nil {
		t.Fatalf("no graphiql.min.js (%v)", err)
	}
	if !strings.Contains(string(files["/vendor/graphiql.min.js"].body), "__webpack_require__.nc = (document.currentScript && document.currentScript.nonce) || undefined;") {
		t.Error("graphiql.min.js is not patched; rebuild with web/build.sh")
	}
}

var assetRe = regexp.MustCompile(`<(?:script|link)\b[^>]*\b(?:src|href)="([^"]*)"`)

func TestAssetsSameOriginAndServed(t *testing.T) {
	h := Handler(demo)
	for _, page := range []string{"/", "/explorer"} {
		_, body := get(t, h, http.MethodGet, page)
		refs := assetRe.FindAllStringSubmatch(body, -1)
		if len(refs) < 3 {
			t.Fatalf("%s: found only %d asset references", page, len(refs))
		}
		for _, m := range refs {
			ref := m[1]
			if !strings.HasPrefix(ref, "/") || strings.HasPrefix(ref, "//") {
				t.Errorf("%s: asset %q is not a same-origin path", page, ref)
				continue
			}
			res, b := get(t, h, http.MethodGet, ref)
			if res.StatusCode != http.StatusOK || len(b) == 0 {
				t.Errorf("%s: status %d, %d bytes", ref, res.StatusCode, len(b))
			}
			if ct := res.Header.Get("Content-Type"); ct != contentTypes[path.Ext(ref)] {
				t.Errorf("%s: Content-Type %q", ref, ct)
			}
			if res.Header.Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("%s: missing nosniff", ref)
			}
		}
	}
}

var cssURLRe = regexp.MustCompile(`url\(\s*["']?([^"')]+)`)

// A same-origin CSP refuses data: URLs, so the stylesheets reference files, all served.
func TestStylesheetURLsServed(t *testing.T) {
	h := Handler(demo)
	static, _ := fs.Sub(embedded, "static")
	files, err := loadAssets(static) // gzipped ones decompressed
	if err != nil {
		t.Fatal(err)
	}
	count := 0
	for name, f := range files {
		if path.Ext(name) != ".css" {
			continue
		}
		for _, m := range cssURLRe.FindAllStringSubmatch(string(f.body), -1) {
			ref := path.Join("/static", path.Dir(name), m[1])
			if res, _ := get(t, h, http.MethodGet, ref); res.StatusCode != http.StatusOK {
				t.Errorf("%s references %s: status %d", name, m[1], res.StatusCode)
			}
			count++
		}
		if strings.Contains(string(f.body), "data:") {
			t.Errorf("%s holds a data: URL", name)
		}
	}
	if count == 0 {
		t.Error("no url() found: GraphiQL's fonts should be files")
	}
}

// The vendored and bundled libraries mention URLs in strings and comments; only our
// own files must not reference remote resources.
func TestNoRemoteURLsInOwnFiles(t *testing.T) {
	own := []string{"pages/graphiql.html", "pages/explorer.html", "static/graphiql.js", "static/page.css"}
	sources, err := fs.Glob(os.DirFS("."), "explorer/*")
	if err != nil || len(sources) == 0 {
		t.Fatalf("explorer sources: %v %v", sources, err)
	}
	for _, name := range append(own, sources...) {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, scheme := range []string{"http://", "https://"} {
			if strings.Contains(string(b), scheme) {
				t.Errorf("%s contains %q", name, scheme)
			}
		}
	}
}

func TestNotFound(t *testing.T) {
	h := Handler(demo)
	for _, p := range []string{"/nope", "/explorer/", "/static/", "/static/vendor/", "/static/explorer/", "/static/index.html",
		"/static/missing.js", "/index.html", "/pages/graphiql.html", "/static/../pages/graphiql.html", "/staticx/graphiql.js"} {
		if res, _ := get(t, h, http.MethodGet, p); res.StatusCode != http.StatusNotFound {
			t.Errorf("%s: status %d, want 404", p, res.StatusCode)
		}
	}
}

func TestMethodNotAllowed(t *testing.T) {
	h := Handler(demo)
	for _, p := range []string{"/", "/explorer", "/static/graphiql.js"} {
		res, _ := get(t, h, http.MethodPost, p)
		if res.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("POST %s: status %d, want 405", p, res.StatusCode)
		}
		if res.Header.Get("Allow") != "GET, HEAD" {
			t.Errorf("POST %s: Allow %q", p, res.Header.Get("Allow"))
		}
	}
	for _, p := range []string{"/", "/explorer"} {
		if res, _ := get(t, h, http.MethodHead, p); res.StatusCode != http.StatusOK {
			t.Errorf("HEAD %s: status %d", p, res.StatusCode)
		}
	}
}

func TestHeaderValueEscaped(t *testing.T) {
	evil := "</script><script>alert(1)</script>"
	h := Handler(Options{Endpoint: "/query", Headers: map[string]string{"X-Evil": evil}})
	for _, p := range []string{"/", "/explorer"} {
		_, body := get(t, h, http.MethodGet, p)
		if strings.Contains(body, evil) || strings.Contains(body, "<script>alert") {
			t.Fatalf("%s: header value not escaped:\n%s", p, body)
		}
		if !strings.Contains(body, `\u003c/script\u003e\u003cscript\u003ealert(1)`) {
			t.Errorf("%s: escaped value missing:\n%s", p, body)
		}
	}
}

func TestCaching(t *testing.T) {
	h := Handler(demo)
	res, _ := get(t, h, http.MethodGet, "/static/vendor/react.production.min.js")
	if cc := res.Header.Get("Cache-Control"); !strings.Contains(cc, "max-age=") {
		t.Errorf("vendor Cache-Control %q", cc)
	}
	if res, _ := get(t, h, http.MethodGet, "/static/explorer/explorer.js"); res.Header.Get("Cache-Control") != "no-cache" {
		t.Errorf("explorer bundle Cache-Control %q: it changes with any deploy", res.Header.Get("Cache-Control"))
	}
	tag := res.Header.Get("ETag")
	if tag == "" {
		t.Fatal("no ETag")
	}
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/static/vendor/react.production.min.js", nil)
	req.Header.Set("If-None-Match", tag)
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusNotModified {
		t.Errorf("conditional GET: status %d, want 304", rec.Code)
	}
}

// TestGzippedAssetsServedBothWays: a file stored gzipped goes as stored to a browser
// that accepts gzip, decompressed to one that does not, each with its own ETag, and
// revalidates with 304.
func TestGzippedAssetsServedBothWays(t *testing.T) {
	h := Handler(Options{Endpoint: "/query"})
	get := func(acceptEncoding, ifNoneMatch string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, "/static/vendor/graphiql.min.js", nil)
		if acceptEncoding != "" {
			req.Header.Set("Accept-Encoding", acceptEncoding)
		}
		if ifNoneMatch != "" {
			req.Header.Set("If-None-Match", ifNoneMatch)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		return w
	}
	zipped := get("gzip, deflate, br", "")
	zr, err := gzip.NewReader(zipped.Body)
	if err != nil || zipped.Code != 200 || zipped.Header().Get("Content-Encoding") != "gzip" {
		t.Fatalf("gzip: %d %v %v", zipped.Code, zipped.Header(), err)
	}
	unzipped, _ := io.ReadAll(zr)
	for _, ae := range []string{"", "identity", "gzip;q=0", "br"} {
		plain := get(ae, "")
		if plain.Code != 200 || plain.Header().Get("Content-Encoding") != "" || !bytes.Equal(plain.Body.Bytes(), unzipped) || plain.Header().Get("Content-Type") != "text/javascript; charset=utf-8" {
			t.Fatalf("Accept-Encoding %q: %d %v, %d bytes (want the %d decompressed)", ae, plain.Code, plain.Header(), plain.Body.Len(), len(unzipped))
		}
		if plain.Header().Get("ETag") == zipped.Header().Get("ETag") || !strings.Contains(plain.Header().Get("Vary"), "Accept-Encoding") {
			t.Fatalf("the two representations share an ETag, or Vary is missing: %v", plain.Header())
		}
	}
	if !bytes.Contains(unzipped, []byte("GraphiQL")) {
		t.Fatal("the decompressed body is not GraphiQL")
	}
	if again := get("gzip", zipped.Header().Get("ETag")); again.Code != http.StatusNotModified {
		t.Fatalf("revalidation: %d", again.Code)
	}
}
