package main

import (
	"bufio"
	"compress/gzip"
	"mime"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/koodrive/facade/web"
)

// gzipped compresses answers for clients that accept gzip: GraphQL's JSON, and pages,
// scripts and styles. It is the standard library's gzip (linked anyway) at its fastest
// level: klauspost/compress's handler cost the binary 0.6 MB, and the image has a size
// target. What is stored gzipped already (web's assets), answers without a body, small
// answers and types that are compressed in themselves pass through as they are.
func gzipped(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Vary", "Accept-Encoding")
		if r.Method == http.MethodHead || !web.AcceptsGzip(r.Header) {
			next.ServeHTTP(w, r)
			return
		}
		gw := &gzipWriter{ResponseWriter: w}
		defer gw.close()
		next.ServeHTTP(gw, r)
	})
}

// gzipMinSize: below this a gzip stream is not worth its header and CPU.
const gzipMinSize = 1024

var gzipPool = sync.Pool{New: func() any {
	zw, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed) // errors only for a bad level
	return zw
}}

// gzipWriter holds the first bytes of an answer until it can tell whether compressing
// is worth it: a compressible type, no encoding yet, and enough bytes.
type gzipWriter struct {
	http.ResponseWriter
	status  int
	decided bool
	buf     []byte
	zw      *gzip.Writer
}

func (g *gzipWriter) WriteHeader(status int) {
	if g.status == 0 {
		g.status = status
	}
	if status < 200 || status == http.StatusNoContent || status == http.StatusNotModified || !compressible(g.Header()) {
		g.decide(false) // no body, or not ours to compress
	}
}

func (g *gzipWriter) Write(p []byte) (int, error) {
	if g.status == 0 {
		g.status = http.StatusOK
	}
	if g.decided {
		if g.zw != nil {
			return g.zw.Write(p)
		}
		return g.ResponseWriter.Write(p)
	}
	g.buf = append(g.buf, p...)
	if len(g.buf) >= gzipMinSize {
		g.decide(compressible(g.Header()))
	}
	return len(p), nil
}

// decide writes the header, compressed or not, and what was held back.
func (g *gzipWriter) decide(compress bool) {
	if g.decided {
		return
	}
	g.decided = true
	if g.status == 0 {
		g.status = http.StatusOK
	}
	if compress {
		h := g.Header()
		h.Set("Content-Encoding", "gzip")
		h.Del("Content-Length")
		g.zw = gzipPool.Get().(*gzip.Writer)
		g.zw.Reset(g.ResponseWriter)
	} else if g.buf != nil && g.Header().Get("Content-Length") == "" {
		g.Header().Set("Content-Length", strconv.Itoa(len(g.buf)))
	}
	g.ResponseWriter.WriteHeader(g.status)
	if len(g.buf) > 0 {
		if g.zw != nil {
			_, _ = g.zw.Write(g.buf)
		} else {
			_, _ = g.ResponseWriter.Write(g.buf)
		}
	}
	g.buf = nil
}

// close ends the answer: a small one goes out as it is.
func (g *gzipWriter) close() {
	if !g.decided {
		if g.status == 0 && g.buf == nil {
			return // the handler wrote nothing: net/http answers 200 with no body
		}
		g.decide(false)
	}
	if g.zw != nil {
		_ = g.zw.Close()
		gzipPool.Put(g.zw)
		g.zw = nil
	}
}

// Flush sends what is held: a streaming answer is not held back.
func (g *gzipWriter) Flush() {
	if !g.decided {
		g.decide(compressible(g.Header()) && len(g.buf) >= gzipMinSize)
	}
	if g.zw != nil {
		_ = g.zw.Flush()
	}
	if f, ok := g.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (g *gzipWriter) Unwrap() http.ResponseWriter { return g.ResponseWriter }

// Hijack is for completeness (nothing here upgrades connections).
func (g *gzipWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(g.ResponseWriter).Hijack()
}

// compressible: no encoding set yet, and a textual type.
func compressible(h http.Header) bool {
	if h.Get("Content-Encoding") != "" {
		return false
	}
	media, _, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil {
		return false
	}
	return strings.HasPrefix(media, "text/") || media == "application/json" || media == "application/graphql-response+json" ||
		media == "application/javascript" || media == "image/svg+xml" || strings.HasPrefix(media, "application/openmetrics-text")
}
