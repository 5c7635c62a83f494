package fleet

import (
	"context"
	"encoding/json"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/koodrive/facade/koodrive"
)

// cachedUser is a user as the fleet keeps it: with the time every replica lets it go.
type cachedUser struct {
	User    *koodrive.User `json:"u"`
	Expires int64          `json:"x"` // unix milliseconds
}

// GetUser reads a user another replica cached under key (a hash of the caller's
// credentials and the user id). A value that does not decode is a miss, and deleted.
func (r *Redis) GetUser(ctx context.Context, key string) (*koodrive.User, time.Time, bool) {
	var raw []byte
	ok, miss := r.do(ctx, "get_user", func(ctx context.Context) (err error) {
		raw, err = r.client.Get(ctx, r.key("user", key)).Bytes()
		return err
	})
	if !ok || miss {
		return nil, time.Time{}, false
	}
	var v cachedUser
	if err := json.Unmarshal(raw, &v); err != nil || v.User == nil || v.Expires == 0 {
		r.drop(ctx, "user", key)
		return nil, time.Time{}, false
	}
	return v.User, time.UnixMilli(v.Expires), true
}

// AddUser keeps u for every replica until expires.
func (r *Redis) AddUser(ctx context.Context, key string, u *koodrive.User, expires time.Time) {
	ttl := time.Until(expires)
	if ttl <= 0 {
		return
	}
	raw, err := json.Marshal(cachedUser{User: u, Expires: expires.UnixMilli()})
	if err != nil {
		return
	}
	r.do(ctx, "add_user", func(ctx context.Context) error {
		return r.client.Set(ctx, r.key("user", key), raw, ttl).Err()
	})
}

// drop deletes a value that does not decode.
func (r *Redis) drop(ctx context.Context, kind, key string) {
	r.do(ctx, "drop_"+kind, func(ctx context.Context) error {
		err := r.client.Del(ctx, r.key(kind, key)).Err()
		if err == redis.Nil {
			return nil
		}
		return err
	})
}
