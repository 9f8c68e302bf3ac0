package botcopytest_test

import (
	"context"
	"fmt"
	"log"

	"github.com/botwire/botwire/botcopy"
	"github.com/botwire/botwire/botcopy/botcopytest"
)

// A small proxy tested end to end: the fake triggers a handover, the proxy
// keeps the bot paused and answers through the push client, and the fake
// records the push and keeps the pause.
func Example() {
	ctx := context.Background()
	fake := botcopytest.NewServer(botcopytest.Config{AccessToken: "token", APIKey: "key"})
	defer fake.Close()
	client, err := botcopy.NewClient("key", botcopy.WithBaseURL(fake.URL))
	if err != nil {
		log.Fatal(err)
	}
	proxy, err := botcopy.NewHandler("token", func(ctx context.Context, r *botcopy.HandoverRequest) (botcopy.Decision, error) {
		to := botcopy.Target{UserID: r.UserID, BotID: r.BotID}
		return botcopy.PauseFor(10), client.SendMessage(ctx, to, "An agent will be with you shortly.")
	})
	if err != nil {
		log.Fatal(err)
	}
	fake.SetBot(proxy)

	d, err := fake.Trigger(ctx, "user-1", "bot-1")
	if err != nil {
		log.Fatal(err)
	}
	got, err := fake.WaitFor(ctx, 1)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("decision:", d.Decision, "paused:", d.Paused)
	fmt.Println("pushed:", got[0].Request.Text)
	// Output:
	// decision: pause 10 min paused: true
	// pushed: An agent will be with you shortly.
}
