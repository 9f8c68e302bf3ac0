package userliketest_test

import (
	"context"
	"fmt"
	"log"

	"github.com/botwire/botwire/userlike"
	"github.com/botwire/botwire/userlike/userliketest"
)

// A small bot tested end to end: it answers in the webhook response and,
// later, through the API URL; the fake records both.
func Example() {
	ctx := context.Background()
	fake := userliketest.NewServer(userliketest.Config{WebhookHeader: "API-SECURITY-TOKEN", WebhookToken: "hook", APIToken: "api"})
	defer fake.Close()
	client, err := userlike.NewClient(fake.URL, "api")
	if err != nil {
		log.Fatal(err)
	}
	bot, err := userlike.NewHandler(func(ctx context.Context, e *userlike.Event, r *userlike.Reply) error {
		r.Add(userlike.Message("You said: " + e.Text()))
		return client.Send(ctx, e.Info.CID, userlike.Message("(and a follow-up)"))
	}, userlike.WithWebhookHeader("API-SECURITY-TOKEN", "hook"))
	if err != nil {
		log.Fatal(err)
	}
	fake.SetBot(bot)

	d, err := fake.Message(ctx, "chatbot::1:abc", "hello")
	if err != nil {
		log.Fatal(err)
	}
	got, err := fake.WaitFor(ctx, 1)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(d.StatusCode, d.Texts())
	fmt.Println(len(got), "API call:", fake.SentTexts())
	// Output:
	// 200 [You said: hello]
	// 1 API call: [(and a follow-up)]
}
