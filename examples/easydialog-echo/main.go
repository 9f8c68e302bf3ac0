// Command easydialog-echo is an Easy Dialog custom bot: it answers text with
// text, "products" with a card carousel and "where" with a location and
// suggestions.
//
//	EASYDIALOG_SIGNATURE_KEY=... PORT=8080 go run ./examples/easydialog-echo
//
// In Business Messenger, Settings > Conversation API, choose the Custom
// adapter, set the Webhook URL to http://<host>:PORT/easydialog and the
// Signature to the same key.
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

	"github.com/botwire/botwire/easydialog"
	"github.com/botwire/botwire/examples/easydialog-echo/echo"
)

func main() {
	if err := run(); err != nil {
		slog.Error("easydialog-echo", "error", err)
		os.Exit(1)
	}
}

func run() error {
	key := os.Getenv("EASYDIALOG_SIGNATURE_KEY")
	if key == "" {
		return errors.New("set EASYDIALOG_SIGNATURE_KEY")
	}
	port := os.Getenv("PORT")
	if port == "" {
		port = "8080"
	}
	bot, err := easydialog.NewHandler(key, echo.Bot)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("/easydialog", bot)
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
	slog.Info("easydialog-echo listening", "addr", srv.Addr, "path", "/easydialog")
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return srv.Shutdown(shutdown)
}
