package koodrive

import (
	"context"
	"errors"

	"golang.org/x/sync/singleflight"
)

// coalescer makes identical GETs in flight at the same time share one upstream call.
// Keys include the caller's credentials, so one caller's answer never reaches another.
type coalescer struct{ group singleflight.Group }

// leaderGone marks a shared call that failed because the caller running it went away;
// the callers still waiting run it again rather than inherit that failure.
type leaderGone struct{ err error }

func (e *leaderGone) Error() string { return e.err.Error() }

// do runs call once for all callers of key in flight together. The first caller runs
// it on its own goroutine (no goroutine per call); the others wait for its answer, which
// the call's own timeouts bound. joined says this caller had another's answer.
func (c *coalescer) do(ctx context.Context, key string, call func(context.Context) (*response, error)) (resp *response, joined bool, err error) {
	if c == nil {
		resp, err = call(ctx)
		return resp, false, err
	}
	for {
		ran := false
		v, err, _ := c.group.Do(key, func() (any, error) {
			ran = true
			resp, err := call(ctx)
			if err != nil && ctx.Err() != nil {
				return resp, &leaderGone{err}
			}
			return resp, err
		})
		resp, _ := v.(*response)
		var gone *leaderGone
		if errors.As(err, &gone) {
			if ctx.Err() == nil { // another caller's cancellation: try again
				continue
			}
			return resp, !ran, gone.err
		}
		return resp, !ran, err
	}
}
