package fleet

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"time"
)

// QueryTTL is how long a registered persisted query is kept after its last use.
const QueryTTL = 24 * time.Hour

// GetQuery reads the query registered under its sha256 hash by any replica, and keeps
// it another QueryTTL. A value that is not the query of its hash is a miss, and deleted.
func (r *Redis) GetQuery(ctx context.Context, hash string) (string, bool) {
	var query string
	ok, miss := r.do(ctx, "get_query", func(ctx context.Context) (err error) {
		query, err = r.client.GetEx(ctx, r.key("apq", hash), QueryTTL).Result()
		return err
	})
	if !ok || miss {
		return "", false
	}
	if sum := sha256.Sum256([]byte(query)); hex.EncodeToString(sum[:]) != hash {
		r.drop(ctx, "apq", hash)
		return "", false
	}
	return query, true
}

// AddQuery registers query under its hash for every replica.
func (r *Redis) AddQuery(ctx context.Context, hash, query string) {
	r.do(ctx, "add_query", func(ctx context.Context) error {
		return r.client.Set(ctx, r.key("apq", hash), query, QueryTTL).Err()
	})
}
