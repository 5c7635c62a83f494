package main

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/koodrive/facade/web"
)

func TestGzipped(t *testing.T) {
	big := strings.Repeat(`{"name":"a group"},`, 200)
	h := gzipped(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/big":
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, big[:len(big)/2]) // in two writes
			_, _ = io.WriteString(w, big[len(big)/2:])
		case "/small":
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"data":{}}`)
		case "/png":
			w.Header().Set("Content-Type", "image/png")
			_, _ = io.WriteString(w, big)
		case "/stored":
			w.Header().Set("Content-Type", "text/javascript")
			w.Header().Set("Content-Encoding", "gzip")
			_, _ = io.WriteString(w, "already gzipped bytes"+big)
		case "/304":
			w.WriteHeader(http.StatusNotModified)
		}
	}))
	get := func(path, acceptEncoding, method string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(method, path, nil)
		if acceptEncoding != "" {
			r.Header.Set("Accept-Encoding", acceptEncoding)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	w := get("/big", "gzip, br", http.MethodGet)
	zr, err := gzip.NewReader(w.Body)
	if err != nil || w.Header().Get("Content-Encoding") != "gzip" || !strings.Contains(w.Header().Get("Vary"), "Accept-Encoding") {
		t.Fatalf("big JSON: %v %v", w.Header(), err)
	}
	if plain, _ := io.ReadAll(zr); string(plain) != big {
		t.Fatalf("decompressed %d bytes, want the %d written", len(plain), len(big))
	}
	for name, c := range map[string]struct {
		path, ae, method, body string
	}{
		"no Accept-Encoding": {"/big", "", http.MethodGet, big},
		"gzip;q=0":           {"/big", "gzip;q=0", http.MethodGet, big},
		"small":              {"/small", "gzip", http.MethodGet, `{"data":{}}`},
		"compressed type":    {"/png", "gzip", http.MethodGet, big},
		"stored gzipped":     {"/stored", "gzip", http.MethodGet, "already gzipped bytes" + big},
		"304":                {"/304", "gzip", http.MethodGet, ""},
		"HEAD":               {"/big", "gzip", http.MethodHead, big},
	} {
		w := get(c.path, c.ae, c.method)
		enc := w.Header().Get("Content-Encoding")
		if (enc == "gzip") != (c.path == "/stored") || !bytes.Equal(w.Body.Bytes(), []byte(c.body)) {
			t.Errorf("%s: status %d, encoding %q, %d bytes", name, w.Code, enc, w.Body.Len())
		}
	}
}

// An asset web stores gzipped, served behind the compressor as server.go wires it, says
// Vary: Accept-Encoding once.
func TestStoredGzipAssetVariesOnce(t *testing.T) {
	h := gzipped(web.Handler(web.Options{Endpoint: "/query"}))
	r := httptest.NewRequest(http.MethodGet, "/static/explorer/explorer.js", nil)
	r.Header.Set("Accept-Encoding", "gzip")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != 200 || w.Header().Get("Content-Encoding") != "gzip" || len(w.Header().Values("Vary")) != 1 {
		t.Fatalf("%d, %v", w.Code, w.Header())
	}
}
