package botcopy_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"os"

	"github.com/botwire/botwire/botcopy"
	"github.com/botwire/botwire/botcopy/botcopytest"
)

// The proxy's webhook: open the conversation on the live-chat tool and keep
// the bot paused.
func ExampleNewHandler() {
	h, err := botcopy.NewHandler(os.Getenv("BOTCOPY_ACCESS_TOKEN"),
		func(ctx context.Context, r *botcopy.HandoverRequest) (botcopy.Decision, error) {
			if r.Kind() == botcopy.KindTrigger {
				fmt.Print(botcopy.FormatTranscript(botcopy.Transcript(r.MessageHistory)))
			}
			return botcopy.PauseFor(10), nil
		})
	if err != nil {
		log.Fatal(err)
	}
	http.Handle("/botcopy", h)
	log.Fatal(http.ListenAndServe(":8080", nil))
}

// The agent answers, shows typing while writing, and gives the user back to
// the bot.
func ExampleClient_KeepTyping() {
	client, err := botcopy.NewClient(os.Getenv("BOTCOPY_API_KEY"))
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	to := botcopy.Target{UserID: "user-123", BotID: "bot-456"}
	stop := client.KeepTyping(ctx, to) // re-sent every 9 s
	// ... the agent writes ...
	stop()
	if err := client.SendMessage(ctx, to, "Your order ships today."); err != nil {
		log.Print(err)
	}
	if err := client.Resume(ctx, to, botcopy.UnpauseDefault); err != nil {
		log.Print(err)
	}
}

// Rolling the access token: deploy with the new token as the access token
// and the old one previous, change the token in the Botcopy portal, then
// deploy without WithPreviousAccessTokens once no call uses the old token:
// the handler logs each one that does at debug, and the callback can tell
// from CredentialIndex.
func ExampleWithPreviousAccessTokens() {
	h, err := botcopy.NewHandler("new-token", func(ctx context.Context, r *botcopy.HandoverRequest) (botcopy.Decision, error) {
		if i, ok := botcopy.CredentialIndex(ctx); ok && i > 0 {
			fmt.Println("callback: called with previous token", i)
		}
		return botcopy.PauseFor(10), nil
	}, botcopy.WithPreviousAccessTokens("old-token"))
	if err != nil {
		log.Fatal(err)
	}
	// Botcopy sends the old token until the portal has the new one.
	for _, token := range []string{"old-token", "new-token", "wrong-token"} {
		fake := botcopytest.NewServer(botcopytest.Config{AccessToken: token, Bot: h})
		o, err := fake.Trigger(context.Background(), "user-1", "bot-1")
		fake.Close()
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(token, o.StatusCode, "paused:", o.Paused)
	}
	// Output:
	// callback: called with previous token 1
	// old-token 200 paused: true
	// new-token 200 paused: true
	// wrong-token 401 paused: false
}

// The portal's custom header rolls the same way, on its own: the new value
// in WithCustomHeader, the old one in WithPreviousCustomHeaderValues until
// the portal sends the new one.
func ExampleWithPreviousCustomHeaderValues() {
	h, err := botcopy.NewHandler("token", func(ctx context.Context, r *botcopy.HandoverRequest) (botcopy.Decision, error) {
		i, _ := botcopy.CredentialIndex(ctx)
		fmt.Println("callback: credential", i)
		return botcopy.PauseFor(10), nil
	}, botcopy.WithCustomHeader("X-Proxy-Check", "new-value"),
		botcopy.WithPreviousCustomHeaderValues("old-value"))
	if err != nil {
		log.Fatal(err)
	}
	for _, value := range []string{"old-value", "new-value"} {
		fake := botcopytest.NewServer(botcopytest.Config{AccessToken: "token",
			CustomHeader: "X-Proxy-Check", CustomValue: value, Bot: h})
		o, err := fake.Trigger(context.Background(), "user-1", "bot-1")
		fake.Close()
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(value, o.StatusCode)
	}
	// Output:
	// callback: credential 1
	// old-value 200
	// callback: credential 0
	// new-value 200
}

// Against the fake Botcopy, a handover plays in-process.
func ExampleHandoverRequest_Kind() {
	fake := botcopytest.NewServer(botcopytest.Config{AccessToken: "token"})
	defer fake.Close()
	h, _ := botcopy.NewHandler("token", func(ctx context.Context, r *botcopy.HandoverRequest) (botcopy.Decision, error) {
		fmt.Println(r.Kind(), r.Text())
		if r.Kind() == botcopy.KindUserMessage {
			return botcopy.EndLiveChat(), nil
		}
		return botcopy.PauseFor(10), nil
	})
	fake.SetBot(h)
	ctx := context.Background()
	o, _ := fake.Trigger(ctx, "user-1", "bot-1")
	fmt.Println("paused:", o.Paused)
	o, _ = fake.UserMessage(ctx, "user-1", "bot-1", "never mind")
	fmt.Println("paused:", o.Paused, "to Dialogflow:", o.ToDialogflow)
	// Output:
	// trigger I want to talk to a human
	// paused: true
	// user_message never mind
	// paused: false to Dialogflow: true
}

func ExampleDecision() {
	for _, d := range []botcopy.Decision{botcopy.PauseFor(5), botcopy.Continue(), botcopy.EndLiveChat()} {
		fmt.Println(d)
	}
	// Output:
	// pause 5 min
	// continue
	// end live chat
}
