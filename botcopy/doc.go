// Package botcopy connects a live-chat tool to Botcopy's human handover:
// the bot developer writes the proxy between them.
//
// When Dialogflow's answer carries the handover trigger, Botcopy calls the
// proxy's webhook with the message history (a trigger); while the bot is
// paused, it calls it again for every user message. The proxy answers
// within 5 seconds whether the bot stays paused; NewHandler builds that
// webhook, runs the callback under a deadline and answers a fallback
// decision when it is late. The proxy pushes the agent's messages, pause
// and resume updates, and typing indicators with NewClient.
//
//	h, err := botcopy.NewHandler(accessToken, func(ctx context.Context, r *botcopy.HandoverRequest) (botcopy.Decision, error) {
//		if r.Kind() == botcopy.KindTrigger {
//			desk.Open(r.UserID, botcopy.FormatTranscript(botcopy.Transcript(r.MessageHistory)))
//		} else {
//			desk.Show(r.UserID, r.Text())
//		}
//		return botcopy.Pause(10), nil
//	})
//
// The doc's auth history is tolerated (Authorization raw, with "Bearer ",
// or the legacy body accessToken), and so are its inconsistent history
// items. Package botcopytest is a fake Botcopy for testing a proxy end to
// end.
package botcopy
