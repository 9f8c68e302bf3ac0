package ultimate_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"os"
	"time"

	"github.com/botwire/botwire/ultimate"
	"github.com/botwire/botwire/ultimate/ultimatetest"
)

// Visitor events go to Ultimate; answers come back on the chat webhook.
func ExampleNewClient() {
	client, err := ultimate.NewClient(os.Getenv("ULTIMATE_API_KEY"), os.Getenv("ULTIMATE_BOT_ID"))
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	if err := client.StartSession(ctx, "13427e90-f76a-47c2-a26d-ea0b4f1836c5",
		ultimate.MetaData{Key: "email", Value: "ann@example.com", Sanitize: true}); err != nil {
		log.Print(err)
	}
}

// Both webhooks mounted, with basic authentication from the webhook URLs.
func ExampleNewChatHandler() {
	chat, err := ultimate.NewChatHandler(ultimate.ChatCallbacks{
		OnMessage: func(ctx context.Context, e *ultimate.ChatEvent, m *ultimate.Message) error {
			fmt.Println(m.PlatformConversationID, m.Text)
			return nil
		},
		OnEscalate: func(ctx context.Context, e *ultimate.ChatEvent, x *ultimate.Escalation) error {
			return ultimate.WithStatus(http.StatusServiceUnavailable, fmt.Errorf("no agent for %s", x.EscalateTo))
		},
		OnTeamOnline: func(ctx context.Context, e *ultimate.ChatEvent, q *ultimate.TeamOnlineQuery) (bool, error) {
			return false, nil
		},
	}, ultimate.WithBasicAuth("ultimate", os.Getenv("WEBHOOK_PASSWORD")))
	if err != nil {
		log.Fatal(err)
	}
	actions, err := ultimate.NewActionHandler(func(ctx context.Context, r *ultimate.ActionRequest) ([]ultimate.ActionResult, error) {
		return []ultimate.ActionResult{{Key: "balance", Value: "100.00"}}, nil
	}, ultimate.WithBasicAuth("ultimate", os.Getenv("WEBHOOK_PASSWORD")))
	if err != nil {
		log.Fatal(err)
	}
	http.Handle("/ultimate/chat", chat)
	http.Handle("/ultimate/actions", actions)
	log.Fatal(http.ListenAndServe(":8080", nil))
}

// The fake Ultimate's scripted agent answers on the webhook.
func ExampleClient_SendText() {
	got := make(chan string, 4)
	chat, _ := ultimate.NewChatHandler(ultimate.ChatCallbacks{
		OnMessage: func(ctx context.Context, e *ultimate.ChatEvent, m *ultimate.Message) error {
			got <- m.Text
			return nil
		},
	}, ultimate.WithoutAuthentication())
	fake := ultimatetest.NewServer(ultimatetest.Config{APIKey: "key", BotID: "618a30beee4e8e87d2f94015", Bot: chat})
	defer fake.Close()
	client, _ := ultimate.NewClient("key", "618a30beee4e8e87d2f94015", ultimate.WithBaseURL(fake.URL))
	if err := client.SendText(context.Background(), "conv-1", "I want to make a refund"); err != nil {
		log.Fatal(err)
	}
	select {
	case text := <-got:
		fmt.Println(text)
	case <-time.After(5 * time.Second):
		fmt.Println("no answer")
	}
	// Output: You said: I want to make a refund
}

// metaData goes out as a list, whatever form the doc's snippets use.
func ExampleConverseRequest() {
	idx := 1
	b, _ := json.Marshal(ultimate.ConverseRequest{PlatformConversationID: "00000001", EventType: ultimate.ConverseMessage,
		Text: "secondCardButton", CardIndex: &idx, MetaData: []ultimate.MetaData{{Key: "userId", Value: "54321"}}})
	fmt.Println(string(b))
	// Output: {"platformConversationId":"00000001","eventType":"message","text":"secondCardButton","cardIndex":1,"metaData":[{"key":"userId","value":"54321"}]}
}
