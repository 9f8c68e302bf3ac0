// Command ultimate-relay connects a web chat to an Ultimate.ai virtual agent:
// the web chat posts to a small JSON API, the relay forwards visitor events
// to Ultimate, and serves the agent's answers from the chat webhook.
//
//	ULTIMATE_API_KEY=... ULTIMATE_BOT_ID=... \
//	ULTIMATE_WEBHOOK_USER=ultimate ULTIMATE_WEBHOOK_PASSWORD=... PORT=8080 go run ./examples/ultimate-relay
//
// ULTIMATE_API_URL, when set, is the API base URL the relay calls instead of
// https://api.ultimate.ai: a proxy, or the fake of `botwire fake ultimate`
// and `botwire emulate ultimate`, which prints the URL to give.
//
// In the Custom CRM integration, set the chat webhook to
// https://ultimate:PASSWORD@<host>/ultimate/chat and the actions webhook to
// https://ultimate:PASSWORD@<host>/ultimate/actions: Ultimate documents no
// authentication of its own for webhooks, so the relay asks for basic
// authentication carried in the URL.
//
// The web chat's API: POST /chat/start {"conversationId"}, POST /chat/send
// {"conversationId", "text", "cardIndex"}, GET /chat/messages?conversationId=...&after=N.
// It is public (a visitor has no credential), so the relay bounds what it
// keeps: at most relay.DefaultMaxConversations conversations (the least
// recently active goes first), relay.DefaultMaxEntries lines each, texts
// of relay.MaxTextBytes and bodies of 16 KiB. Anyone can still make it
// forget idle conversations by sending under fresh ids: in production, key
// conversations by a session the site issues, and rate-limit /chat/.
package main

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/botwire/botwire/examples/ultimate-relay/relay"
	"github.com/botwire/botwire/ultimate"
)

func main() {
	if err := run(); err != nil {
		slog.Error("ultimate-relay", "error", err)
		os.Exit(1)
	}
}

func run() error {
	key, botID := os.Getenv("ULTIMATE_API_KEY"), os.Getenv("ULTIMATE_BOT_ID")
	user, pass := os.Getenv("ULTIMATE_WEBHOOK_USER"), os.Getenv("ULTIMATE_WEBHOOK_PASSWORD")
	if key == "" || botID == "" {
		return errors.New("set ULTIMATE_API_KEY and ULTIMATE_BOT_ID")
	}
	if user == "" || pass == "" {
		return errors.New("set ULTIMATE_WEBHOOK_USER and ULTIMATE_WEBHOOK_PASSWORD: the webhooks must not be open to anyone")
	}
	port := os.Getenv("PORT")
	if port == "" {
		port = "8080"
	}
	opts := []ultimate.Option{ultimate.WithLogger(slog.Default())}
	if u := os.Getenv("ULTIMATE_API_URL"); u != "" {
		opts = append(opts, ultimate.WithBaseURL(u))
	}
	client, err := ultimate.NewClient(key, botID, opts...)
	if err != nil {
		return err
	}
	r := &relay.Relay{
		Client:      client,
		TeamOnline:  func(string) bool { return isOfficeHours(time.Now()) },
		OrderStatus: func(id string) string { return "shipped" },
	}
	chat, err := ultimate.NewChatHandler(r.Callbacks(), ultimate.WithBasicAuth(user, pass))
	if err != nil {
		return err
	}
	actions, err := ultimate.NewActionHandler(r.Action, ultimate.WithBasicAuth(user, pass))
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("/ultimate/chat", chat)
	mux.Handle("/ultimate/actions", actions)
	mux.Handle("/chat/", r.ChatAPI())
	// ReadHeaderTimeout and ReadTimeout bound what a slow or silent caller
	// holds; WriteTimeout stays above the handler's own answer time;
	// IdleTimeout closes kept-alive connections nobody uses.
	srv := &http.Server{
		Addr:              ":" + port,
		Handler:           mux,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	slog.Info("ultimate-relay listening", "addr", srv.Addr)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return srv.Shutdown(shutdown)
}

func isOfficeHours(t time.Time) bool {
	return t.Weekday() != time.Saturday && t.Weekday() != time.Sunday && t.Hour() >= 9 && t.Hour() < 17
}
