// Package echo is the bot of examples/onetalk-echo, kept apart from its main
// package so examples/quickstart can run the same bot against the fake
// OneTalk.
package echo

import (
	"context"
	"fmt"
	"strings"

	"github.com/botwire/botwire/onetalk"
)

// Button ids of the menu.
const (
	IDHours = "/hours"
	IDAgent = "/agent"
)

// Bot answers text with text, "menu" with reply buttons, media and
// locations with an acknowledgement, and hands the case to a human on
// "agent".
func Bot(client *onetalk.Client) onetalk.HandlerFunc {
	return func(ctx context.Context, in *onetalk.InboundRequest) error {
		msg := &in.Message
		if id := msg.ReplyID(); id != "" {
			return onButton(ctx, client, in.CaseID, id)
		}
		switch msg.Type {
		case onetalk.TypeText:
			switch strings.ToLower(strings.TrimSpace(msg.Body())) {
			case "menu":
				return client.SendMessages(ctx, in.CaseID, Menu())
			case "agent":
				return handover(ctx, client, in.CaseID)
			}
			return client.SendMessages(ctx, in.CaseID, onetalk.NewText("You said: "+msg.Body()))
		case onetalk.TypeImage, onetalk.TypeVideo, onetalk.TypeDocument:
			reply := "Thanks for the " + msg.Type
			if c := msg.Body(); c != "" {
				reply += " (" + c + ")"
			}
			return client.SendMessages(ctx, in.CaseID, onetalk.NewText(reply+"."))
		case onetalk.TypeLocation:
			l := msg.Location
			return client.SendMessages(ctx, in.CaseID,
				onetalk.NewText(fmt.Sprintf("Got your location: %.5f, %.5f.", l.Latitude, l.Longitude)))
		}
		return nil
	}
}

// Menu is the reply-button message sent on "menu".
func Menu() onetalk.OutboundMessage {
	return onetalk.NewReplyButtons("How can we help you?",
		onetalk.ReplyButton{ID: IDHours, Title: "Opening hours"},
		onetalk.ReplyButton{ID: IDAgent, Title: "Talk to agent"},
	).WithHeader(onetalk.TextHeader("Welcome!")).WithFooter("This is an automatic reply")
}

func onButton(ctx context.Context, client *onetalk.Client, caseID, id string) error {
	switch id {
	case IDHours:
		return client.SendMessages(ctx, caseID, onetalk.NewText("We are open Monday to Friday, 9:00 to 17:00."))
	case IDAgent:
		return handover(ctx, client, caseID)
	}
	return client.SendMessages(ctx, caseID, onetalk.NewText("Sorry, I do not know that option."))
}

func handover(ctx context.Context, client *onetalk.Client, caseID string) error {
	if err := client.SendMessages(ctx, caseID, onetalk.NewText("Connecting you to an agent…")); err != nil {
		return err
	}
	return client.HandoverCase(ctx, caseID, onetalk.HandoverCase{
		ChatbotHandoverSummary: "Customer asked for a human agent.",
	})
}
