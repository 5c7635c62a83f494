package graph

import (
	"context"
	"errors"
	"sync"

	"github.com/graph-gophers/dataloader/v7"

	"github.com/koodrive/facade/graph/model"
	"github.com/koodrive/facade/koodrive"
)

// loaders are created per GraphQL request, so their caches never cross callers.
type loaders struct {
	userByID *dataloader.Loader[string, *model.User]
}

type loadersKey struct{}

// errNoLoaders means the handler was mounted without Resolver.RequestScope.
var errNoLoaders = errors.New("graph: request without loaders; wrap the handler in Resolver.RequestScope")

func (r *Resolver) newLoaders() *loaders {
	// One fan-out bound per request, shared by all of its batches.
	slots := make(chan struct{}, r.opts.UserFanout)
	batch := func(ctx context.Context, ids []string) []*dataloader.Result[*model.User] {
		return r.batchUsers(ctx, slots, ids)
	}
	return &loaders{
		userByID: dataloader.NewBatchedLoader(batch, dataloader.WithWait[string, *model.User](r.opts.LoaderWait)),
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
	return l.userByID.Load(ctx, id)()
}

// batchUsers fans out GET /users/{id}, at most cap(slots) at a time: KooDrive has no
// batch endpoint. Results are in key order and every key carries its own error.
func (r *Resolver) batchUsers(ctx context.Context, slots chan struct{}, ids []string) []*dataloader.Result[*model.User] {
	r.observer.UserBatch(len(ids))
	results := make([]*dataloader.Result[*model.User], len(ids))
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Go(func() {
			slots <- struct{}{}
			defer func() { <-slots }()
			u, err := r.kd.GetUser(ctx, id)
			if err != nil {
				results[i] = &dataloader.Result[*model.User]{Error: err}
			} else {
				results[i] = &dataloader.Result[*model.User]{Data: toGraphUser(id, u)}
			}
		})
	}
	wg.Wait()
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
