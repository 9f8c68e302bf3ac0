// Package onetalk connects a bot to OneTalk (TapTalk.io) as a custom
// chatbot.
//
// OneTalk posts every message a connected channel receives to the bot's API
// URL with the chatbot's secret key in X-Secret-Key; NewHandler builds that
// endpoint. The bot answers, hands over to a human, closes or updates the
// case by posting to the OneTalk URL generated with the chatbot, with the
// same key in Secret-Key; NewClient builds that client.
//
//	client, err := onetalk.NewClient(oneTalkURL, secret)
//	...
//	h, err := onetalk.NewHandler(secret, func(ctx context.Context, in *onetalk.InboundRequest) error {
//		if in.Message.ReplyID() == "/agent" {
//			return client.HandoverCase(ctx, in.CaseID, onetalk.HandoverCase{})
//		}
//		return client.SendMessages(ctx, in.CaseID, onetalk.NewText("You said: "+in.Message.Body()))
//	}, onetalk.WithAsync(4, 64))
//	...
//	http.Handle("/onetalk", h)
//
// Where the vendor document is wrong or silent the package reads both forms
// and says so at the field: a video arrives under the key "image", the
// OneTalk URL's answer body is undocumented, and newer fields (channelID,
// customerUserID, timestamp, WhatsApp Flows, customData) come from later
// revisions of the doc. Package onetalktest is a fake OneTalk for testing a
// bot end to end.
package onetalk
