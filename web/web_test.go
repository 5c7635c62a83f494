package web

import (
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
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

func TestIndex(t *testing.T) {
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
	for _, want := range []string{
		"<title>KooDrive GraphQL</title>",
		`"endpoint":"/query"`,
		`"Authorization":"Bearer demo-token"`,
		`"X-User-Id":"1008600000000000001"`,
		"query ViewerAndGroups",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %s", want)
		}
	}
}

func TestIndexWithoutHeaders(t *testing.T) {
	_, body := get(t, Handler(Options{Endpoint: "/query", DefaultQuery: "{ viewer { userId } }"}), http.MethodGet, "/")
	if !strings.Contains(body, `"headers":{}`) {
		t.Errorf("headers should be an empty object:\n%s", body)
	}
	if !strings.Contains(body, `"defaultQuery":"{ viewer { userId } }"`) {
		t.Errorf("custom default query missing:\n%s", body)
	}
}

var assetRe = regexp.MustCompile(`<(?:script|link)\b[^>]*\b(?:src|href)="([^"]*)"`)

func TestAssetsSameOriginAndServed(t *testing.T) {
	h := Handler(demo)
	_, body := get(t, h, http.MethodGet, "/")
	refs := assetRe.FindAllStringSubmatch(body, -1)
	if len(refs) < 4 {
		t.Fatalf("found only %d asset references", len(refs))
	}
	for _, m := range refs {
		ref := m[1]
		if !strings.HasPrefix(ref, "/") || strings.HasPrefix(ref, "//") {
			t.Errorf("asset %q is not a same-origin path", ref)
			continue
		}
		res, b := get(t, h, http.MethodGet, ref)
		if res.StatusCode != http.StatusOK || len(b) == 0 {
			t.Errorf("%s: status %d, %d bytes", ref, res.StatusCode, len(b))
		}
		want := "text/javascript"
		if strings.HasSuffix(ref, ".css") {
			want = "text/css"
		}
		if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, want) {
			t.Errorf("%s: Content-Type %q, want %s", ref, ct, want)
		}
		if res.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: missing nosniff", ref)
		}
	}
}

// The vendored libraries mention URLs in strings and comments; only our own
// files must not reference remote resources.
func TestNoRemoteURLsInOwnFiles(t *testing.T) {
	for _, name := range []string{"static/index.html", "static/graphiql.js", "static/page.css"} {
		b, err := fs.ReadFile(embedded, name)
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
	for _, p := range []string{"/nope", "/static/", "/static/vendor/", "/static/index.html", "/static/missing.js", "/index.html", "/staticx/graphiql.js"} {
		if res, _ := get(t, h, http.MethodGet, p); res.StatusCode != http.StatusNotFound {
			t.Errorf("%s: status %d, want 404", p, res.StatusCode)
		}
	}
}

func TestMethodNotAllowed(t *testing.T) {
	h := Handler(demo)
	for _, p := range []string{"/", "/static/graphiql.js"} {
		res, _ := get(t, h, http.MethodPost, p)
		if res.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("POST %s: status %d, want 405", p, res.StatusCode)
		}
		if res.Header.Get("Allow") != "GET, HEAD" {
			t.Errorf("POST %s: Allow %q", p, res.Header.Get("Allow"))
		}
	}
	if res, _ := get(t, h, http.MethodHead, "/"); res.StatusCode != http.StatusOK {
		t.Errorf("HEAD /: status %d", res.StatusCode)
	}
}

func TestHeaderValueEscaped(t *testing.T) {
	evil := "</script><script>alert(1)</script>"
	_, body := get(t, Handler(Options{Endpoint: "/query", Headers: map[string]string{"X-Evil": evil}}), http.MethodGet, "/")
	if strings.Contains(body, evil) || strings.Contains(body, "<script>alert") {
		t.Fatalf("header value not escaped:\n%s", body)
	}
	if !strings.Contains(body, `\u003c/script\u003e\u003cscript\u003ealert(1)`) {
		t.Errorf("escaped value missing:\n%s", body)
	}
}

func TestCaching(t *testing.T) {
	h := Handler(demo)
	res, _ := get(t, h, http.MethodGet, "/static/vendor/react.production.min.js")
	if cc := res.Header.Get("Cache-Control"); !strings.Contains(cc, "max-age=") {
		t.Errorf("vendor Cache-Control %q", cc)
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
