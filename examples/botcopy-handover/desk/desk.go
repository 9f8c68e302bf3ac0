// Package desk is the console "agent desk" of examples/botcopy-handover,
// kept apart from its main package so examples/quickstart can run it
// against the fake Botcopy: Botcopy hands conversations over to it, the
// agent answers line by line, and "/bot" gives the conversation back.
// Once the agent's console ends, the desk has no agent and leaves every
// conversation with the bot.
package desk

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/botwire/botwire/botcopy"
)

// Desk is a one-agent live-chat tool on a console.
type Desk struct {
	Client *botcopy.Client
	Agent  botcopy.AgentProfile
	Out    io.Writer // where the agent reads

	mu         sync.Mutex
	active     *botcopy.Target
	stopTyping func()
	gone       bool // the agent's console ended
}

// Handle is the botcopy.HandlerFunc: a trigger opens the conversation on
// the desk with its transcript; a user message is shown, and the typing
// indicator runs while the agent writes the answer.
func (d *Desk) Handle(ctx context.Context, r *botcopy.HandoverRequest) (botcopy.Decision, error) {
	to := botcopy.Target{UserID: r.UserID, BotID: r.BotID}
	d.mu.Lock()
	gone := d.gone
	d.mu.Unlock()
	if gone {
		// Nobody would answer: the bot (Dialogflow) goes on.
		d.printf("(no agent: %s stays with the bot)\n", r.UserID)
		return botcopy.Continue(), nil
	}
	switch r.Kind() {
	case botcopy.KindTrigger:
		d.mu.Lock()
		d.active = &to
		d.mu.Unlock()
		d.printf("== %s was handed over to you. The conversation so far:\n", r.UserID)
		for _, l := range botcopy.Transcript(r.MessageHistory) {
			d.printf("   %-8s %s\n", l.Speaker+":", l.Text)
		}
		d.printf("== type your answer; /bot gives the conversation back to the bot\n")
		// Show "You are now chatting with an Agent" with the agent's name.
		if err := d.Client.Pause(ctx, to, d.Agent); err != nil {
			return botcopy.Decision{}, err
		}
	case botcopy.KindUserMessage:
		d.printf("%s: %s\n", r.UserID, r.Text())
		d.mu.Lock()
		if d.stopTyping == nil {
			// Typing runs beyond this request, until the agent sends (or
			// for as long as the pause lasts).
			tctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), botcopy.DefaultMinutesPaused*time.Minute)
			stop := d.Client.KeepTyping(tctx, to)
			d.stopTyping = func() { stop(); cancel() }
		}
		d.mu.Unlock()
	}
	return botcopy.PauseFor(botcopy.DefaultMinutesPaused), nil
}

// Reply handles one line the agent typed: "/bot" resumes the bot, anything
// else is sent to the user.
func (d *Desk) Reply(ctx context.Context, line string) error {
	line = strings.TrimSpace(line)
	d.mu.Lock()
	to, stop := d.active, d.stopTyping
	d.stopTyping = nil
	if line == "/bot" {
		d.active = nil
	}
	d.mu.Unlock()
	if stop != nil {
		stop()
	}
	switch {
	case to == nil:
		d.printf("(no conversation is handed over to you)\n")
		return nil
	case line == "":
		return nil
	case line == "/bot":
		d.printf("== %s is back with the bot\n", to.UserID)
		return d.Client.Resume(ctx, *to, botcopy.UnpauseDefault)
	}
	return d.Client.SendMessage(ctx, *to, line)
}

// Run reads the agent's lines from in until it ends or ctx is done. When
// in ends, the agent has left: the conversation on the desk goes back to
// the bot, and so will every later handover.
func (d *Desk) Run(ctx context.Context, in io.Reader) error {
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := d.Reply(ctx, sc.Text()); err != nil {
			d.printf("(could not send: %v)\n", err)
		}
	}
	d.mu.Lock()
	d.gone = true
	active := d.active != nil
	d.mu.Unlock()
	if active {
		if err := d.Reply(ctx, "/bot"); err != nil {
			d.printf("(could not give the conversation back: %v)\n", err)
		}
	}
	return sc.Err()
}

func (d *Desk) printf(format string, args ...any) {
	if d.Out != nil {
		fmt.Fprintf(d.Out, format, args...)
	}
}
