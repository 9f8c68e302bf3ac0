package observe

import "context"

// Multi returns an Observer that calls each of obs in order: every Start
// passes the context returned by the previous one to the next, every End
// and Event reaches all of them. Nil observers are dropped; Multi of none
// is nil and of one is that one. The result is a Propagator when any of
// obs is: Inject calls each one's, Extract chains them.
func Multi(obs ...Observer) Observer {
	var list multi
	for _, o := range obs {
		switch o := o.(type) {
		case nil:
		case multi:
			list = append(list, o...)
		case *multiPropagator:
			list = append(list, o.multi...)
		default:
			list = append(list, o)
		}
	}
	switch len(list) {
	case 0:
		return nil
	case 1:
		return list[0]
	}
	for _, o := range list {
		if _, ok := o.(Propagator); ok {
			return &multiPropagator{list}
		}
	}
	return list
}

type multi []Observer

func (m multi) DeliveryStart(ctx context.Context, d *Delivery) context.Context {
	for _, o := range m {
		ctx = o.DeliveryStart(ctx, d)
	}
	return ctx
}

func (m multi) DeliveryEnd(ctx context.Context, d *Delivery) {
	for _, o := range m {
		o.DeliveryEnd(ctx, d)
	}
}

func (m multi) CallbackStart(ctx context.Context, c *Callback) context.Context {
	for _, o := range m {
		ctx = o.CallbackStart(ctx, c)
	}
	return ctx
}

func (m multi) CallbackEnd(ctx context.Context, c *Callback) {
	for _, o := range m {
		o.CallbackEnd(ctx, c)
	}
}

func (m multi) CallStart(ctx context.Context, c *Call) context.Context {
	for _, o := range m {
		ctx = o.CallStart(ctx, c)
	}
	return ctx
}

func (m multi) CallEnd(ctx context.Context, c *Call) {
	for _, o := range m {
		o.CallEnd(ctx, c)
	}
}

func (m multi) AttemptStart(ctx context.Context, a *Attempt) context.Context {
	for _, o := range m {
		ctx = o.AttemptStart(ctx, a)
	}
	return ctx
}

func (m multi) AttemptEnd(ctx context.Context, a *Attempt) {
	for _, o := range m {
		o.AttemptEnd(ctx, a)
	}
}

func (m multi) EnqueueStart(ctx context.Context, e *Enqueue) context.Context {
	for _, o := range m {
		ctx = o.EnqueueStart(ctx, e)
	}
	return ctx
}

func (m multi) EnqueueEnd(ctx context.Context, e *Enqueue) {
	for _, o := range m {
		o.EnqueueEnd(ctx, e)
	}
}

func (m multi) Event(ctx context.Context, e Event) {
	for _, o := range m {
		o.Event(ctx, e)
	}
}

// multiPropagator is a multi with at least one Propagator among it.
type multiPropagator struct{ multi }

func (m *multiPropagator) Inject(ctx context.Context, header map[string]string) {
	for _, o := range m.multi {
		if p, ok := o.(Propagator); ok {
			p.Inject(ctx, header)
		}
	}
}

func (m *multiPropagator) Extract(ctx context.Context, header map[string]string) context.Context {
	for _, o := range m.multi {
		if p, ok := o.(Propagator); ok {
			ctx = p.Extract(ctx, header)
		}
	}
	return ctx
}
