package fleet

import (
	"context"
	"strconv"
	"strings"
	"time"
)

// KooDrive's 429 holds: a replica answered 429 with Retry-After sets the endpoint's key
// (expiring with the hold, for replicas that start later) and publishes it; every
// replica subscribes, so holding a call costs no Redis round trip.

// holdsChannel is where holds are published, under the prefix.
const holdsChannel = "holds"

// Hold holds endpoint's calls until then in every replica.
func (r *Redis) Hold(ctx context.Context, endpoint string, until time.Time) {
	ttl := time.Until(until)
	if ttl <= 0 {
		return
	}
	msg := endpoint + " " + strconv.FormatInt(until.UnixMilli(), 10)
	r.do(ctx, "hold", func(ctx context.Context) error {
		pipe := r.client.TxPipeline()
		pipe.Set(ctx, r.key("hold", endpoint), until.UnixMilli(), ttl)
		pipe.Publish(ctx, r.key(holdsChannel), msg)
		_, err := pipe.Exec(ctx)
		return err
	})
}

// WatchHolds calls hold with every hold any replica sets, until ctx ends: those in
// force when it starts, then each as it is published. Run it in its own goroutine.
func (r *Redis) WatchHolds(ctx context.Context, endpoints []string, hold func(endpoint string, until time.Time)) {
	sub := r.client.Subscribe(ctx, r.key(holdsChannel))
	go func() { <-ctx.Done(); _ = sub.Close() }() // ends the range below
	for _, endpoint := range endpoints {
		var ms int64
		ok, miss := r.do(ctx, "get_hold", func(ctx context.Context) (err error) {
			ms, err = r.client.Get(ctx, r.key("hold", endpoint)).Int64()
			return err
		})
		if ok && !miss {
			hold(endpoint, time.UnixMilli(ms))
		}
	}
	// go-redis resubscribes after a reconnect; a hold published while Redis was away
	// is missed, and that replica learns of it from KooDrive's own 429.
	for msg := range sub.Channel() {
		endpoint, at, ok := strings.Cut(msg.Payload, " ")
		ms, err := strconv.ParseInt(at, 10, 64)
		if ok && err == nil {
			hold(endpoint, time.UnixMilli(ms))
		}
	}
}
