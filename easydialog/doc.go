// Package easydialog connects a bot to HORISEN Business Messenger's Easy
// Dialog app through its Conversation API "Custom" adapter.
//
// Easy Dialog posts every inbound message to the bot's webhook, signed with
// X-BM-Signature (base64 of HMAC-SHA512 over the raw body, keyed with the
// adapter's signature key), and sends the customer the messages of the
// webhook's JSON answer. There is no Easy Dialog endpoint to call: the
// reply is the response body, so this package is a handler, its types, and
// builders for every message body.
//
//	h, err := easydialog.NewHandler(key, func(ctx context.Context, req *easydialog.Request) (*easydialog.Response, error) {
//		return easydialog.Reply(
//			easydialog.NewTextMessage("Hello "+req.Contact.Name()),
//			easydialog.NewLocationMessage(37.3348, -122.0089, "Apple Park", "").
//				WithSuggestions(easydialog.OpenURL("Website", "https://www.apple.com")),
//		), nil
//	})
//
// To roll the signature key, pass the new key to NewHandler and the old one
// to WithPreviousKeys until Easy Dialog signs with the new one only;
// CredentialIndex tells the callback which key signed its delivery.
//
// Where the vendor document is wrong or silent the package reads both forms
// and says so at the field: providerMsgID and sizes as numbers or strings
// (digits kept exactly), channel_opt_status(es), composeMessage "test" for
// "text", destinations as strings or objects, null contact fields. Package
// easydialogtest is a fake Easy Dialog for testing a bot end to end.
package easydialog
