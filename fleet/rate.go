package fleet

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Rate limits are token buckets kept as GCRA (the generic cell rate algorithm): a bucket
// is one number, the time its tokens are next all back (its "theoretical arrival time"),
// so one atomic step on Redis checks and takes. Here in process (LocalLimiter), and on
// Redis for a fleet (Redis.Limiter), which falls back to its own local buckets while
// Redis does not answer: the fleet then allows up to N replicas × the limit.

// Rate is N tokens that restore over Per: a burst of N, then N per Per.
type Rate struct {
	N   int
	Per time.Duration
}

// ParseRate reads "N/s", "N/m" or "N/h"; "N" alone is per second.
func ParseRate(s string) (Rate, error) {
	n, unit, hasUnit := strings.Cut(strings.TrimSpace(s), "/")
	per := map[string]time.Duration{"s": time.Second, "m": time.Minute, "h": time.Hour}[unit]
	count, err := strconv.Atoi(n)
	if err != nil || count < 1 || (hasUnit && per == 0) {
		return Rate{}, fmt.Errorf("%q is not a rate: N/s, N/m or N/h with N ≥ 1", s)
	}
	if !hasUnit {
		per = time.Second
	}
	return Rate{N: count, Per: per}, nil
}

// PerSecond is how many tokens restore each second.
func (r Rate) PerSecond() float64 { return float64(r.N) / r.Per.Seconds() }

// interval is the time one token takes to restore.
func (r Rate) interval() time.Duration { return r.Per / time.Duration(r.N) }

// LocalLimiter keeps a Rate's buckets in process, by key.
type LocalLimiter struct {
	rate Rate
	now  func() time.Time
	mu   sync.Mutex
	tat  map[string]time.Time // when each bucket is full again; absent: full
}

// NewLocalLimiter returns buckets of rate kept in this process.
func NewLocalLimiter(rate Rate) *LocalLimiter {
	return &LocalLimiter{rate: rate, now: time.Now, tat: map[string]time.Time{}}
}

// Take takes n tokens from key's bucket if it holds them all, else none. It returns
// whether it took them, when they will be there if not (never, -1, when n exceeds the
// burst), and the tokens left.
func (l *LocalLimiter) Take(_ context.Context, key string, n float64) (bool, time.Duration, float64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	ok, wait, tat, left := gcra(l.rate, l.tat[key], now, n, false)
	if ok {
		l.store(key, tat, now)
	}
	return ok, wait, left
}

// Settle charges key's bucket n tokens more (after the fact: always) or, with n < 0,
// gives -n back, never above its burst; it returns the tokens left.
func (l *LocalLimiter) Settle(_ context.Context, key string, n float64) float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	_, _, tat, left := gcra(l.rate, l.tat[key], now, n, true)
	l.store(key, tat, now)
	return left
}

func (l *LocalLimiter) store(key string, tat, now time.Time) {
	if !tat.After(now) {
		delete(l.tat, key) // full: nothing to keep
		return
	}
	l.tat[key] = tat
}

// gcra is one step of the algorithm: from the bucket's tat (zero: full) at now, take n
// tokens (give back -n); force takes even past empty. It returns whether the step is
// allowed, the wait until it would be, the new tat and the tokens left.
func gcra(rate Rate, tat, now time.Time, n float64, force bool) (bool, time.Duration, time.Time, float64) {
	t := float64(rate.interval())
	tau := float64(rate.Per)
	if tat.Before(now) {
		tat = now
	}
	left := func(tat time.Time) float64 { return math.Max((tau-float64(tat.Sub(now)))/t, 0) }
	if n > float64(rate.N) && !force {
		return false, -1, tat, left(tat)
	}
	next := tat.Add(time.Duration(n * t))
	if next.Before(now) {
		next = now // a refund fills the bucket at most
	}
	if over := next.Sub(now) - time.Duration(tau); over > 0 && n > 0 && !force {
		return false, over, tat, left(tat)
	}
	return true, 0, next, left(next)
}

// Limiter is a Rate's buckets shared by the fleet, under the prefix; each call is one
// script run, bounded by the timeout. While Redis does not answer, local takes over.
func (r *Redis) Limiter(name string, rate Rate, local *LocalLimiter) *RedisLimiter {
	return &RedisLimiter{redis: r, name: name, rate: rate, local: local}
}

// RedisLimiter keeps buckets on Redis (see Redis.Limiter).
type RedisLimiter struct {
	redis *Redis
	name  string
	rate  Rate
	local *LocalLimiter
}

// gcraScript is gcra on Redis, on Redis's clock (TIME), so replicas' clocks do not
// matter. KEYS[1] the bucket; ARGV: interval and burst in microseconds, n, force (0/1).
// It returns {allowed, wait µs, tokens left} (left as a string: Lua numbers lose their
// fraction on the way out).
var gcraScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval, tau, n, force = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4] == '1'
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local function left(x) return tostring(math.max((tau - (x - now)) / interval, 0)) end
if n > tau / interval + 1e-9 and not force then return {0, -1, left(tat)} end
local next = math.max(tat + n * interval, now)
if n > 0 and not force and next - now > tau then return {0, math.ceil(next - now - tau), left(tat)} end
if next > now then
  redis.call('SET', KEYS[1], string.format('%.0f', next), 'PX', math.ceil((next - now) / 1000))
else
  redis.call('DEL', KEYS[1])
end
return {1, 0, left(next)}
`)

func (l *RedisLimiter) run(ctx context.Context, key string, n float64, force bool) (res []any, ok bool) {
	args := []any{l.rate.interval().Microseconds(), l.rate.Per.Microseconds(), strconv.FormatFloat(n, 'f', -1, 64), map[bool]string{false: "0", true: "1"}[force]}
	ok, _ = l.redis.do(ctx, "rate", func(ctx context.Context) (err error) {
		res, err = gcraScript.Run(ctx, l.redis.client, []string{l.redis.key("rate", l.name, key)}, args...).Slice()
		return err
	})
	return res, ok && len(res) == 3
}

// Take is LocalLimiter.Take on the fleet's bucket; on the local one while Redis is away.
func (l *RedisLimiter) Take(ctx context.Context, key string, n float64) (bool, time.Duration, float64) {
	res, ok := l.run(ctx, key, n, false)
	if !ok {
		return l.local.Take(ctx, key, n)
	}
	allowed, _ := res[0].(int64)
	wait, _ := res[1].(int64)
	left, _ := strconv.ParseFloat(fmt.Sprint(res[2]), 64)
	if wait > 0 {
		return false, time.Duration(wait) * time.Microsecond, left
	}
	return allowed == 1, time.Duration(wait), left // wait is -1 (never) or 0
}

// Settle is LocalLimiter.Settle on the fleet's bucket; on the local one while Redis is away.
func (l *RedisLimiter) Settle(ctx context.Context, key string, n float64) float64 {
	res, ok := l.run(ctx, key, n, true)
	if !ok {
		return l.local.Settle(ctx, key, n)
	}
	left, _ := strconv.ParseFloat(fmt.Sprint(res[2]), 64)
	return left
}
