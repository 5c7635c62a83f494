package gqlhttp

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/koodrive/facade/graph"
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
