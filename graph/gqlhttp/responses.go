package gqlhttp

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/koodrive/facade/graph"
)

// What the transports answer: the media type, and the JSON of a result or of a request
// error.

// negotiate answers 406 when Accept allows no type this server writes.
func negotiate(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) (string, bool) {
	media, ok := responseMediaType(r.Header)
	if !ok {
		writeRequestError(w, r, exec, mediaJSON, http.StatusNotAcceptable, "Accept allows neither "+mediaGraphQLResponse+" nor "+mediaJSON)
	}
	return media, ok
}

// responseMediaType negotiates the response's media type from Accept (RFC 9110): each
// supported type takes the weight of the most specific range that matches it; the
// heavier wins, then the one listed first, then application/json, which is also the
// answer to no Accept at all. ok is false when Accept allows neither type.
func responseMediaType(h http.Header) (media string, ok bool) {
	accept := strings.Join(h.Values("Accept"), ",")
	if strings.TrimSpace(accept) == "" {
		return mediaJSON, true
	}
	type match struct {
		q                float64
		specificity, pos int
	}
	offers := []string{mediaJSON, mediaGraphQLResponse}
	matches := make([]match, len(offers))
	for pos, part := range strings.Split(accept, ",") {
		mediaRange, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		q := 1.0
		if s, has := params["q"]; has {
			if q, err = strconv.ParseFloat(s, 64); err != nil {
				continue
			}
		}
		for i, offer := range offers {
			specificity := 0
			switch {
			case mediaRange == offer:
				specificity = 3
			case mediaRange == "application/*":
				specificity = 2
			case mediaRange == "*/*":
				specificity = 1
			}
			if specificity > matches[i].specificity {
				matches[i] = match{q: q, specificity: specificity, pos: pos}
			}
		}
	}
	best := -1
	for i, m := range matches {
		if m.q > 0 && (best < 0 || m.q > matches[best].q || m.q == matches[best].q && m.pos < matches[best].pos) {
			best = i
		}
	}
	if best < 0 {
		return "", false
	}
	return offers[best], true
}

// writeResult writes an executed operation's response byte for byte as json.Marshal
// would, without its second pass over data: gqlgen wrote data as compact JSON already,
// and json.Marshal would scan all of it again (most of the bytes) to check and re-compact
// it. Only json.Marshal's HTML escaping is applied to it.
//
// With cache (a query over GET), an answer with data and no error is given an ETag from
// its data and the caching headers, and a request that already holds that ETag gets 304.
func writeResult(w http.ResponseWriter, r *http.Request, media string, resp *graphql.Response, cache *httpCache) {
	if len(resp.Data) == 0 || resp.Label != "" || resp.Path != nil || resp.HasNext != nil {
		writeJSON(w, media, http.StatusOK, resp) // no data, or incremental (@defer is refused)
		return
	}
	var b bytes.Buffer
	b.Grow(len(resp.Data) + 256)
	b.WriteByte('{')
	if len(resp.Errors) > 0 {
		errs, err := json.Marshal(resp.Errors)
		if err != nil {
			writeJSON(w, media, http.StatusOK, resp)
			return
		}
		b.WriteString(`"errors":`)
		b.Write(errs)
		b.WriteByte(',')
	}
	b.WriteString(`"data":`)
	dataAt := b.Len()
	json.HTMLEscape(&b, resp.Data)
	if cache != nil && len(resp.Errors) == 0 && cache.notModified(w, r, b.Bytes()[dataAt:]) {
		return
	}
	if len(resp.Extensions) > 0 {
		ext, err := json.Marshal(resp.Extensions)
		if err != nil {
			writeJSON(w, media, http.StatusOK, resp)
			return
		}
		b.WriteString(`,"extensions":`)
		b.Write(ext)
	}
	b.WriteByte('}')
	w.Header().Set("Content-Type", media+"; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b.Bytes())
}

// httpCache is how answers to queries over GET may be cached (CACHE_MAX_AGE).
type httpCache struct{ maxAge time.Duration }

// varyOn names every request header that changes an answer's body or type (the
// compressor adds Accept-Encoding).
const varyOn = "Authorization, X-User-Id, Accept, Accept-Language, language"

// notModified sets ETag (weak: the gzipped representation shares it), Cache-Control and
// Vary for an answer whose data is data, and answers 304 when the request's
// If-None-Match holds that ETag already. The query ran either way: the answer is current.
func (c *httpCache) notModified(w http.ResponseWriter, r *http.Request, data []byte) bool {
	sum := sha256.Sum256(data)
	tag := `W/"` + base64.RawURLEncoding.EncodeToString(sum[:16]) + `"`
	h := w.Header()
	h.Set("ETag", tag)
	h.Add("Vary", varyOn)
	if c.maxAge > 0 {
		h.Set("Cache-Control", "private, max-age="+strconv.Itoa(int(c.maxAge.Seconds())))
	} else {
		h.Set("Cache-Control", "private, no-cache")
	}
	if !matches(r.Header.Get("If-None-Match"), tag) {
		return false
	}
	w.WriteHeader(http.StatusNotModified)
	return true
}

// matches reads If-None-Match by weak comparison (RFC 9110 13.1.2).
func matches(ifNoneMatch, tag string) bool {
	for _, t := range strings.Split(ifNoneMatch, ",") {
		if t = strings.TrimSpace(t); t == "*" || strings.TrimPrefix(t, "W/") == strings.TrimPrefix(tag, "W/") {
			return true
		}
	}
	return false
}

// distinct drops repeated errors: gqlparser reports a problem inside a named fragment
// once per visit of the fragment, which would show a client the same error twice.
func distinct(errs gqlerror.List) gqlerror.List {
	seen := make(map[string]bool, len(errs))
	out := make(gqlerror.List, 0, len(errs))
	for _, e := range errs {
		key := fmt.Sprintf("%q %v %v", e.Message, e.Locations, e.Path)
		if !seen[key] {
			seen[key] = true
			out = append(out, e)
		}
	}
	return out
}

// requestErrorResponse is a response without a data entry, as a request error has none.
type requestErrorResponse struct {
	Errors     gqlerror.List  `json:"errors"`
	Extensions map[string]any `json:"extensions,omitempty"`
}

// writeRequestError refuses a request that is not a GraphQL request this server runs (a
// wrong method, media type, body or parameter; the status says which) with a
// CodeBadRequest error. It goes through the executor, so the error presenter records it
// like any other.
func writeRequestError(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor, media string, status int, msg string) {
	err := &gqlerror.Error{Message: msg, Extensions: map[string]any{"code": graph.CodeBadRequest}}
	ctx := graphql.WithOperationContext(r.Context(), &graphql.OperationContext{})
	resp := exec.DispatchError(ctx, gqlerror.List{err})
	writeJSON(w, media, status, requestErrorResponse{Errors: resp.Errors, Extensions: resp.Extensions})
}

func writeJSON(w http.ResponseWriter, media string, status int, body any) {
	b, err := json.Marshal(body)
	if err != nil {
		b, status = []byte(`{"errors":[{"message":"internal server error","extensions":{"code":"`+graph.CodeInternal+`"}}]}`), http.StatusInternalServerError
	}
	w.Header().Set("Content-Type", media+"; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
