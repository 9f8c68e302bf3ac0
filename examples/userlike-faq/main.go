// Command userlike-faq is a Userlike chatbot following the doc's example
// flow: it welcomes the contact with bubbles, asks for an order ID, answers
// later through the API URL, and forwards to a human on request.
//
//	USERLIKE_WEBHOOK_HEADER=API-SECURITY-TOKEN USERLIKE_WEBHOOK_TOKEN=... \
//	USERLIKE_API_URL=https://... USERLIKE_API_TOKEN=... PORT=8080 go run ./examples/userlike-faq
//
// In the Userlike dashboard (Team > Chatbots), set the Webhook URL to
// http://<host>:PORT/userlike, add the same webhook header, and copy the
// API URL and API security token from there.
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

	"github.com/botwire/botwire/examples/userlike-faq/faq"
	"github.com/botwire/botwire/userlike"
)

func main() {
	if err := run(); err != nil {
		slog.Error("userlike-faq", "error", err)
		os.Exit(1)
	}
}

func run() error {
	header, token := os.Getenv("USERLIKE_WEBHOOK_HEADER"), os.Getenv("USERLIKE_WEBHOOK_TOKEN")
	apiURL, apiToken := os.Getenv("USERLIKE_API_URL"), os.Getenv("USERLIKE_API_TOKEN")
	if header == "" || token == "" || apiURL == "" || apiToken == "" {
		return errors.New("set USERLIKE_WEBHOOK_HEADER, USERLIKE_WEBHOOK_TOKEN, USERLIKE_API_URL and USERLIKE_API_TOKEN")
	}
	port := os.Getenv("PORT")
	if port == "" {
		port = "8080"
	}
	client, err := userlike.NewClient(apiURL, apiToken, userlike.WithLogger(slog.Default()))
	if err != nil {
		return err
	}
	bot := &faq.Bot{Client: client, Lookup: lookup, Logger: slog.Default()}
	h, err := userlike.NewHandler(bot.Handle, userlike.WithWebhookHeader(header, token))
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("/userlike", h)
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
	slog.Info("userlike-faq listening", "addr", srv.Addr, "path", "/userlike")
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = srv.Shutdown(shutdown)
	bot.Wait() // send the answers still being looked up
	return err
}

// lookup stands in for the shop's order service.
func lookup(ctx context.Context, orderID string) (string, error) {
	select {
	case <-time.After(2 * time.Second):
		return "shipped today, arriving in 2 days", nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}
