// Command botcopy-handover is a live-chat proxy for Botcopy with a console
// "agent": when the bot hands a conversation over, the transcript is shown
// here, each line you type is sent to the user (with a typing indicator
// while you write), and /bot gives the conversation back to the bot.
//
//	BOTCOPY_ACCESS_TOKEN=... BOTCOPY_API_KEY=... PORT=8080 go run ./examples/botcopy-handover
//
// In the Botcopy portal, set the Live Chat Endpoint Webhook URL to
// https://<host>/botcopy, the access token to BOTCOPY_ACCESS_TOKEN, and
// generate the API key. BOTCOPY_API_URL, when set, is the API base URL the
// desk pushes to instead of https://api.botcopy.com: a proxy, or the fake
// of `botwire fake botcopy` and `botwire emulate botcopy`, which prints the
// URL to give.
//
// The agent types on standard input. When it ends (Ctrl-D, or a bot
// started in the background), the desk has no agent: the webhook keeps
// serving until interrupted, and conversations stay with the bot.
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

	"github.com/botwire/botwire/botcopy"
	"github.com/botwire/botwire/examples/botcopy-handover/desk"
)

func main() {
	if err := run(); err != nil {
		slog.Error("botcopy-handover", "error", err)
		os.Exit(1)
	}
}

func run() error {
	token, key := os.Getenv("BOTCOPY_ACCESS_TOKEN"), os.Getenv("BOTCOPY_API_KEY")
	if token == "" || key == "" {
		return errors.New("set BOTCOPY_ACCESS_TOKEN and BOTCOPY_API_KEY")
	}
	port := os.Getenv("PORT")
	if port == "" {
		port = "8080"
	}
	opts := []botcopy.Option{botcopy.WithLogger(slog.Default())}
	if u := os.Getenv("BOTCOPY_API_URL"); u != "" {
		opts = append(opts, botcopy.WithBaseURL(u))
	}
	client, err := botcopy.NewClient(key, opts...)
	if err != nil {
		return err
	}
	d := &desk.Desk{Client: client, Agent: botcopy.AgentProfile{Name: "Console agent"}, Out: os.Stdout}
	h, err := botcopy.NewHandler(token, d.Handle)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("/botcopy", h)
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
	go func() {
		// The end of the agent's console is not the end of the bot.
		if err := d.Run(ctx, os.Stdin); err == nil {
			slog.Info("the agent console ended: the bot keeps serving, without an agent, until interrupted")
		} else if ctx.Err() == nil {
			slog.Error("the agent console failed: the bot keeps serving, without an agent, until interrupted", "error", err)
		}
	}()
	slog.Info("botcopy-handover listening", "addr", srv.Addr, "path", "/botcopy")
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return srv.Shutdown(shutdown)
}
