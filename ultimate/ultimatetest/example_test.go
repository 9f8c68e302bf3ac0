package ultimatetest_test

import (
	"context"
	"fmt"
	"log"

	"github.com/botwire/botwire/ultimate"
	"github.com/botwire/botwire/ultimate/ultimatetest"
)

// A small relay tested end to end: the visitor's text goes to the fake's
// scripted agent through the client, the agent answers on the chat
// webhook; Deliver sends an event of your own and decodes the answer.
func Example() {
	ctx := context.Background()
	said := make(chan string, 4)
	chat, err := ultimate.NewChatHandler(ultimate.ChatCallbacks{
		OnMessage: func(_ context.Context, _ *ultimate.ChatEvent, m *ultimate.Message) error {
			said <- m.Text
			return nil
		},
		OnTeamOnline: func(context.Context, *ultimate.ChatEvent, *ultimate.TeamOnlineQuery) (bool, error) {
			return true, nil
		},
	}, ultimate.WithWebhookHeader("X-Token", "t"))
	if err != nil {
		log.Fatal(err)
	}
	fake := ultimatetest.NewServer(ultimatetest.Config{APIKey: "key", BotID: "618a30beee4e8e87d2f94015",
		Bot: chat, WebhookHeader: "X-Token", WebhookToken: "t"})
	defer fake.Close()
	client, err := ultimate.NewClient("key", "618a30beee4e8e87d2f94015", ultimate.WithBaseURL(fake.URL))
	if err != nil {
		log.Fatal(err)
	}

	if err := client.SendText(ctx, "conv-1", "hello"); err != nil {
		log.Fatal(err)
	}
	fmt.Println("agent said:", <-said)

	d, err := fake.Deliver(ctx, map[string]any{"eventType": ultimate.EventIsTeamOnline, "platformConversationId": "conv-1"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("isTeamOnline:", d.StatusCode, *d.IsOnline)
	// Output:
	// agent said: You said: hello
	// isTeamOnline: 200 true
}
