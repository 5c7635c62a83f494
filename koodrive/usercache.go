package koodrive

import (
	"crypto/sha256"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
)

// userCache keeps GET /users answers across requests: bounded by an LRU, expired on
// read. (golang-lru's expirable variant runs a cleanup goroutine that cannot be stopped.)
type userCache struct {
	ttl     time.Duration
	now     func() time.Time
	entries *lru.Cache[[sha256.Size]byte, cachedUser]
}

type cachedUser struct {
	user    *User
	expires time.Time
}

func newUserCache(ttl time.Duration, size int) *userCache {
	entries, _ := lru.New[[sha256.Size]byte, cachedUser](max(size, 1)) // errors only for size < 1
	return &userCache{ttl: ttl, now: time.Now, entries: entries}
}

func (c *userCache) get(key [sha256.Size]byte) (*User, bool) {
	e, ok := c.entries.Get(key)
	if !ok {
		return nil, false
	}
	if c.now().After(e.expires) {
		c.entries.Remove(key)
		return nil, false
	}
	return e.user, true
}

// put keeps u until expires: now+ttl for an answer just read, or what the fleet's copy
// says, so every replica lets it go at the same time.
func (c *userCache) put(key [sha256.Size]byte, u *User, expires time.Time) {
	c.entries.Add(key, cachedUser{user: u, expires: expires})
}
