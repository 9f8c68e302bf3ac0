package onetalktest_test

import (
	"context"
	"fmt"
	"log"

	"github.com/botwire/botwire/onetalk"
	"github.com/botwire/botwire/onetalk/onetalktest"
)

// A small echo bot tested end to end: the fake delivers a customer's text
// with the right secret, the bot answers through its client, and the fake
// records what OneTalk would have received.
func Example() {
	ctx := context.Background()
	fake := onetalktest.NewServer(onetalktest.Config{Secret: "secret"})
	defer fake.Close()

	client, err := onetalk.NewClient(fake.URL, "secret")
	if err != nil {
		log.Fatal(err)
	}
	bot, err := onetalk.NewHandler("secret", func(ctx context.Context, in *onetalk.InboundRequest) error {
		return client.SendMessages(ctx, in.CaseID, onetalk.NewText("You said: "+in.Message.Body()))
	})
	if err != nil {
		log.Fatal(err)
	}
	fake.SetBot(bot)

	d, err := fake.Deliver(ctx, onetalktest.Text("CASE1", "hello"))
	if err != nil {
		log.Fatal(err)
	}
	got, err := fake.WaitFor(ctx, 1)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("bot answered", d.StatusCode)
	fmt.Println("OneTalk received:", got[0].Request.Messages[0].Text.Body)
	// Output:
	// bot answered 200
	// OneTalk received: You said: hello
}
