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

func (c *userCache) add(key [sha256.Size]byte, u *User) {
	c.entries.Add(key, cachedUser{user: u, expires: c.now().Add(c.ttl)})
}
