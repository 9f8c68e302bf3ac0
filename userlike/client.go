package userlike

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/botwire/botwire/internal/inbound"
	"github.com/botwire/botwire/internal/safefmt"
	"github.com/botwire/botwire/internal/transport"
	"github.com/botwire/botwire/internal/version"
	"github.com/botwire/botwire/observe"
)

// Version is the botwire release, sent in the default User-Agent.
const Version = version.Version

// TokenHeader carries the API security token on calls to the API URL.
const TokenHeader = "SECURITY-TOKEN"

// ErrNoToken: NewClient was given an empty security token.
var ErrNoToken = errors.New("userlike: empty API security token")

// APIError is a non-2xx answer from the API URL, returned after the last
// attempt: StatusCode, Header, Body (at most 64 KiB) and RetryAfter. Use
// errors.As to get it. Its message never contains the token.
type APIError = transport.APIError

// RetryPolicy chooses which failures the client retries; see WithRetryPolicy.
type RetryPolicy = transport.RetryPolicy

// Retry policies.
const (
	// RetryIdempotent (the default) retries connection failures before
	// sending, 429 and 503 for every call, and other 5xx or ambiguous
	// failures only when every action is safe to repeat (contact_update,
	// conversation_update).
	RetryIdempotent = transport.RetryIdempotent
	// RetryAlways retries ambiguous failures for every call, accepting that
	// a contact may get a message twice.
	RetryAlways = transport.RetryAlways
	// RetryNever makes one attempt.
	RetryNever = transport.RetryNever
)

// Client calls the bot's Userlike "API URL" to trigger events outside a
// webhook answer (say, the result of a slow lookup). It keeps every cid
// under Userlike's 20 requests per minute. It is safe for concurrent use.
//
// An observer (WithObserver) sees each request as the method the caller
// called ("Send", "SendWithContext", "Do") with the URL template
// "{apiURL}" (the API URL carries the bot's ids), and the rate limiter's
// waits as observe.KindRateLimited events.
type Client struct {
	url     string
	http    *transport.Client // holds the SECURITY-TOKEN header
	limiter *limiter
	batch   bool
}

// NewClient returns a client for apiURL, the URL shown in the bot's API
// settings, authenticating with its security token.
func NewClient(apiURL, securityToken string, opts ...Option) (*Client, error) {
	if securityToken == "" {
		return nil, ErrNoToken
	}
	u, err := url.Parse(apiURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("userlike: API URL must be an absolute http(s) URL, got %q", apiURL)
	}
	cfg, err := newConfig(true, opts)
	if err != nil {
		return nil, err
	}
	cfg.Transport.Header = http.Header{TokenHeader: {securityToken}}
	cfg.Transport.Platform = observe.Userlike
	l := newLimiter(cfg.rateLimit, cfg.ratePer, cmp.Or(cfg.rateMargin, DefaultRateMargin), cfg.rateNoWait, cfg.shared)
	l.scope = inbound.NewBot("userlike", securityToken).String() // per account: a tenant's cids are its own
	l.obs = cfg.Transport.Observer
	return &Client{
		url:     apiURL,
		http:    transport.New(cfg.Transport, version.UserAgent("userlike")),
		limiter: l,
		batch:   cfg.batch,
	}, nil
}

// String describes the client without its token.
func (c Client) String() string {
	return fmt.Sprintf("userlike.Client{url: %q, token: [REDACTED]}", c.url)
}

// GoString describes the client without its token (for %#v).
func (c Client) GoString() string { return c.String() }

// Format prints String for every verb (%v, %+v, %#v, %s, %q, %x, ...), on
// the value and on a pointer, so no verb reaches the secret or a digest of it.
func (c Client) Format(f fmt.State, verb rune) { safefmt.Format(f, verb, c.String()) }

// Send triggers actions in session cid, in order. Each action is one
// request (see WithBatch), and every attempt of a request, retries
// included, first takes a slot of the cid's rate limit. An invalid action
// is refused before anything is sent.
//
// A Delay is refused unless WithBatch(true) puts it in one request with
// the actions after it: "Delays only affect subsequent messages in the same
// response/request", so alone in its request it would delay nothing. A
// Delay with nothing after it is refused in either mode.
func (c *Client) Send(ctx context.Context, cid string, actions ...Action) error {
	return c.do(ctx, "Send", cid, nil, actions...)
}

// SendWithContext is Send that also sets the session's context to state
// (see Reply.SetContext for its rules).
func (c *Client) SendWithContext(ctx context.Context, cid string, state any, actions ...Action) error {
	b, err := marshalContext(state)
	if err != nil {
		return err
	}
	return c.do(ctx, "SendWithContext", cid, b, actions...)
}

// Do validates the actions and posts them with the raw context (nil for
// none), which must be a JSON object of at most 10 KB as for Send.
func (c *Client) Do(ctx context.Context, cid string, context []byte, actions ...Action) error {
	return c.do(ctx, "Do", cid, context, actions...)
}

// urlTemplate is what an observer sees of the API URL (observe.Call): its
// path carries the bot's ids.
const urlTemplate = "{apiURL}"

// do is Do, reported to the observer as operation op (the exported method
// the caller called).
func (c *Client) do(ctx context.Context, op, cid string, context []byte, actions ...Action) error {
	if cid == "" {
		return fmt.Errorf("%w: cid is required", ErrInvalidAction)
	}
	if len(actions) == 0 {
		return fmt.Errorf("%w: no action to send", ErrInvalidAction)
	}
	if context != nil {
		if err := checkContext(context); err != nil {
			return err
		}
	}
	if err := ValidateActions(actions...); err != nil {
		return err
	}
	if err := c.checkDelays(actions); err != nil {
		return err
	}
	evs := events(cid, context, actions)
	if c.batch {
		return c.post(ctx, op, cid, wireEvents(evs), evs)
	}
	for i := range evs {
		if err := c.post(ctx, op, cid, wireEvent(&evs[i]), evs[i:i+1]); err != nil {
			if i > 0 {
				return fmt.Errorf("userlike: %d of %d actions sent: %w", i, len(evs), err)
			}
			return err
		}
	}
	return nil
}

// checkDelays refuses a delay that could delay nothing: one sent in a
// request of its own, or one with no action after it.
func (c *Client) checkDelays(actions []Action) error {
	for i, a := range actions {
		if a.Name != ActionDelay {
			continue
		}
		switch {
		case i == len(actions)-1:
			return fmt.Errorf("%w: actions[%d]: a delay must come before the actions it delays, and none follows it", ErrInvalidAction, i)
		case !c.batch:
			return fmt.Errorf("%w: actions[%d]: a delay only affects later actions of the same request, and this client sends one action per request: use WithBatch(true) or a webhook reply", ErrInvalidAction, i)
		}
	}
	return nil
}

func (c *Client) post(ctx context.Context, op, cid string, body any, evs []OutboundEvent) error {
	_, err := c.http.PostJSON(ctx, transport.Request{URL: c.url, Body: body, Idempotent: idempotent(evs),
		BeforeAttempt: func(ctx context.Context) error { return c.limiter.wait(ctx, op, cid) },
		Operation:     op, URLTemplate: urlTemplate})
	if errors.Is(err, ErrRateLimited) {
		return err
	}
	if err != nil {
		return fmt.Errorf("userlike: %s: %w", evs[0].Packet.Name, err)
	}
	return nil
}

// wire is an OutboundEvent as json.Marshal writes it, with its packet
// encoded directly: Action's MarshalJSON makes encoding/json marshal each
// packet apart and then compact the result, which was half of a send's
// encoding. Every other field is the embedded event's, in its order.
type wire struct {
	*OutboundEvent
	Packet wirePacket `json:"packet"`
}

// wirePacket is Action.MarshalJSON's object.
type wirePacket struct {
	Name    string `json:"name"`
	Payload any    `json:"payload"`
}

func wireEvent(e *OutboundEvent) *wire {
	w := &wire{OutboundEvent: e}
	w.set()
	return w
}

func wireEvents(evs []OutboundEvent) []wire {
	out := make([]wire, len(evs))
	for i := range evs {
		out[i].OutboundEvent = &evs[i]
		out[i].set()
	}
	return out
}

func (w *wire) set() {
	w.Packet = wirePacket{Name: w.OutboundEvent.Packet.Name, Payload: w.OutboundEvent.Packet.Payload}
	if w.Packet.Payload == nil {
		w.Packet.Payload = struct{}{} // a nil payload is {}, as in MarshalJSON
	}
}

func idempotent(evs []OutboundEvent) bool {
	for _, e := range evs {
		switch e.Packet.Name {
		case ActionContactUpdate, ActionConversationUpdate:
		default:
			return false
		}
	}
	return true
}
