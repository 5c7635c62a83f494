package gqlhttp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"

	"github.com/koodrive/facade/graph"
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
func httpTransports(maxTokens int, cache *httpCache) []graphql.Transport {
	return []graphql.Transport{getTransport{maxTokens: maxTokens, cache: cache}, postTransport{}, refuseTransport{}}
}

type getTransport struct {
	maxTokens int
	cache     *httpCache // answers to queries over GET may be cached; POST never
}

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
	execute(w, r, exec, params, media, t.cache)
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
	execute(w, r, exec, params, media, nil)
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
// GET (with cache) runs queries only.
func execute(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor, params *graphql.RawParams, media string, cache *httpCache) {
	queriesOnly := cache != nil
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
		if hasCode(errs, graph.CodeRateLimited) {
			status = http.StatusTooManyRequests
			resp.Extensions = writeRateLimited(w, recordFrom(ctx), resp.Extensions)
		}
		writeJSON(w, media, status, requestErrorResponse{Errors: resp.Errors, Extensions: resp.Extensions})
		return
	}
	// A persisted query over GET is known only now.
	if queriesOnly && opCtx.Operation.Operation != ast.Query {
		refuseOperationOverGET(w, r, exec, media)
		return
	}
	responses, ctx := exec.DispatchOperation(ctx, opCtx)
	writeResult(w, r, media, responses(ctx), cache)
}

func hasCode(errs gqlerror.List, code string) bool {
	for _, e := range errs {
		if e.Extensions["code"] == code {
			return true
		}
	}
	return false
}

func refuseOperationOverGET(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor, media string) {
	w.Header().Set("Allow", "POST")
	writeRequestError(w, r, exec, media, http.StatusMethodNotAllowed, "GET runs queries only; send other operations with POST")
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
