// Package echo is the bot of examples/easydialog-echo, kept apart from its
// main package so examples/quickstart can run it against the fake Easy
// Dialog.
package echo

import (
	"context"
	"strings"

	"github.com/botwire/botwire/easydialog"
)

// Bot answers text with text, "products" with a card carousel and "where"
// with a location and suggestions.
func Bot(ctx context.Context, req *easydialog.Request) (*easydialog.Response, error) {
	text := strings.TrimSpace(req.Message.Text())
	switch strings.ToLower(text) {
	case "products":
		return easydialog.Reply(
			easydialog.NewTextMessage("Here is what we have:"),
			easydialog.NewCardCarouselMessage(
				easydialog.Card("https://example.com/img/air.jpg", "MacBook Air", "Power. It’s in the Air.",
					easydialog.OpenURL("Visit", "https://example.com/macbook-air"),
					easydialog.ReplyWith("Tell me more", "more:air")),
				easydialog.Card("https://example.com/img/watch.jpg", "Apple Watch Series 7", "Full screen ahead.",
					easydialog.OpenURL("Visit", "https://example.com/watch"),
					easydialog.ReplyWith("Tell me more", "more:watch")),
			),
		), nil
	case "where":
		return easydialog.Reply(
			easydialog.NewLocationMessage(37.3348, -122.0089, "Apple Park", "https://maps.google.com/?q=37.3348,-122.0089").
				WithSuggestions(
					easydialog.OpenURL("Website", "https://www.apple.com"),
					easydialog.DialNumber("Call us", "+14089961010"),
				),
		), nil
	case "":
		return easydialog.Reply(easydialog.NewTextMessage("I can read text only, for now.")), nil
	}
	return easydialog.Reply(easydialog.NewTextMessage("You said: " + text)), nil
}
