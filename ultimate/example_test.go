package ultimate_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
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

// Rolling the basic-auth password of the webhook URLs: both webhooks take
// the new password and, for the overlap, the old one; the bot sees which
// one each call used. Once the webhook URLs in Ultimate carry the new
// password and no call uses the old one any more, drop
// WithPreviousBasicAuthPasswords.
func ExampleWithPreviousBasicAuthPasswords() {
	chat, err := ultimate.NewChatHandler(ultimate.ChatCallbacks{
		OnMessage: func(ctx context.Context, e *ultimate.ChatEvent, m *ultimate.Message) error {
			if i, ok := ultimate.CredentialIndex(ctx); ok {
				fmt.Println(m.Text, "authenticated with credential", i)
			}
			return nil
		},
	},
		ultimate.WithBasicAuth("ultimate", "new-password"),      // current
		ultimate.WithPreviousBasicAuthPasswords("old-password")) // still accepted
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	for _, pass := range []string{"old-password", "new-password", "wrong"} {
		fake := ultimatetest.NewServer(ultimatetest.Config{APIKey: "key", BotID: "618a30beee4e8e87d2f94015", Bot: chat,
			WebhookUser: "ultimate", WebhookPassword: pass})
		d, _ := fake.Deliver(ctx, map[string]any{"eventType": ultimate.EventSendMessage, "platformConversationId": "conv-1",
			"type": ultimate.MessageText, "text": "sent with " + pass})
		fmt.Println(d.StatusCode)
		fake.Close()
	}
	// Output:
	// sent with old-password authenticated with credential 1
	// 200
	// sent with new-password authenticated with credential 0
	// 200
	// 401
}

// Rolling a webhook header's value works the same way: the new value in
// WithWebhookHeader, the old one in WithPreviousWebhookHeader until what
// sends the header sends the new one.
func ExampleWithPreviousWebhookHeader() {
	actions, err := ultimate.NewActionHandler(func(ctx context.Context, r *ultimate.ActionRequest) ([]ultimate.ActionResult, error) {
		if i, ok := ultimate.CredentialIndex(ctx); ok && i > 0 {
			fmt.Println(r.Name, "called with a previous token")
		}
		return []ultimate.ActionResult{{Key: "status", Value: "shipped"}}, nil
	},
		ultimate.WithWebhookHeader("X-Ultimate-Token", "new-token"),         // current
		ultimate.WithPreviousWebhookHeader("X-Ultimate-Token", "old-token")) // still accepted
	if err != nil {
		log.Fatal(err)
	}
	for _, tok := range []string{"old-token", "new-token", "wrong"} {
		r := httptest.NewRequest(http.MethodPost, "/ultimate/actions",
			strings.NewReader(`{"platformConversationId":"conv-1","name":"getOrderStatus","data":[]}`))
		r.Header.Set("X-Ultimate-Token", tok)
		rec := httptest.NewRecorder()
		actions.ServeHTTP(rec, r)
		fmt.Println(rec.Code)
	}
	// Output:
	// getOrderStatus called with a previous token
	// 200
	// 200
	// 401
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
