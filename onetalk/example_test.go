package onetalk_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net/http"
	"os"

	"github.com/botwire/botwire/onetalk"
	"github.com/botwire/botwire/onetalk/onetalktest"
)

// A bot mounts the handler at the API URL it set in the OneTalk dashboard and
// answers through the client.
func ExampleNewHandler() {
	secret := os.Getenv("ONETALK_SECRET")
	client, err := onetalk.NewClient(os.Getenv("ONETALK_URL"), secret)
	if err != nil {
		log.Fatal(err)
	}
	bot, err := onetalk.NewHandler(secret, func(ctx context.Context, in *onetalk.InboundRequest) error {
		return client.SendMessages(ctx, in.CaseID, onetalk.NewText("You said: "+in.Message.Body()))
	})
	if err != nil {
		log.Fatal(err)
	}
	http.Handle("/onetalk", bot)
	log.Fatal(http.ListenAndServe(":8080", nil))
}

// Rolling the secret key: deploy with the new key as the secret and the old
// one previous, change the key in the OneTalk dashboard, then deploy
// without WithPreviousSecrets once no delivery uses the old key: the
// handler logs each one that does at debug, and the callback can tell from
// CredentialIndex.
func ExampleWithPreviousSecrets() {
	bot, err := onetalk.NewHandler("new-secret", func(ctx context.Context, in *onetalk.InboundRequest) error {
		if i, ok := onetalk.CredentialIndex(ctx); ok && i > 0 {
			fmt.Println("callback: delivered with previous key", i)
		}
		return nil
	}, onetalk.WithPreviousSecrets("old-secret"))
	if err != nil {
		log.Fatal(err)
	}
	// OneTalk sends the old key until the dashboard has the new one.
	for _, key := range []string{"old-secret", "new-secret", "wrong-secret"} {
		fake := onetalktest.NewServer(onetalktest.Config{Secret: key, Bot: bot})
		d, err := fake.Deliver(context.Background(), onetalktest.Text("FBED34A1EF", "hi"))
		fake.Close()
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(key, d.StatusCode)
	}
	// Output:
	// callback: delivered with previous key 1
	// old-secret 200
	// new-secret 200
	// wrong-secret 401
}

// OneTalk's inbound queue waits for each answer, so a bot that calls slow
// services should acknowledge at once and work from a bounded pool.
func ExampleWithAsync() {
	bot, err := onetalk.NewHandler("secret", func(ctx context.Context, in *onetalk.InboundRequest) error {
		return nil // slow work here
	}, onetalk.WithAsync(8, 1024))
	if err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{Addr: ":8080", Handler: bot}
	// ... on SIGTERM:
	ctx := context.Background()
	_ = srv.Shutdown(ctx) // stop taking requests
	_ = bot.Shutdown(ctx) // then drain the queue
}

// Against the fake OneTalk of onetalktest, a whole exchange runs in-process.
func ExampleClient_SendMessages() {
	fake := onetalktest.NewServer(onetalktest.Config{Secret: "secret"})
	defer fake.Close()
	client, err := onetalk.NewClient(fake.URL, "secret")
	if err != nil {
		log.Fatal(err)
	}
	err = client.SendMessages(context.Background(), "FBED34A1EF",
		onetalk.NewText("Hi! What can I do for you?"),
		onetalk.NewReplyButtons("Pick one",
			onetalk.ReplyButton{ID: "/hours", Title: "Opening hours"},
			onetalk.ReplyButton{ID: "/agent", Title: "Talk to agent"}),
	)
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range fake.Received() {
		fmt.Println(r.Request.EventType, len(r.Request.Messages), "messages;",
			"Secret-Key sent:", r.RawHeader().Get(onetalk.ClientSecretHeader) == "secret")
	}
	// Output: messages 2 messages; Secret-Key sent: true
}

// Validation runs before anything is sent and names the field and the limit.
func ExampleOutboundMessage_Validate() {
	msg := onetalk.NewList("Pick a topic", "A button text that is far too long",
		onetalk.Section{Rows: []onetalk.Row{{ID: "/a", Title: "Billing"}}})
	err := msg.Validate()
	fmt.Println(err)
	fmt.Println(errors.Is(err, onetalk.ErrInvalidRequest))
	// Output:
	// onetalk: message.whatsappba.interactive.listAction.button: at most 20 characters, got 34
	// true
}

// UpdateContact sends only the fields that are set; String("") clears one.
func ExampleClient_UpdateContact() {
	u := onetalk.UpdateContact{
		JobTitle:     onetalk.String(""),
		CustomFields: map[string]string{"products": onetalk.MultiSelect("OneTalk", "SendTalk")},
	}
	b, _ := json.Marshal(u)
	fmt.Println(string(b))
	// Output: {"jobTitle":"","customFields":{"products":"[\"OneTalk\",\"SendTalk\"]"}}
}

func ExampleVerifySecret() {
	err := onetalk.VerifySecret("guess", "the-real-secret")
	fmt.Println(err, errors.Is(err, onetalk.ErrInvalidSecret))
	// Output: onetalk: invalid secret key true
}
