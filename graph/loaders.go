package graph

import (
	"context"
	"errors"
	"log/slog"
	"sync"

	"github.com/graph-gophers/dataloader/v7"

	"github.com/koodrive/facade/graph/model"
	"github.com/koodrive/facade/koodrive"
)

// loaders are created per GraphQL request, so their caches never cross callers.
type loaders struct {
	userByID   *dataloader.Loader[string, *model.User]
	users      *userCalls
	prefetched prefetched      // what lists' owners fetched ahead of their elements
	resolved   map[string]bool // the Resolver's resolvedFields
	log        *slog.Logger
}

type loadersKey struct{}

// errNoLoaders means a request's context did not come through Resolver.WithLoaders.
var errNoLoaders = errors.New("graph: request without loaders; its context must come from Resolver.WithLoaders")

// WithLoaders returns a context for one GraphQL request, with fresh loaders: its users
// are fetched at most once, and never shared with another request.
func (r *Resolver) WithLoaders(ctx context.Context) context.Context {
	return context.WithValue(ctx, loadersKey{}, r.newLoaders())
}

func (r *Resolver) newLoaders() *loaders {
	users := &userCalls{kd: r.kd, observer: r.observer, slots: make(chan struct{}, r.opts.UserFanout), byID: map[string]*userCall{}}
	batch := func(ctx context.Context, ids []string) []*dataloader.Result[*model.User] {
		return users.results(ctx, ids)
	}
	return &loaders{
		userByID: dataloader.NewBatchedLoader(batch, dataloader.WithWait[string, *model.User](r.opts.LoaderWait)),
		users:    users,
		resolved: r.resolved,
		log:      r.log,
	}
}

// userByID loads one user through the request's loader (or, with NaiveUserFetch, with
// a call of its own).
func (r *Resolver) userByID(ctx context.Context, id string) (*model.User, error) {
	if r.opts.NaiveUserFetch {
		u, err := r.kd.GetUser(ctx, id)
		if err != nil {
			return nil, err
		}
		return toGraphUser(id, u), nil
	}
	l, ok := ctx.Value(loadersKey{}).(*loaders)
	if !ok {
		return nil, errNoLoaders
	}
	if call := l.users.inFlight(id); call != nil { // prefetched: no batch to wait for
		<-call.done
		return call.user, call.err
	}
	return l.userByID.Load(ctx, id)()
}

// prefetchUsers starts the calls for ids now, ahead of the fields that will load them:
// a group page names its owners long before gqlgen reaches each owner field.
func (r *Resolver) prefetchUsers(ctx context.Context, ids []string) []*userCall {
	if l, ok := ctx.Value(loadersKey{}).(*loaders); ok && !r.opts.NaiveUserFetch {
		return l.users.start(ctx, ids)
	}
	return nil
}

// awaitUsers returns once every call has ended (each ends with its context).
func awaitUsers(calls []*userCall) {
	for _, c := range calls {
		<-c.done
	}
}

// markPrefetched records that the elements of parent's lists have coord's values at
// hand (listMayWait).
func markPrefetched(ctx context.Context, parent any, coord string) {
	if l, ok := ctx.Value(loadersKey{}).(*loaders); ok {
		l.prefetched.add(parent, coord)
	}
}

// userCalls are one request's GET /users/{id} calls: each user is asked for at most
// once, each call starts as soon as it is first needed, and at most cap(slots) run at
// a time. KooDrive has no batch endpoint, so a loader batch is a set of these calls.
type userCalls struct {
	kd       *koodrive.Client
	observer Observer
	slots    chan struct{}
	mu       sync.Mutex
	byID     map[string]*userCall
}

type userCall struct {
	done chan struct{} // closed when user and err are set
	user *model.User
	err  error
}

// start begins the calls for the ids not asked for yet and returns every id's call.
func (c *userCalls) start(ctx context.Context, ids []string) []*userCall {
	calls := make([]*userCall, len(ids))
	started := 0
	c.mu.Lock()
	for i, id := range ids {
		call, ok := c.byID[id]
		if !ok {
			call = &userCall{done: make(chan struct{})}
			c.byID[id] = call
			go c.fetch(ctx, id, call)
			started++
		}
		calls[i] = call
	}
	c.mu.Unlock()
	if started > 0 {
		c.observer.UserBatch(started)
	}
	return calls
}

// inFlight is id's call if it was started, else nil.
func (c *userCalls) inFlight(id string) *userCall {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.byID[id]
}

func (c *userCalls) fetch(ctx context.Context, id string, call *userCall) {
	defer close(call.done)
	c.slots <- struct{}{}
	defer func() { <-c.slots }()
	u, err := c.kd.GetUser(ctx, id)
	if err != nil {
		call.err = err
		return
	}
	call.user = toGraphUser(id, u)
}

// results waits for the ids' calls, starting those not started yet. Results are in id
// order and every id carries its own error.
func (c *userCalls) results(ctx context.Context, ids []string) []*dataloader.Result[*model.User] {
	results := make([]*dataloader.Result[*model.User], len(ids))
	for i, call := range c.start(ctx, ids) {
		<-call.done // bounded: the call ends with its context
		results[i] = &dataloader.Result[*model.User]{Data: call.user, Error: call.err}
	}
	return results
}

// toGraphUser converts KooDrive's userInfo; requestedID stands in for a missing userId.
func toGraphUser(requestedID string, u *koodrive.User) *model.User {
	id := requestedID
	if u.UserID != nil && *u.UserID != "" {
		id = *u.UserID
	}
	return &model.User{
		UserID: id, ExternalID: u.ID, Name: u.Name, Mobile: u.Mobile, Role: u.Role,
		Status: u.Status, OrgID: u.OrgID, DeptID: u.DeptID, DeptName: u.DeptName,
	}
}
