package graph

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"
)

// The GraphQL-over-HTTP transports (https://graphql.github.io/graphql-over-http/draft/).
// They replace gqlgen's GET and POST, which under application/json answer request
// errors (parse, validation, variable coercion) with 422 instead of 200; send
// "data": null with a request error, where the spec wants no data entry; refuse other
// methods and media types with a bare 400 instead of 405 and 415; refuse a mutation over
// GET with 406 instead of 405, and only once it passed validation; and put the request
// body into the error of a JSON decoding failure.

const (
	mediaJSON            = "application/json"
	mediaGraphQLResponse = "application/graphql-response+json"
)

// httpTransports answers GET (queries only) and POST with a JSON body, and refuses
// everything else. maxTokens bounds the parse GET makes to find the operation's type,
// as the executor bounds its own.
func httpTransports(maxTokens int) []graphql.Transport {
	return []graphql.Transport{getTransport{maxTokens: maxTokens}, postTransport{}, refuseTransport{}}
}

type getTransport struct{ maxTokens int }

func (getTransport) Supports(r *http.Request) bool { return r.Method == http.MethodGet }

func (t getTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	media, ok := negotiate(w, r, exec)
	if !ok {
		return
	}
	start := graphql.Now()
	values, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		writeRequestError(w, r, exec, media, http.StatusBadRequest, "the URL query string is malformed")
		return
	}
	params := &graphql.RawParams{Query: values.Get("query"), OperationName: values.Get("operationName")}
	for _, p := range []struct {
		name string
		into *map[string]any
	}{{"variables", &params.Variables}, {"extensions", &params.Extensions}} {
		if s := values.Get(p.name); s != "" {
			if decodeJSON([]byte(s), p.into) != "" {
				writeRequestError(w, r, exec, media, http.StatusBadRequest, fmt.Sprintf("the %s parameter must be a JSON object", p.name))
				return
			}
		}
	}
	params.ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}
	// A mutation is refused before validation, so also on a schema without mutations; a
	// query text that does not parse is left to the executor to report. Only a text that
	// could hold another operation type is parsed here: queries go to the executor's
	// cache without a second parse.
	if mayHoldNonQuery(params.Query) {
		if doc, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: params.Query}, t.maxTokens); err == nil {
			if op := doc.Operations.ForName(params.OperationName); op != nil && op.Operation != ast.Query {
				refuseOperationOverGET(w, r, exec, media)
				return
			}
		}
	}
	execute(w, r, exec, params, media, true)
}

// mayHoldNonQuery: an operation other than a query starts with its keyword.
func mayHoldNonQuery(query string) bool {
	return strings.Contains(query, string(ast.Mutation)) || strings.Contains(query, string(ast.Subscription))
}

type postTransport struct{}

func (postTransport) Supports(r *http.Request) bool {
	if r.Method != http.MethodPost {
		return false
	}
	mediaType, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	charset, hasCharset := params["charset"]
	return err == nil && mediaType == mediaJSON && (!hasCharset || strings.EqualFold(charset, "utf-8"))
}

func (postTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	media, ok := negotiate(w, r, exec)
	if !ok {
		return
	}
	start := graphql.Now()
	body, err := io.ReadAll(r.Body)
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		writeRequestError(w, r, exec, media, http.StatusRequestEntityTooLarge, "the request body is too large")
		return
	case err != nil:
		writeRequestError(w, r, exec, media, http.StatusBadRequest, "the request body could not be read")
		return
	}
	params := &graphql.RawParams{}
	if msg := decodeJSON(body, params); msg != "" {
		writeRequestError(w, r, exec, media, http.StatusBadRequest, "the request body is not a GraphQL request: "+msg)
		return
	}
	params.ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}
	execute(w, r, exec, params, media, false)
}

// refuseTransport comes last: any request the others do not support is refused with
// the status that says why.
type refuseTransport struct{}

func (refuseTransport) Supports(*http.Request) bool { return true }

func (refuseTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		writeRequestError(w, r, exec, mediaJSON, http.StatusMethodNotAllowed, "only GET and POST are supported")
		return
	}
	writeRequestError(w, r, exec, mediaJSON, http.StatusUnsupportedMediaType, "a POST body must be "+mediaJSON+" (UTF-8)")
}

// execute runs the parameters; a request error (parse, validation, variable coercion, a
// refused persisted query, a limit) stops before execution: its response has no data
// entry, and its status is 200 under application/json and 400 under
// application/graphql-response+json.
func execute(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor, params *graphql.RawParams, media string, queriesOnly bool) {
	if params.Query == "" && params.Extensions["persistedQuery"] == nil {
		writeRequestError(w, r, exec, media, http.StatusBadRequest, "the query parameter is missing")
		return
	}
	params.Headers = r.Header
	ctx := r.Context()
	opCtx, errs := exec.CreateOperationContext(ctx, params)
	if errs != nil {
		errs = distinct(errs)
		status := http.StatusOK
		if media == mediaGraphQLResponse {
			status = http.StatusBadRequest
		}
		resp := exec.DispatchError(graphql.WithOperationContext(ctx, opCtx), errs)
		writeJSON(w, media, status, requestErrorResponse{Errors: resp.Errors, Extensions: resp.Extensions})
		return
	}
	// A persisted query over GET is known only now.
	if queriesOnly && opCtx.Operation.Operation != ast.Query {
		refuseOperationOverGET(w, r, exec, media)
		return
	}
	responses, ctx := exec.DispatchOperation(ctx, opCtx)
	writeResult(w, media, responses(ctx))
}

// writeResult writes an executed operation's response byte for byte as json.Marshal
// would, without its second pass over data: gqlgen wrote data as compact JSON already,
// and json.Marshal would scan all of it again (most of the bytes) to check and re-compact
// it. Only json.Marshal's HTML escaping is applied to it.
func writeResult(w http.ResponseWriter, media string, resp *graphql.Response) {
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
	json.HTMLEscape(&b, resp.Data)
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

func refuseOperationOverGET(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor, media string) {
	w.Header().Set("Allow", "POST")
	writeRequestError(w, r, exec, media, http.StatusMethodNotAllowed, "GET runs queries only; send other operations with POST")
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
	err := &gqlerror.Error{Message: msg, Extensions: map[string]any{"code": CodeBadRequest}}
	ctx := graphql.WithOperationContext(r.Context(), &graphql.OperationContext{})
	resp := exec.DispatchError(ctx, gqlerror.List{err})
	writeJSON(w, media, status, requestErrorResponse{Errors: resp.Errors, Extensions: resp.Extensions})
}

func writeJSON(w http.ResponseWriter, media string, status int, body any) {
	b, err := json.Marshal(body)
	if err != nil {
		b, status = []byte(`{"errors":[{"message":"internal server error","extensions":{"code":"`+CodeInternal+`"}}]}`), http.StatusInternalServerError
	}
	w.Header().Set("Content-Type", media+"; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// decodeJSON reads exactly one JSON value into v, keeping numbers exact as gqlgen does.
// It returns what is wrong for the client, without echoing any of the input.
func decodeJSON(data []byte, v any) string {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	err := dec.Decode(v)
	if err == nil {
		if _, err := dec.Token(); !errors.Is(err, io.EOF) {
			return "unexpected data after the JSON value"
		}
		return ""
	}
	var syntax *json.SyntaxError
	var wrongType *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.EOF):
		return "the body is empty"
	case errors.As(err, &syntax), errors.Is(err, io.ErrUnexpectedEOF):
		return "the body is not valid JSON"
	case errors.As(err, &wrongType) && isRequestParameter(wrongType.Field):
		want := "a string"
		if wrongType.Field == "variables" || wrongType.Field == "extensions" {
			want = "an object"
		}
		return fmt.Sprintf("%s must be %s, not a JSON %s", wrongType.Field, want, wrongType.Value)
	default:
		return "the body is not a JSON object"
	}
}

func isRequestParameter(name string) bool {
	switch name {
	case "query", "operationName", "variables", "extensions":
		return true
	}
	return false
}

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
