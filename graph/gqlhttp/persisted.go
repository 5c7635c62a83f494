package gqlhttp

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"regexp"
	"slices"
	"time"

	"github.com/99designs/gqlgen/graphql"
	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"

	"github.com/koodrive/facade/graph"
	"github.com/koodrive/facade/koodrive"
)

// ParseManifest reads a persisted-query manifest in the formats Apollo and Relay tools
// emit: Apollo's {"format":"apollo-persisted-query-manifest","operations":[{"id","body"}]}
// or Relay's {"<id>": "<query text>"}. It returns the operations by their sha256 hash;
// a listed id that is not the sha256 of its body is an error, as clients send the hash.
func ParseManifest(data []byte) (map[string]string, error) {
	var apollo struct {
		Format     string `json:"format"`
		Operations []struct {
			ID   string `json:"id"`
			Body string `json:"body"`
		} `json:"operations"`
	}
	byID := map[string]string{}
	if err := json.Unmarshal(data, &apollo); err == nil && apollo.Format == "apollo-persisted-query-manifest" {
		for _, op := range apollo.Operations {
			byID[op.ID] = op.Body
		}
	} else if err := json.Unmarshal(data, &byID); err != nil {
		return nil, errors.New("persisted-query manifest is neither Apollo's nor Relay's JSON format")
	}
	out := make(map[string]string, len(byID))
	for id, body := range byID {
		hash := queryHash(body)
		if id != hash {
			return nil, fmt.Errorf("persisted-query manifest: id %q is not the sha256 of its body (%s)", id, hash)
		}
		out[hash] = body
	}
	if len(out) == 0 {
		return nil, errors.New("persisted-query manifest lists no operations")
	}
	return out, nil
}

func queryHash(query string) string {
	sum := sha256.Sum256([]byte(query))
	return hex.EncodeToString(sum[:])
}

// safelist accepts only the manifest's operations: sent by hash (the APQ protocol's
// extensions.persistedQuery.sha256Hash, over GET or POST) or as their exact text.
type safelist struct{ byHash map[string]string }

var _ interface {
	graphql.HandlerExtension
	graphql.OperationParameterMutator
} = safelist{}

func (safelist) ExtensionName() string                   { return "Safelist" }
func (safelist) Validate(graphql.ExecutableSchema) error { return nil }

func (s safelist) MutateOperationParameters(_ context.Context, p *graphql.RawParams) *gqlerror.Error {
	hash := persistedQueryHash(p.Extensions)
	if hash == "" && p.Query != "" {
		hash = queryHash(p.Query)
	}
	query, ok := s.byHash[hash]
	if !ok || (p.Query != "" && p.Query != query) {
		return &gqlerror.Error{
			Message:    "only the persisted operations of this API's clients are accepted",
			Extensions: map[string]any{"code": graph.CodePersistedQueryNotInList},
		}
	}
	p.Query = query
	return nil
}

func persistedQueryHash(ext map[string]any) string {
	pq, _ := ext["persistedQuery"].(map[string]any)
	hash, _ := pq["sha256Hash"].(string)
	return hash
}

// SharedQueries is a fleet's register of automatic persisted queries (fleet.Redis), so a
// hash registered through any replica is served by every one. Best effort: a failure
// reads as a miss.
type SharedQueries interface {
	GetQuery(ctx context.Context, hash string) (string, bool)
	AddQuery(ctx context.Context, hash, query string)
}

// sharedRefreshEvery: a query this replica serves from its own LRU tells the fleet's
// register it is still in use this often, so the register's TTL runs from its last use.
const sharedRefreshEvery = time.Hour

// apqCache keeps automatic persisted queries in a bounded LRU and, in a fleet, in the
// shared register behind it: a query found there is copied into the LRU.
type apqCache struct {
	local  *lru.Cache[string, apqEntry]
	shared SharedQueries // nil: this process only
}

type apqEntry struct {
	query  string
	shared time.Time // when the fleet's register last heard of it
}

func newAPQCache(size int, shared SharedQueries) *apqCache {
	local, _ := lru.New[string, apqEntry](size) // errors only for size < 1
	return &apqCache{local: local, shared: shared}
}

func (c *apqCache) Get(ctx context.Context, hash string) (string, bool) {
	if e, ok := c.local.Get(hash); ok {
		if c.shared != nil && time.Since(e.shared) > sharedRefreshEvery {
			c.shared.AddQuery(ctx, hash, e.query)
			c.local.Add(hash, apqEntry{query: e.query, shared: time.Now()})
		}
		return e.query, true
	}
	if c.shared == nil {
		return "", false
	}
	query, ok := c.shared.GetQuery(ctx, hash)
	if ok {
		c.local.Add(hash, apqEntry{query: query, shared: time.Now()})
	}
	return query, ok
}

func (c *apqCache) Add(ctx context.Context, hash, query string) {
	c.local.Add(hash, apqEntry{query: query, shared: time.Now()})
	if c.shared != nil {
		c.shared.AddQuery(ctx, hash, query)
	}
}

// auditList lets every operation run, and reports those outside the manifest: the way
// to roll a safelist out, seeing what would break before enforcing it. It logs the
// operation's name and hash, never its text or variables.
type auditList struct {
	byHash   map[string]string
	log      *slog.Logger
	observer Observer
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationParameterMutator
} = auditList{}

func (auditList) ExtensionName() string                   { return "SafelistAudit" }
func (auditList) Validate(graphql.ExecutableSchema) error { return nil }

func (a auditList) MutateOperationParameters(ctx context.Context, p *graphql.RawParams) *gqlerror.Error {
	hash := persistedQueryHash(p.Extensions)
	if p.Query != "" {
		hash = queryHash(p.Query)
	}
	if _, listed := a.byHash[hash]; listed || hash == "" {
		return nil
	}
	a.observer.OutsideManifest()
	a.log.WarnContext(ctx, "operation outside the persisted-query manifest (audit: it ran)",
		"operation", operationLabel(p.OperationName), "sha256", hash, "x_traceid", koodrive.CallerFrom(ctx).TraceID)
	return nil
}

// operationLabel is a client's operation name fit for a log line: a GraphQL name, or
// nothing.
func operationLabel(name string) string {
	if graphqlName.MatchString(name) {
		return name
	}
	return ""
}

var graphqlName = regexp.MustCompile(`^[_A-Za-z][_0-9A-Za-z]{0,99}$`)

// ValidateManifest checks every operation of a manifest against the schema served; each
// problem names the operation and what is wrong.
func ValidateManifest(byHash map[string]string) []string {
	schema := graph.Schema()
	var problems []string
	for _, hash := range slices.Sorted(maps.Keys(byHash)) {
		name := hash[:min(12, len(hash))]
		if doc, err := parser.ParseQuery(&ast.Source{Input: byHash[hash]}); err == nil && len(doc.Operations) > 0 && doc.Operations[0].Name != "" {
			name = doc.Operations[0].Name
		}
		_, errs := gqlparser.LoadQuery(schema, byHash[hash])
		for _, e := range errs {
			problems = append(problems, fmt.Sprintf("operation %s: %s", name, e.Message))
		}
	}
	return problems
}
