package easydialog_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"os"

	"github.com/botwire/botwire/easydialog"
	"github.com/botwire/botwire/easydialog/easydialogtest"
)

// The bot's reply is the webhook's response body.
func ExampleNewHandler() {
	h, err := easydialog.NewHandler(os.Getenv("EASYDIALOG_SIGNATURE_KEY"),
		func(ctx context.Context, req *easydialog.Request) (*easydialog.Response, error) {
			return easydialog.Reply(easydialog.NewTextMessage("Hello " + req.Contact.Name())), nil
		})
	if err != nil {
		log.Fatal(err)
	}
	http.Handle("/easydialog", h)
	log.Fatal(http.ListenAndServe(":8080", nil))
}

// The fake Easy Dialog signs and delivers a request and decodes the reply.
func ExampleNewHandler_test() {
	bot, _ := easydialog.NewHandler("key", func(ctx context.Context, req *easydialog.Request) (*easydialog.Response, error) {
		return easydialog.Reply(easydialog.NewTextMessage("Hello " + req.Contact.Name())), nil
	})
	fake := easydialogtest.NewServer(easydialogtest.Config{SignatureKey: "key", Bot: bot})
	res, err := fake.Deliver(context.Background(), easydialogtest.Text("dialog-1", "Hi"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.StatusCode, res.Texts())
	// Output: 200 [Hello John Doe]
}

// Rolling the signature key: the bot is deployed with the new key current
// and the old one previous, so deliveries signed with either pass while
// Easy Dialog's adapter is switched; CredentialIndex tells the callback
// which key signed (0 the new one, 1 the old one). Once the old key is no
// longer used (the handler logs each use at debug level), the bot is
// deployed again without WithPreviousKeys.
func ExampleWithPreviousKeys() {
	bot, err := easydialog.NewHandler("new-key",
		func(ctx context.Context, req *easydialog.Request) (*easydialog.Response, error) {
			i, _ := easydialog.CredentialIndex(ctx)
			return easydialog.Reply(easydialog.NewTextMessage(fmt.Sprintf("signed with key %d", i))), nil
		},
		easydialog.WithPreviousKeys("old-key"))
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	for _, key := range []string{"old-key", "new-key", "another-key"} {
		platform := easydialogtest.NewServer(easydialogtest.Config{SignatureKey: key, Bot: bot})
		res, err := platform.Deliver(ctx, easydialogtest.Text("dialog-1", "Hi"))
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(key, res.StatusCode, res.Texts())
	}
	// Output:
	// old-key 200 [signed with key 1]
	// new-key 200 [signed with key 0]
	// another-key 401 []
}

// A body may hold a message and suggestions together, as in the doc.
func ExampleOutboundMessage_WithSuggestions() {
	msg := easydialog.NewLocationMessage(37.3348, -122.0089, "Apple Park", "").
		WithSuggestions(easydialog.OpenURL("Website", "https://www.apple.com"))
	b, _ := json.Marshal(easydialog.Reply(msg))
	fmt.Println(string(b))
	// Output: {"messages":[{"body":{"locationMessage":{"latitude":37.3348,"longitude":-122.0089,"text":"Apple Park"},"suggestionsMessage":{"suggestions":[{"text":"Website","openUrl":{"url":"https://www.apple.com"}}]}}}]}
}

// Verify over the raw bytes: PHP writes "\/" where Go would write "/".
func ExampleVerifySignature() {
	body := []byte(`{"message":{"from":"RC32utNr+lEKr\/Gij0TYTw=="}}`)
	sig := easydialog.Sign(body, "key")
	fmt.Println(easydialog.VerifySignature(body, sig, "key"))
	fmt.Println(easydialog.VerifySignature(body, sig, "another key"))
	// Output:
	// <nil>
	// easydialog: invalid signature
}

// During a rotation the signature may be made with the new key or with a
// previous one.
func ExampleVerifySignature_rotation() {
	body := []byte(`{"message":{"body":{"textMessage":{"content":"hi"}}}}`)
	fmt.Println(easydialog.VerifySignature(body, easydialog.Sign(body, "old-key"), "new-key", "old-key"))
	fmt.Println(easydialog.VerifySignature(body, easydialog.Sign(body, "new-key"), "new-key", "old-key"))
	fmt.Println(easydialog.VerifySignature(body, easydialog.Sign(body, "old-key"), "new-key"))
	// Output:
	// <nil>
	// <nil>
	// easydialog: invalid signature
}

func ExampleTimestamp_Time() {
	ts := easydialog.Timestamp{Date: "2022-06-09 12:26:15.904000", TimezoneType: 3, Timezone: "Europe/Zurich"}
	t, err := ts.Time()
	fmt.Println(t.UTC(), err)
	// Output: 2022-06-09 10:26:15.904 +0000 UTC <nil>
}
