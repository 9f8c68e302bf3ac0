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
//		// ctx ends at the response deadline: pass it to every call that
//		// can be slow, so late work stops when the fallback is answered.
//		var err error
//		if r.Kind() == botcopy.KindTrigger {
//			err = desk.Open(ctx, r.UserID, botcopy.FormatTranscript(botcopy.Transcript(r.MessageHistory)))
//		} else {
//			err = desk.Show(ctx, r.UserID, r.Text())
//		}
//		return botcopy.PauseFor(10), err
//	})
//
// The answer (the decision, or the fallback at the deadline) is complete on
// the wire by the deadline whatever the callback does; until the callback
// returns, though, its connection serves no other request, so a callback
// that ignores ctx only delays the next webhook on that connection. Work
// that must outlive the answer belongs on a goroutine of its own with
// context.WithoutCancel(ctx).
//
// The doc's auth history is tolerated (Authorization raw, with "Bearer ",
// or the legacy body accessToken), and so are its inconsistent history
// items. Package botcopytest is a fake Botcopy for testing a proxy end to
// end.
package botcopy
