// Package userlike connects a bot to Userlike through its Chatbot API.
//
// Userlike posts every chat event of a bot session (start, message, click,
// media, ...) to the bot's Webhook URL with the headers chosen in its
// dashboard; NewHandler builds that endpoint, and the bot answers by adding
// actions (message, bubbles, forward_any, ...) to the Reply, written as the
// response body. For answers that take a while, NewClient calls the bot's
// API URL with the SECURITY-TOKEN header, and keeps each session under
// Userlike's 20 requests per minute.
//
//	h, err := userlike.NewHandler(func(ctx context.Context, e *userlike.Event, r *userlike.Reply) error {
//		switch e.Packet.Name {
//		case userlike.EventStart:
//			r.Add(userlike.Bubbles("Hi! How can I help?", "Please answer with a number:",
//				userlike.Choice{ID: "delivery", Label: "Delivery status"},
//				userlike.Choice{ID: "human", Label: "Talk to a human"}))
//		case userlike.EventMessage, userlike.EventClick:
//			r.Add(userlike.Message("You said: " + e.Text()))
//		}
//		return nil
//	}, userlike.WithWebhookHeader("API-SECURITY-TOKEN", token))
//
// The public doc lost the tables of payload parameters: what is known is
// modelled, inferred fields say so in their doc comments, and every payload
// stays reachable as raw JSON (Event.DecodePayload, Custom). State between
// events is kept in the session's context (Reply.SetContext,
// Event.DecodeContext). Package userliketest is a fake Userlike for testing
// a bot end to end.
package userlike
