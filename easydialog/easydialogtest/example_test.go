package easydialogtest_test

import (
	"context"
	"fmt"
	"log"
	"strings"

	"github.com/botwire/botwire/easydialog"
	"github.com/botwire/botwire/easydialog/easydialogtest"
)

// A small bot tested end to end: the fake encodes and signs a customer's
// text as Easy Dialog does, and decodes and validates the bot's reply.
func Example() {
	bot, err := easydialog.NewHandler("key", func(_ context.Context, req *easydialog.Request) (*easydialog.Response, error) {
		return easydialog.Reply(easydialog.NewTextMessage(strings.ToUpper(req.Message.Text()))), nil
	})
	if err != nil {
		log.Fatal(err)
	}
	fake := easydialogtest.NewServer(easydialogtest.Config{SignatureKey: "key", Bot: bot})
	defer fake.Close()

	d, err := fake.Deliver(context.Background(), easydialogtest.Text("dialog-1", "hello"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(d.StatusCode, d.Texts())
	// Output: 200 [HELLO]
}
