// Command onetalk-echo is a OneTalk custom chatbot: it answers text with
// text, "menu" with reply buttons, and hands the case over on "agent".
//
//	ONETALK_SECRET=... ONETALK_URL=https://onetalk-api.taptalk.io/... PORT=8080 go run ./examples/onetalk-echo
//
// Set the bot's API URL in the OneTalk dashboard to http://<host>:PORT/onetalk.
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

	"github.com/botwire/botwire/examples/onetalk-echo/echo"
	"github.com/botwire/botwire/onetalk"
)

func main() {
	if err := run(); err != nil {
		slog.Error("onetalk-echo", "error", err)
		os.Exit(1)
	}
}

func run() error {
	secret, oneTalkURL := os.Getenv("ONETALK_SECRET"), os.Getenv("ONETALK_URL")
	if secret == "" || oneTalkURL == "" {
		return errors.New("set ONETALK_SECRET and ONETALK_URL")
	}
	port := os.Getenv("PORT")
	if port == "" {
		port = "8080"
	}
	client, err := onetalk.NewClient(oneTalkURL, secret, onetalk.WithLogger(slog.Default()))
	if err != nil {
		return err
	}
	// OneTalk's queue waits for our answer: acknowledge at once and reply
	// from a small worker pool.
	bot, err := onetalk.NewHandler(secret, echo.Bot(client), onetalk.WithAsync(4, 256))
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("/onetalk", bot)
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
	slog.Info("onetalk-echo listening", "addr", srv.Addr, "path", "/onetalk")
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		return err
	}
	return bot.Shutdown(shutdown)
}
