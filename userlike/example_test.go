package userlike_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"os"

	"github.com/botwire/botwire/userlike"
	"github.com/botwire/botwire/userlike/userliketest"
)

// A bot answers each webhook event with actions; the header is the one set
// under "Webhook headers" in the Userlike dashboard.
func ExampleNewHandler() {
	h, err := userlike.NewHandler(func(ctx context.Context, e *userlike.Event, r *userlike.Reply) error {
		switch e.Packet.Name {
		case userlike.EventStart:
			r.Add(userlike.Message("Welcome!"))
		case userlike.EventMessage, userlike.EventClick:
			r.Add(userlike.Message("You said: " + e.Text()))
		}
		return nil
	}, userlike.WithWebhookHeader("API-SECURITY-TOKEN", os.Getenv("USERLIKE_WEBHOOK_TOKEN")))
	if err != nil {
		log.Fatal(err)
	}
	http.Handle("/userlike", h)
	log.Fatal(http.ListenAndServe(":8080", nil))
}

// The context keeps state between events: Userlike sends it back with the
// session's next event.
func ExampleReply_SetContext() {
	fake := userliketest.NewServer(userliketest.Config{WebhookHeader: "X-Token", WebhookToken: "t"})
	defer fake.Close()
	h, _ := userlike.NewHandler(func(ctx context.Context, e *userlike.Event, r *userlike.Reply) error {
		var state struct{ Count int }
		if err := e.DecodeContext(&state); err != nil {
			return err
		}
		state.Count++
		r.Add(userlike.Message(fmt.Sprintf("event number %d", state.Count)))
		return r.SetContext(state)
	}, userlike.WithWebhookHeader("X-Token", "t"))
	fake.SetBot(h)
	ctx := context.Background()
	for _, text := range []string{"a", "b", "c"} {
		res, _ := fake.Message(ctx, "chatbot::1:abc", text)
		fmt.Println(res.Texts())
	}
	// Output:
	// [event number 1]
	// [event number 2]
	// [event number 3]
}

// Rolling the webhook header's value: the handler takes the new value and,
// for the overlap, the old one; the bot sees which one each delivery used.
// Once the Userlike dashboard sends the new value and no delivery uses the
// old one any more, drop WithPreviousWebhookHeader.
func ExampleWithPreviousWebhookHeader() {
	h, err := userlike.NewHandler(func(ctx context.Context, e *userlike.Event, r *userlike.Reply) error {
		if i, ok := userlike.CredentialIndex(ctx); ok {
			fmt.Println(e.Text(), "authenticated with credential", i)
		}
		return nil
	},
		userlike.WithWebhookHeader("API-SECURITY-TOKEN", "new-token"),         // current
		userlike.WithPreviousWebhookHeader("API-SECURITY-TOKEN", "old-token")) // still accepted
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	for _, tok := range []string{"old-token", "new-token", "wrong"} {
		fake := userliketest.NewServer(userliketest.Config{WebhookHeader: "API-SECURITY-TOKEN", WebhookToken: tok, Bot: h})
		res, _ := fake.Message(ctx, "chatbot::1:abc", "sent with "+tok)
		fmt.Println(res.StatusCode)
		fake.Close()
	}
	// Output:
	// sent with old-token authenticated with credential 1
	// 200
	// sent with new-token authenticated with credential 0
	// 200
	// 401
}

// Actions marshal to the events Userlike expects.
func ExampleButtonTemplate() {
	r := userlike.NewReply("chatbot::258:a56785fb6fb84edd890905913b0c0821")
	r.Add(userlike.ButtonTemplate("Welcome! Please click 'start' to subscribe.", "Reply 1 to subscribe.",
		userlike.Choice{ID: "start", Label: "start"}))
	b, _ := json.Marshal(r.Events())
	fmt.Println(string(b))
	// Output: [{"info":{"cid":"chatbot::258:a56785fb6fb84edd890905913b0c0821"},"packet":{"name":"button_template","payload":{"body":"Welcome! Please click 'start' to subscribe.","options":[{"id":"start","label":"start"}],"fallback":"Reply 1 to subscribe."}}}]
}

// Bubbles that exceed a channel's limits are valid but shown as text there.
func ExampleAction_Warnings() {
	choices := make([]userlike.Choice, 11)
	for i := range choices {
		choices[i] = userlike.Choice{ID: fmt.Sprint(i), Label: fmt.Sprint("Option ", i)}
	}
	for _, w := range userlike.Bubbles("Pick one", "Answer with a number:", choices...).Warnings() {
		fmt.Println(w)
	}
	// Output: bubbles on whatsapp_business: 11 options exceed 10; sent as text with the fallback
}

// Answers that take a while go through the API URL; the client keeps each
// session under 20 requests a minute.
func ExampleClient_Send() {
	client, err := userlike.NewClient(os.Getenv("USERLIKE_API_URL"), os.Getenv("USERLIKE_API_TOKEN"))
	if err != nil {
		log.Fatal(err)
	}
	err = client.Send(context.Background(), "chatbot::258:a56785fb6fb84edd890905913b0c0821",
		userlike.Message("Your order A-1001 shipped today."), userlike.ForwardAny(""))
	if err != nil {
		log.Print(err)
	}
}
