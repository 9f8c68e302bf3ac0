// Command onetalk-replicas runs two replicas of the echo bot in one program,
// sharing one Redis (REDIS_URL, e.g. redis://localhost:6379/0), against the
// fake OneTalk, and shows what the shared state buys:
//
//   - OneTalk redelivers a message (its 200 got lost): the other replica
//     answers 200 from the shared deduplication, and the customer gets one
//     reply;
//
//   - a replica dies in the middle of a message: the message stays in the
//     shared queue, and the other replica finishes it after the lease.
//
//     REDIS_URL=redis://localhost:6379/0 go -C examples/onetalk-replicas run .
//
// It is a module of its own (it needs go-redis); the bot is the echo bot of
// examples/onetalk-echo.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/botwire/botwire/examples/onetalk-echo/echo"
	"github.com/botwire/botwire/onetalk"
	"github.com/botwire/botwire/onetalk/onetalktest"
	"github.com/botwire/botwire/store"
	"github.com/botwire/botwire/store/redisstore"
)

func main() {
	url := os.Getenv("REDIS_URL")
	if url == "" {
		fmt.Fprintln(os.Stderr, "onetalk-replicas: set REDIS_URL, e.g. redis://localhost:6379/0")
		os.Exit(2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := run(ctx, url, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "onetalk-replicas:", err)
		os.Exit(1)
	}
}

const secret = "replicas-secret"

// replica is one process of the bot: its own Redis client, handler and
// HTTP server, as it would be on its own machine.
type replica struct {
	name    string
	handler *onetalk.Handler
	srv     *httptest.Server
}

func run(ctx context.Context, url string, out io.Writer) error {
	opt, err := redis.ParseURL(url)
	if err != nil {
		return err
	}
	// A store call ends at its context's deadline even in the middle of a
	// read, so a handler answers 503 within the platform's budget when
	// Redis stalls (go-redis otherwise waits out its 5 s ReadTimeout).
	opt.ContextTimeoutEnabled = true
	prefix := fmt.Sprintf("onetalk-replicas-%d", time.Now().UnixNano()) // a clean run every time
	fake := onetalktest.NewServer(onetalktest.Config{Secret: secret})
	defer fake.Close()

	// stuck closes when replica A is in the middle of the slow message.
	stuck := make(chan struct{})
	newReplica := func(name string, block bool) (*replica, error) {
		rdb := redis.NewClient(opt)
		st := redisstore.New(rdb, redisstore.Options{Prefix: prefix,
			Queue: store.QueueOptions{Lease: 2 * time.Second, RetryDelay: 200 * time.Millisecond}})
		client, err := onetalk.NewClient(fake.URL, secret)
		if err != nil {
			return nil, err
		}
		bot := echo.Bot(client)
		fn := func(ctx context.Context, in *onetalk.InboundRequest) error {
			if block && in.Message.Body() == "slow question" {
				fmt.Fprintf(out, "  %s started %q and dies in the middle of it\n", name, in.Message.Body())
				close(stuck)
				<-ctx.Done() // never finishes here
				return ctx.Err()
			}
			fmt.Fprintf(out, "  %s answers %q\n", name, in.Message.Body())
			return bot(ctx, in)
		}
		h, err := onetalk.NewHandler(secret, fn, onetalk.WithDeduplication(st, time.Hour), onetalk.WithQueue(st, 2))
		if err != nil {
			return nil, err
		}
		return &replica{name: name, handler: h, srv: httptest.NewServer(h)}, nil
	}
	a, err := newReplica("replica A", true)
	if err != nil {
		return err
	}
	defer a.srv.Close()

	deliver := func(r *replica, in *onetalk.InboundRequest) error {
		fake.SetBotURL(r.srv.URL)
		d, err := fake.Deliver(ctx, in)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "OneTalk -> %s: %q answered %d\n", r.name, in.Message.Body(), d.StatusCode)
		return nil
	}

	fmt.Fprintln(out, "== a redelivery is answered once")
	first := onetalktest.Text("CASE-1", "hello")
	if err := deliver(a, first); err != nil {
		return err
	}
	if _, err := fake.WaitFor(ctx, 1); err != nil {
		return err
	}

	fmt.Fprintln(out, "== a replica dies mid-message; the other finishes it")
	if err := deliver(a, onetalktest.Text("CASE-2", "slow question")); err != nil {
		return err
	}
	select {
	case <-stuck:
	case <-ctx.Done():
		return ctx.Err()
	}
	// Replica A dies: its consumers stop without acknowledging.
	dead, cancelA := context.WithCancel(ctx)
	cancelA()
	_ = a.handler.Shutdown(dead)
	a.srv.Close()

	b, err := newReplica("replica B", false)
	if err != nil {
		return err
	}
	defer b.srv.Close()
	defer b.handler.Shutdown(context.Background())
	fmt.Fprintln(out, "(OneTalk did not get its 200 in time for CASE-1 and redelivers it, to replica B)")
	if err := deliver(b, first); err != nil {
		return err
	}
	got, err := fake.WaitFor(ctx, 2)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "== OneTalk received %d replies:\n", len(got))
	for _, r := range got {
		if r.Request == nil || len(r.Request.Messages) == 0 || r.Request.Messages[0].Text == nil {
			return errors.New("unexpected request at the fake OneTalk")
		}
		fmt.Fprintf(out, "  %s: %s\n", r.Request.CaseID, r.Request.Messages[0].Text.Body)
	}
	time.Sleep(300 * time.Millisecond)
	if n := len(fake.Received()); n != 2 {
		return fmt.Errorf("OneTalk received %d replies, want 2", n)
	}
	return nil
}
