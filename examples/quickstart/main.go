// Command quickstart shows botwire end to end with nothing but Go: it starts
// a fake OneTalk and the echo bot of examples/onetalk-echo on loopback, plays
// a short conversation, and prints the transcript.
//
//	go run ./examples/quickstart
package main

import (
	"context"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"strings"
	"time"

	"github.com/botwire/botwire/botcopy"
	"github.com/botwire/botwire/botcopy/botcopytest"
	"github.com/botwire/botwire/easydialog"
	"github.com/botwire/botwire/easydialog/easydialogtest"
	"github.com/botwire/botwire/examples/botcopy-handover/desk"
	edecho "github.com/botwire/botwire/examples/easydialog-echo/echo"
	"github.com/botwire/botwire/examples/onetalk-echo/echo"
	"github.com/botwire/botwire/examples/ultimate-relay/relay"
	"github.com/botwire/botwire/examples/userlike-faq/faq"
	"github.com/botwire/botwire/onetalk"
	"github.com/botwire/botwire/onetalk/onetalktest"
	"github.com/botwire/botwire/ultimate"
	"github.com/botwire/botwire/ultimate/ultimatetest"
	"github.com/botwire/botwire/userlike"
	"github.com/botwire/botwire/userlike/userliketest"
)

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

func run(out io.Writer) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	fmt.Fprintln(out, "== OneTalk: a customer talks to the echo bot through a fake OneTalk ==")
	if err := oneTalk(ctx, out); err != nil {
		return fmt.Errorf("onetalk: %w", err)
	}
	fmt.Fprintln(out, "\n== Easy Dialog: a customer talks to the echo bot through a fake Easy Dialog ==")
	if err := easyDialog(ctx, out); err != nil {
		return fmt.Errorf("easydialog: %w", err)
	}
	fmt.Fprintln(out, "\n== Userlike: a contact talks to the FAQ bot through a fake Userlike ==")
	if err := userLike(ctx, out); err != nil {
		return fmt.Errorf("userlike: %w", err)
	}
	fmt.Fprintln(out, "\n== Ultimate: a web chat relays a visitor to a fake Ultimate's scripted virtual agent ==")
	if err := ultimateRelay(ctx, out); err != nil {
		return fmt.Errorf("ultimate: %w", err)
	}
	fmt.Fprintln(out, "\n== Botcopy: a fake Botcopy hands a user over to the console agent desk ==")
	if err := botcopyHandover(ctx, out); err != nil {
		return fmt.Errorf("botcopy: %w", err)
	}
	return nil
}

func oneTalk(ctx context.Context, out io.Writer) error {
	const secret = "quickstart-secret"
	fake := onetalktest.NewServer(onetalktest.Config{Secret: secret})
	defer fake.Close()

	client, err := onetalk.NewClient(fake.URL, secret)
	if err != nil {
		return err
	}
	bot, err := onetalk.NewHandler(secret, echo.Bot(client), onetalk.WithAsync(1, 16))
	if err != nil {
		return err
	}
	srv := httptest.NewServer(bot)
	defer srv.Close()
	fake.SetBotURL(srv.URL)

	const caseID = "FBED34A1EF"
	script := []struct {
		say string
		in  *onetalk.InboundRequest
	}{
		{`text "hello"`, onetalktest.Text(caseID, "hello")},
		{`text "menu"`, onetalktest.Text(caseID, "menu")},
		{`clicks "Opening hours"`, onetalktest.ButtonReply(caseID, echo.IDHours, "Opening hours")},
		{`image "receipt"`, onetalktest.Image(caseID, "https://example.com/receipt.jpg", "receipt")},
		{`clicks "Talk to agent"`, onetalktest.ButtonReply(caseID, echo.IDAgent, "Talk to agent")},
	}
	seen := 0
	for _, step := range script {
		fmt.Fprintf(out, "customer  %s\n", step.say)
		d, err := fake.Deliver(ctx, step.in)
		if err != nil {
			return err
		}
		if d.StatusCode != 200 {
			return fmt.Errorf("bot answered %d to %s", d.StatusCode, step.say)
		}
		// The bot acknowledged at once (async mode); wait for its replies.
		want := seen + 1
		if step.in.Message.ReplyID() == echo.IDAgent {
			want = seen + 2 // a message, then the handover
		}
		reqs, err := fake.WaitFor(ctx, want)
		if err != nil {
			return err
		}
		for _, r := range reqs[seen:] {
			if r.Status != 200 {
				return fmt.Errorf("fake OneTalk refused the bot's request: %v", r.Err)
			}
			fmt.Fprintf(out, "bot       %s\n", describe(r.Request))
		}
		seen = len(reqs)
	}
	if err := bot.Shutdown(ctx); err != nil {
		return err
	}
	fmt.Fprintf(out, "(%d requests reached the fake OneTalk URL, all with a valid Secret-Key and body)\n", seen)
	return nil
}

func describe(w *onetalk.WebhookRequest) string {
	switch w.EventType {
	case onetalk.EventMessages:
		var parts []string
		for _, m := range w.Messages {
			parts = append(parts, describeMessage(m))
		}
		return strings.Join(parts, " | ")
	case onetalk.EventHandoverCase:
		return "hands the case over to an agent: " + w.HandoverCase.ChatbotHandoverSummary
	}
	return string(w.EventType)
}

func describeMessage(m onetalk.OutboundMessage) string {
	switch {
	case m.Text != nil:
		return fmt.Sprintf("text %q", m.Text.Body)
	case m.WhatsAppBA != nil && m.WhatsAppBA.Interactive != nil && m.WhatsAppBA.Interactive.ButtonAction != nil:
		in := m.WhatsAppBA.Interactive
		var titles []string
		for _, b := range in.ButtonAction.Buttons {
			titles = append(titles, "["+b.Reply.Title+"]")
		}
		return fmt.Sprintf("buttons %q %s", in.Body.Text, strings.Join(titles, " "))
	}
	return m.Type
}

// easyDialog signs each message as Easy Dialog does (over PHP-encoded JSON)
// and prints the reply the bot wrote in its response body.
func easyDialog(ctx context.Context, out io.Writer) error {
	const key = "quickstart-signature-key"
	bot, err := easydialog.NewHandler(key, edecho.Bot)
	if err != nil {
		return err
	}
	srv := httptest.NewServer(bot)
	defer srv.Close()
	fake := easydialogtest.NewServer(easydialogtest.Config{SignatureKey: key, BotURL: srv.URL})
	defer fake.Close()
	for _, text := range []string{"hello", "products", "where"} {
		fmt.Fprintf(out, "customer  text %q\n", text)
		res, err := fake.Deliver(ctx, easydialogtest.Text("d5f7d6dd-dc30-451d-a442-a920fdbd6704", text))
		if err != nil {
			return err
		}
		if res.StatusCode != 200 {
			return fmt.Errorf("bot answered %d", res.StatusCode)
		}
		for _, m := range res.Reply.Messages {
			fmt.Fprintf(out, "bot       %s\n", describeBody(m.Body))
		}
	}
	wrong := easydialogtest.NewServer(easydialogtest.Config{SignatureKey: "not-the-key", BotURL: srv.URL})
	res, err := wrong.Deliver(ctx, easydialogtest.Text("d1", "forged"))
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "(a request signed with the wrong key got %d)\n", res.StatusCode)
	return nil
}

func describeBody(b easydialog.Body) string {
	var parts []string
	if b.Text != nil {
		parts = append(parts, fmt.Sprintf("text %q", b.Text.Content))
	}
	if b.Location != nil {
		parts = append(parts, fmt.Sprintf("location %q (%.4f, %.4f)", b.Location.Text, b.Location.Latitude, b.Location.Longitude))
	}
	if b.CardCarousel != nil {
		var titles []string
		for _, c := range b.CardCarousel.Content {
			titles = append(titles, "["+c.Title+"]")
		}
		parts = append(parts, "cards "+strings.Join(titles, " "))
	}
	if b.Suggestions != nil {
		var labels []string
		for _, s := range b.Suggestions.Suggestions {
			labels = append(labels, "("+s.Text+")")
		}
		parts = append(parts, "suggestions "+strings.Join(labels, " "))
	}
	return strings.Join(parts, " + ")
}

// userLike plays the doc's example flow: the answer to the order lookup
// arrives later through the API URL, and the context carries the state.
func userLike(ctx context.Context, out io.Writer) error {
	fake := userliketest.NewServer(userliketest.Config{
		WebhookHeader: "API-SECURITY-TOKEN", WebhookToken: "quickstart-webhook-token", APIToken: "quickstart-api-token",
	})
	defer fake.Close()
	client, err := userlike.NewClient(fake.URL, "quickstart-api-token")
	if err != nil {
		return err
	}
	bot := &faq.Bot{Client: client, Lookup: func(context.Context, string) (string, error) {
		return "shipped today, arriving in 2 days", nil
	}}
	h, err := userlike.NewHandler(bot.Handle, userlike.WithWebhookHeader("API-SECURITY-TOKEN", "quickstart-webhook-token"))
	if err != nil {
		return err
	}
	fake.SetBot(h)

	const cid = "chatbot::258:a56785fb6fb84edd890905913b0c0821"
	steps := []struct {
		say     string
		deliver func() (*userliketest.Delivery, error)
	}{
		{"starts a chat", func() (*userliketest.Delivery, error) { return fake.Start(ctx, cid) }},
		{`clicks "Delivery status"`, func() (*userliketest.Delivery, error) {
			return fake.Click(ctx, cid, faq.ChoiceDelivery, "Delivery status")
		}},
		{`text "A-1001"`, func() (*userliketest.Delivery, error) { return fake.Message(ctx, cid, "A-1001") }},
	}
	for _, st := range steps {
		fmt.Fprintf(out, "contact   %s\n", st.say)
		res, err := st.deliver()
		if err != nil {
			return err
		}
		if res.StatusCode != 200 {
			return fmt.Errorf("bot answered %d", res.StatusCode)
		}
		for _, e := range res.Events {
			fmt.Fprintf(out, "bot       %s\n", describeAction(e.Packet))
		}
		fmt.Fprintf(out, "          (context kept by Userlike: %s)\n", fake.Context(cid))
	}
	calls, err := fake.WaitFor(ctx, 2)
	if err != nil {
		return err
	}
	bot.Wait()
	for _, c := range calls {
		for _, e := range c.Events {
			fmt.Fprintf(out, "bot (API) %s\n", describeAction(e.Packet))
		}
	}
	fmt.Fprintf(out, "contact   clicks \"Talk to a human\"\n")
	res, err := fake.Click(ctx, cid, faq.ChoiceHuman, "Talk to a human")
	if err != nil {
		return err
	}
	for _, e := range res.Events {
		fmt.Fprintf(out, "bot       %s\n", describeAction(e.Packet))
	}
	return nil
}

func describeAction(a userlike.Action) string {
	switch p := a.Payload.(type) {
	case *userlike.MessageAction:
		return fmt.Sprintf("message %q", p.Body)
	case *userlike.ChoicePayload:
		var labels []string
		for _, o := range p.Options {
			labels = append(labels, "("+o.Label+")")
		}
		return fmt.Sprintf("bubbles %q %s", p.Body, strings.Join(labels, " "))
	}
	return a.Name
}

// ultimateRelay sends the visitor's events to the fake Ultimate; its agent
// answers on the relay's webhooks, asynchronously, as Ultimate does.
func ultimateRelay(ctx context.Context, out io.Writer) error {
	const key, botID, user, pass = "quickstart-api-key", "618a30beee4e8e87d2f94015", "ultimate", "quickstart-webhook-pass"
	r := &relay.Relay{TeamOnline: func(string) bool { return true }, OrderStatus: func(string) string { return "shipped today" }}
	chat, err := ultimate.NewChatHandler(r.Callbacks(), ultimate.WithBasicAuth(user, pass))
	if err != nil {
		return err
	}
	actions, err := ultimate.NewActionHandler(r.Action, ultimate.WithBasicAuth(user, pass))
	if err != nil {
		return err
	}
	fake := ultimatetest.NewServer(ultimatetest.Config{APIKey: key, BotID: botID, Bot: chat, ActionBot: actions,
		WebhookUser: user, WebhookPassword: pass})
	defer fake.Close()
	if r.Client, err = ultimate.NewClient(key, botID, ultimate.WithBaseURL(fake.URL)); err != nil {
		return err
	}

	const conv = "13427e90-f76a-47c2-a26d-ea0b4f1836c5"
	one := 1
	steps := []struct {
		say        string
		do         func() error
		deliveries int // webhook calls the agent makes for it
	}{
		{"opens the chat", func() error { return r.Start(ctx, conv) }, 1},
		{`clicks "Products"`, func() error { return r.Say(ctx, conv, "Products", nil) }, 1},
		{`clicks "Tell me more" on card 2`, func() error { return r.Say(ctx, conv, "Tell me more", &one) }, 1},
		{`clicks "Order status"`, func() error { return r.Say(ctx, conv, "Order status", nil) }, 1},
		{`text "A-1001"`, func() error { return r.Say(ctx, conv, "A-1001", nil) }, 2},
		{`clicks "Talk to a human"`, func() error { return r.Say(ctx, conv, "Talk to a human", nil) }, 2},
	}
	seen, shown := 0, 0
	for _, st := range steps {
		fmt.Fprintf(out, "visitor   %s\n", st.say)
		if err := st.do(); err != nil {
			return err
		}
		seen += st.deliveries
		ds, err := fake.WaitDeliveries(ctx, seen)
		if err != nil {
			return err
		}
		for _, d := range ds[seen-st.deliveries:] {
			if d.Webhook == "actions" {
				fmt.Fprintf(out, "          (agent ran action %s on the actions webhook: %s)\n", d.EventType, strings.TrimSpace(string(d.Body)))
			}
			if d.EventType == ultimate.EventIsTeamOnline {
				fmt.Fprintf(out, "          (agent asked isTeamOnline: %s)\n", strings.TrimSpace(string(d.Body)))
			}
		}
		for _, e := range r.Transcript(conv, shown) {
			if e.From != "visitor" {
				fmt.Fprintf(out, "%-9s %s\n", e.From, describeEntry(e))
			}
			shown++
		}
	}
	return nil
}

func describeEntry(e relay.Entry) string {
	s := fmt.Sprintf("%q", e.Text)
	for _, b := range e.Buttons {
		s += " [" + b + "]"
	}
	for _, c := range e.Cards {
		s += " {card " + c.Title + "}"
	}
	return s
}

// botcopyHandover plays a handover: Botcopy calls the desk's webhook, the
// agent's lines go back as pushes, and /bot resumes the bot.
func botcopyHandover(ctx context.Context, out io.Writer) error {
	const token, key, user, bot = "quickstart-access-token", "quickstart-api-key", "user-123", "bot-456"
	var deskOut strings.Builder
	fake := botcopytest.NewServer(botcopytest.Config{AccessToken: token, APIKey: key})
	defer fake.Close()
	client, err := botcopy.NewClient(key, botcopy.WithBaseURL(fake.URL))
	if err != nil {
		return err
	}
	d := &desk.Desk{Client: client, Agent: botcopy.AgentProfile{Name: "Jane"}, Out: &deskOut}
	h, err := botcopy.NewHandler(token, d.Handle)
	if err != nil {
		return err
	}
	fake.SetBot(h)

	flush := func() {
		for _, line := range strings.Split(strings.TrimRight(deskOut.String(), "\n"), "\n") {
			if line != "" {
				fmt.Fprintf(out, "desk      %s\n", line)
			}
		}
		deskOut.Reset()
	}
	pushes := 0
	showPushes := func(n int) error {
		ps, err := fake.WaitFor(ctx, pushes+n)
		if err != nil {
			return err
		}
		for _, p := range ps[pushes:] {
			fmt.Fprintf(out, "push      %s\n", describePush(p.Request))
		}
		pushes = len(ps)
		return nil
	}

	fmt.Fprintln(out, "user      \"I want to talk to a human\" (Dialogflow answers with the handover context)")
	o, err := fake.Trigger(ctx, user, bot)
	if err != nil {
		return err
	}
	flush()
	if err := showPushes(1); err != nil {
		return err
	}
	fmt.Fprintf(out, "webhook   answered %s (bot paused: %v)\n", o.Decision, o.Paused)
	if err := d.Reply(ctx, "Hi, I'm Jane. What is your order number?"); err != nil {
		return err
	}
	if err := showPushes(1); err != nil {
		return err
	}
	fmt.Fprintln(out, "user      \"A-1001\"")
	if o, err = fake.UserMessage(ctx, user, bot, "A-1001"); err != nil {
		return err
	}
	flush()
	fmt.Fprintf(out, "webhook   answered %s (to Dialogflow: %v)\n", o.Decision, o.ToDialogflow)
	if err := showPushes(1); err != nil { // the typing indicator
		return err
	}
	for _, line := range []string{"It ships today. Anything else?", "/bot"} {
		if err := d.Reply(ctx, line); err != nil {
			return err
		}
		if err := showPushes(1); err != nil {
			return err
		}
	}
	flush()
	fmt.Fprintln(out, "user      \"thanks!\"")
	if o, err = fake.UserMessage(ctx, user, bot, "thanks!"); err != nil {
		return err
	}
	fmt.Fprintf(out, "botcopy   sends it to Dialogflow: %v (bot paused: %v)\n", o.ToDialogflow, o.Paused)
	return nil
}

func describePush(e *botcopy.PushEvent) string {
	switch {
	case e == nil:
		return "(not JSON)"
	case e.EventType == botcopy.PushMessage:
		return fmt.Sprintf("message %q", e.Text)
	case e.EventType == botcopy.PushTyping:
		return "typing indicator"
	case e.Paused && e.AgentProfile != nil:
		return "channel_update: paused, chatting with " + e.AgentProfile.Name
	case !e.Paused:
		return "channel_update: resumed (" + e.UnpauseChatEvent + ")"
	}
	return e.EventType
}
