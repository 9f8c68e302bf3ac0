// Package faq is the bot of examples/userlike-faq, kept apart from its main
// package so examples/quickstart can run it against the fake Userlike. It
// follows the doc's example flow: a welcome with bubbles, a question for the
// order ID, the answer sent later through the API URL, and a forward to a
// human on request, with the session's context as state.
package faq

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/botwire/botwire/userlike"
)

// Choice ids of the menu.
const (
	ChoiceDelivery = "delivery"
	ChoiceHuman    = "human"
)

// State is what the bot keeps in the session's context.
type State struct {
	Step string `json:"step"` // "menu" or "order_id"
}

// Bot answers webhook events and sends slow answers through Client.
type Bot struct {
	Client *userlike.Client
	// Lookup finds an order's delivery status; it may be slow.
	Lookup func(ctx context.Context, orderID string) (string, error)
	Logger *slog.Logger

	wg sync.WaitGroup
}

// Wait blocks until the answers still being looked up have been sent.
func (b *Bot) Wait() { b.wg.Wait() }

func menu() userlike.Action {
	return userlike.Bubbles("What can I do for you?", "Please answer with the number of an option:",
		userlike.Choice{ID: ChoiceDelivery, Label: "Delivery status"},
		userlike.Choice{ID: ChoiceHuman, Label: "Talk to a human"})
}

// Handle is the userlike.HandlerFunc of the bot.
func (b *Bot) Handle(ctx context.Context, e *userlike.Event, r *userlike.Reply) error {
	var st State
	if err := e.DecodeContext(&st); err != nil {
		return err
	}
	if e.Packet.Name == userlike.EventForwardFailed {
		r.Add(userlike.Message("Sorry, no colleague is available right now. Please try again later."), menu())
		return r.SetContext(State{Step: "menu"})
	}
	// A click and a typed message mean the same here (the doc's advice for
	// WhatsApp and Facebook): compare by id and by label.
	choice, text := "", strings.TrimSpace(e.Text())
	if c, err := e.Click(); err == nil {
		choice = c.Value.ID
	}
	switch {
	case e.Packet.Name == userlike.EventStart && text == "":
		r.Add(userlike.Message("Hi! I am the shop's bot."), menu())
		return r.SetContext(State{Step: "menu"})
	case choice == ChoiceHuman || strings.EqualFold(text, "Talk to a human"):
		r.Add(userlike.Message("I'll forward you to a human colleague."), userlike.ForwardAny(userlike.OnFailureFeedback))
		return nil
	case choice == ChoiceDelivery || strings.EqualFold(text, "Delivery status"):
		r.Add(userlike.Message("Please send me your order ID."))
		return r.SetContext(State{Step: "order_id"})
	case st.Step == "order_id" && text != "":
		r.Add(userlike.Message(fmt.Sprintf("Thanks! I'm looking up order %s; this takes a moment.", text)))
		b.lookupLater(e.Info.CID, text)
		return r.SetContext(State{Step: "menu"})
	}
	r.Add(userlike.Message("Sorry, I did not get that."), menu())
	return r.SetContext(State{Step: "menu"})
}

// lookupLater answers through the API URL once the slow lookup is done: the
// webhook has been answered long before.
func (b *Bot) lookupLater(cid, orderID string) {
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		status, err := b.Lookup(ctx, orderID)
		if err != nil {
			status = "I could not find it, sorry"
		}
		err = b.Client.Send(ctx, cid, userlike.Message(fmt.Sprintf("Order %s: %s.", orderID, status)), menu())
		if err != nil && b.Logger != nil {
			b.Logger.Error("userlike-faq: send lookup result", "cid", cid, "error", err)
		}
	}()
}
