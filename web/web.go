// Package web serves a self-hosted GraphiQL playground. All assets are
// embedded, so the page works offline and under a same-origin-only CSP.
package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed static
var embedded embed.FS

const defaultQuery = `# The caller, and a first page of their user groups with owners.
query ViewerAndGroups {
  viewer { userId name deptName }
  userGroups(first: 5) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node { groupId name createdTime owner { userId name } } }
  }
}
`

// Options configure the playground page.
type Options struct {
	Endpoint     string            // GraphQL endpoint path, e.g. "/query"
	Headers      map[string]string // request headers prefilled in the headers editor (demo credentials in demo mode)
	DefaultQuery string            // query shown on first load; empty means a built-in example
}

// config is what graphiql.js reads from the page.
type config struct {
	Endpoint     string            `json:"endpoint"`
	Headers      map[string]string `json:"headers"`
	DefaultQuery string            `json:"defaultQuery"`
}

// Set explicitly because mime.TypeByExtension consults the host's mime.types,
// which may map .js to application/javascript or miss entries entirely.
var contentTypes = map[string]string{
	".css": "text/css; charset=utf-8",
	".js":  "text/javascript; charset=utf-8",
	".txt": "text/plain; charset=utf-8",
}

// Handler serves the page at "/" and its assets under "/static/"; anything else is 404.
func Handler(opts Options) http.Handler {
	static, err := fs.Sub(embedded, "static")
	if err != nil {
		panic(err) // the embed directive guarantees the directory exists
	}

	cfg := config{Endpoint: opts.Endpoint, Headers: opts.Headers, DefaultQuery: opts.DefaultQuery}
	if cfg.Headers == nil {
		cfg.Headers = map[string]string{} // graphiql.js expects an object, not null
	}
	if cfg.DefaultQuery == "" {
		cfg.DefaultQuery = defaultQuery
	}
	// The template passes the struct (not a JSON string) into the
	// application/json script: html/template then marshals it itself and
	// escapes <, > and & so no value can close the script element.
	tmpl := template.Must(template.ParseFS(static, "index.html"))
	var page bytes.Buffer
	if err := tmpl.Execute(&page, struct{ Config config }{cfg}); err != nil {
		panic(err)
	}
	index := page.Bytes()
	indexTag := etag(index)

	// ETags let browsers revalidate cheaply: embedded files have no mtime.
	etags := map[string]string{}
	err = fs.WalkDir(static, ".", func(p string, d fs.DirEntry, err error) error {
		// index.html is a template and must never be served raw.
		if err != nil || d.IsDir() || p == "index.html" {
			return err
		}
		b, err := fs.ReadFile(static, p)
		if err != nil {
			return err
		}
		etags["/"+p] = etag(b)
		return nil
	})
	if err != nil {
		panic(err)
	}
	files := http.StripPrefix("/static", http.FileServerFS(static))

	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")

		if r.URL.Path == "/" {
			h.Set("Content-Type", "text/html; charset=utf-8")
			h.Set("Cache-Control", "no-cache")
			h.Set("ETag", indexTag)
			http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(index))
			return
		}

		// Only known files: no directory listings, no raw template.
		name, ok := strings.CutPrefix(r.URL.Path, "/static")
		tag, known := etags[name]
		if !ok || !known {
			http.NotFound(w, r)
			return
		}
		h.Set("ETag", tag)
		if ct, ok := contentTypes[path.Ext(name)]; ok {
			h.Set("Content-Type", ct)
		}
		// Vendor files change only with a package bump; our own files may
		// change with any deploy, so they are always revalidated.
		if strings.HasPrefix(name, "/vendor/") {
			h.Set("Cache-Control", "public, max-age=86400")
		} else {
			h.Set("Cache-Control", "no-cache")
		}
		files.ServeHTTP(w, r)
	})
}

func etag(b []byte) string {
	sum := sha256.Sum256(b)
	return `"` + base64.RawURLEncoding.EncodeToString(sum[:12]) + `"`
}
