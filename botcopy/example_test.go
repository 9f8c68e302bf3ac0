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
