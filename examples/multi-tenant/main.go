// Command multi-tenant serves two customers' OneTalk bots (tenants "acme"
// and "globex") from one handler, one consumer pool and one Redis
// (REDIS_URL, e.g. redis://localhost:6379/0), against a fake OneTalk per
// tenant:
//
//   - each tenant has its own secret (globex is mid-rotation: its old secret
//     is still accepted), looked up per request from the bot's own table;
//
//   - the tenant is the path: POST /onetalk/{tenant};
//
//   - the callback learns its tenant from tenant.FromContext and answers
//     with that tenant's Client; the clients share one connection pool;
//
//   - the same case id in both tenants is two cases: deduplication and the
//     queue keep them apart, and another tenant's secret is refused.
//
//     REDIS_URL=redis://localhost:6379/0 go -C examples/multi-tenant run .
//
// It is a module of its own (it needs go-redis).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/botwire/botwire/onetalk"
	"github.com/botwire/botwire/onetalk/onetalktest"
	"github.com/botwire/botwire/store/redisstore"
	"github.com/botwire/botwire/tenant"
)

func main() {
	url := os.Getenv("REDIS_URL")
	if url == "" {
		fmt.Fprintln(os.Stderr, "multi-tenant: set REDIS_URL, e.g. redis://localhost:6379/0")
		os.Exit(2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := run(ctx, url, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "multi-tenant:", err)
		os.Exit(1)
	}
}

// account is what the bot keeps per tenant: in production a table or a
// secret manager, read through a cache.
type account struct {
	creds  onetalk.Credentials
	fake   *onetalktest.Server // the tenant's OneTalk
	client *onetalk.Client     // the bot's client for the tenant
}

// lockedWriter lets the callbacks, which run on the queue's consumers,
// print beside the main flow.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func run(ctx context.Context, url string, w io.Writer) error {
	out := &lockedWriter{w: w}
	opt, err := redis.ParseURL(url)
	if err != nil {
		return err
	}
	opt.ContextTimeoutEnabled = true
	rdb := redis.NewClient(opt)
	defer rdb.Close()
	st := redisstore.New(rdb, redisstore.Options{Prefix: fmt.Sprintf("multi-tenant-%d", time.Now().UnixNano())})

	accounts := map[string]*account{
		"acme":   {creds: onetalk.Credentials{Secret: "acme-secret"}},
		"globex": {creds: onetalk.Credentials{Secret: "globex-new-secret", Previous: []string{"globex-old-secret"}}},
	}
	for _, a := range accounts {
		a.fake = onetalktest.NewServer(onetalktest.Config{Secret: a.creds.Secret})
		defer a.fake.Close()
		// Clients built without WithHTTPClient share one transport: a
		// thousand tenants' clients cost a thousand small structs.
		if a.client, err = onetalk.NewClient(a.fake.URL, a.creds.Secret); err != nil {
			return err
		}
	}

	bot, err := onetalk.NewTenantHandler(onetalk.Tenants{
		Resolve: tenant.PathValue("tenant"),
		Lookup: func(_ context.Context, id string) (onetalk.Credentials, error) {
			a, ok := accounts[id]
			if !ok {
				return onetalk.Credentials{}, tenant.ErrUnknown
			}
			return a.creds, nil
		},
	}, func(ctx context.Context, in *onetalk.InboundRequest) error {
		id, _ := tenant.FromContext(ctx)
		fmt.Fprintf(out, "  %s: %s says %q\n", id, in.CaseID, in.Message.Body())
		return accounts[id].client.SendMessages(ctx, in.CaseID, onetalk.NewText(fmt.Sprintf("%s heard you: %s", id, in.Message.Body())))
	}, onetalk.WithDeduplication(st, time.Hour), onetalk.WithQueue(st, 2))
	if err != nil {
		return err
	}
	defer bot.Shutdown(context.Background())
	mux := http.NewServeMux()
	mux.Handle("POST /onetalk/{tenant}", bot)
	srv := httptest.NewServer(mux)
	defer srv.Close()

	deliver := func(id string, in *onetalk.InboundRequest) (int, error) {
		a := accounts[id]
		a.fake.SetBotURL(srv.URL + "/onetalk/" + id)
		d, err := a.fake.Deliver(ctx, in)
		if err != nil {
			return 0, err
		}
		return d.StatusCode, nil
	}
	fmt.Fprintln(out, "== the same case id in two tenants")
	for _, id := range []string{"acme", "globex"} {
		in := onetalktest.Text("CASE-1", "hello from "+id)
		in.Message.ID = "m-1" // the same message id too
		status, err := deliver(id, in)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "OneTalk(%s) -> bot: answered %d\n", id, status)
	}

	fmt.Fprintln(out, "== globex's old secret during its rotation")
	old := onetalktest.NewServer(onetalktest.Config{Secret: "globex-old-secret", BotURL: srv.URL + "/onetalk/globex"})
	defer old.Close()
	d, err := old.Deliver(ctx, onetalktest.Text("CASE-2", "sent with the old secret"))
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "OneTalk(globex, old secret) -> bot: answered %d\n", d.StatusCode)

	fmt.Fprintln(out, "== acme's secret on globex's path")
	cross := onetalktest.NewServer(onetalktest.Config{Secret: "acme-secret", BotURL: srv.URL + "/onetalk/globex"})
	defer cross.Close()
	d, err = cross.Deliver(ctx, onetalktest.Text("CASE-3", "not yours"))
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "OneTalk(acme's secret, globex's path) -> bot: answered %d\n", d.StatusCode)
	if d.StatusCode != http.StatusUnauthorized {
		return fmt.Errorf("another tenant's secret answered %d, want 401", d.StatusCode)
	}

	fmt.Fprintln(out, "== replies each tenant's OneTalk received")
	want := map[string]int{"acme": 1, "globex": 2}
	for _, id := range []string{"acme", "globex"} {
		got, err := accounts[id].fake.WaitFor(ctx, want[id])
		if err != nil {
			return fmt.Errorf("%s: %w", id, err)
		}
		var texts []string
		for _, r := range got {
			if r.Request == nil || len(r.Request.Messages) == 0 || r.Request.Messages[0].Text == nil {
				return errors.New("unexpected request at a fake OneTalk")
			}
			texts = append(texts, r.Request.CaseID+": "+r.Request.Messages[0].Text.Body)
		}
		sort.Strings(texts)
		for _, t := range texts {
			fmt.Fprintf(out, "  %s <- %s\n", id, t)
		}
	}
	return nil
}
