package ultimate

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/botwire/botwire/internal/safefmt"
	"github.com/botwire/botwire/internal/transport"
	"github.com/botwire/botwire/internal/version"
	"github.com/botwire/botwire/observe"
)

// Version is the botwire release, sent in the default User-Agent.
const Version = version.Version

// DefaultBaseURL is the Chat API's base URL. The draft doc's
// "/chat/converse" path and "api.ultimate.com" host are wrong: Zendesk's
// AI agents documentation says "All requests should be made to your API
// base URL: https://api.ultimate.ai" and "POST /converse/chat".
const DefaultBaseURL = "https://api.ultimate.ai"

// Paths on the base URL.
const (
	ConversePath       = "/converse/chat"
	WidgetMessagePath  = "/agent/converse/send-message-to-widget"
	botIDHeader        = "botid"
	authorizationField = "Authorization"
)

// Errors inside *APIError for the documented failure statuses.
var (
	ErrBadRequest   = errors.New("ultimate: bad request (400)")
	ErrUnauthorized = errors.New("ultimate: unauthorized (401): check the API key")
	ErrBotNotFound  = errors.New("ultimate: bot not found (404): check the bot id")
	ErrNoAPIKey     = errors.New("ultimate: empty API key")
	ErrNoBotID      = errors.New("ultimate: empty bot id")
)

// APIError is a non-2xx answer, returned after the last attempt:
// StatusCode, Header, Body (at most 64 KiB), RetryAfter, and Err set to
// ErrBadRequest, ErrUnauthorized or ErrBotNotFound for 400, 401 and 404, so
// errors.Is(err, ErrBotNotFound) works. Its message never contains the key.
type APIError = transport.APIError

// RetryPolicy chooses which failures the client retries; see WithRetryPolicy.
type RetryPolicy = transport.RetryPolicy

// Retry policies.
const (
	// RetryIdempotent (the default) retries connection failures before
	// sending, 429 and 503 for every call, and other 5xx or ambiguous
	// failures only for endSession, metadata and the widget's queue updates
	// and disconnects.
	RetryIdempotent = transport.RetryIdempotent
	// RetryAlways also retries a message, accepting that the virtual agent
	// may see it twice.
	RetryAlways = transport.RetryAlways
	// RetryNever makes one attempt.
	RetryNever = transport.RetryNever
)

// Client sends visitor events to Ultimate's virtual agent. It is immutable
// and safe for concurrent use.
//
// An observer (WithObserver) sees each call as the method the caller called
// ("SendText", ..., "Converse", "SendToWidget") with the path as its URL
// template (ConversePath, WidgetMessagePath).
type Client struct {
	base  string
	botID string
	// The two URLs, built once: base + ConversePath, base + WidgetMessagePath.
	converseURL, widgetURL string
	http                   *transport.Client // holds the Authorization and botid headers
}

// NewClient returns a client for the bot botID (24 hex characters, from the
// dashboard URL) authenticating with apiKey, sent raw in Authorization.
func NewClient(apiKey, botID string, opts ...Option) (*Client, error) {
	if apiKey == "" {
		return nil, ErrNoAPIKey
	}
	if botID == "" {
		return nil, ErrNoBotID
	}
	cfg, err := newConfig(true, opts)
	if err != nil {
		return nil, err
	}
	base := cfg.baseURL
	if base == "" {
		base = DefaultBaseURL
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("ultimate: base URL must be an absolute http(s) URL, got %q", base)
	}
	header := http.Header{}
	for name, values := range cfg.headers {
		switch http.CanonicalHeaderKey(name) {
		case http.CanonicalHeaderKey(authorizationField), http.CanonicalHeaderKey(botIDHeader), "Content-Type", "":
			return nil, fmt.Errorf("ultimate: WithHeader cannot set %q: the client sets it", name)
		}
		for _, v := range values {
			if v == "" {
				return nil, fmt.Errorf("ultimate: WithHeader(%q) needs a value", name)
			}
			header.Add(name, v)
		}
	}
	header.Set(authorizationField, apiKey)
	header.Set(botIDHeader, botID)
	cfg.Transport.Header = header
	cfg.Transport.Platform = observe.Ultimate
	base = strings.TrimRight(base, "/")
	return &Client{
		base:        base,
		botID:       botID,
		converseURL: base + ConversePath,
		widgetURL:   base + WidgetMessagePath,
		http:        transport.New(cfg.Transport, version.UserAgent("ultimate")),
	}, nil
}

// String describes the client without its key.
func (c Client) String() string {
	return fmt.Sprintf("ultimate.Client{base: %q, botID: %q, apiKey: [REDACTED]}", c.base, c.botID)
}

// GoString describes the client without its key (for %#v).
func (c Client) GoString() string { return c.String() }

// Format prints String for every verb (%v, %+v, %#v, %s, %q, %x, ...), on
// the value and on a pointer, so no verb reaches the secret or a digest of it.
func (c Client) Format(f fmt.State, verb rune) { safefmt.Format(f, verb, c.String()) }

// Converse validates r and sends it to POST /converse/chat. A 200 only
// acknowledges it: the virtual agent answers on the chat webhook.
func (c *Client) Converse(ctx context.Context, r ConverseRequest) error {
	return c.converse(ctx, "Converse", r)
}

// converse is Converse, reported to the observer as operation op (the
// exported method the caller called).
func (c *Client) converse(ctx context.Context, op string, r ConverseRequest) error {
	if err := r.Validate(); err != nil {
		return err
	}
	idempotent := r.EventType == ConverseEndSession || r.EventType == ConverseMetadata
	return c.post(ctx, op, c.converseURL, ConversePath, r.EventType, &r, idempotent)
}

// StartSession starts conversation id, optionally with session parameters;
// the bot's welcome message arrives on the chat webhook. Starting is
// optional: the first message starts the conversation too.
func (c *Client) StartSession(ctx context.Context, id string, md ...MetaData) error {
	return c.converse(ctx, "StartSession", ConverseRequest{PlatformConversationID: id, EventType: ConverseStartSession, MetaData: md})
}

// SendText sends what the visitor typed, or the text of the reply button
// they clicked.
func (c *Client) SendText(ctx context.Context, id, text string) error {
	return c.converse(ctx, "SendText", ConverseRequest{PlatformConversationID: id, EventType: ConverseMessage, Text: text})
}

// SelectCard sends the click on button buttonText of carousel card
// cardIndex (0-based).
func (c *Client) SelectCard(ctx context.Context, id, buttonText string, cardIndex int) error {
	return c.converse(ctx, "SelectCard", ConverseRequest{PlatformConversationID: id, EventType: ConverseMessage, Text: buttonText, CardIndex: &cardIndex})
}

// SendMetadata updates session parameters without a message.
func (c *Client) SendMetadata(ctx context.Context, id string, md ...MetaData) error {
	return c.converse(ctx, "SendMetadata", ConverseRequest{PlatformConversationID: id, EventType: ConverseMetadata, MetaData: md})
}

// EndSession ends conversation id (otherwise it times out, after 2 hours or
// the bot's configured timeout).
func (c *Client) EndSession(ctx context.Context, id string) error {
	return c.converse(ctx, "EndSession", ConverseRequest{PlatformConversationID: id, EventType: ConverseEndSession})
}

// SendToWidget posts w to Ultimate's chat widget
// (POST /agent/converse/send-message-to-widget): an agent's message or an
// escalation status, after escalating from the widget.
func (c *Client) SendToWidget(ctx context.Context, w WidgetUpdate) error {
	if err := w.Validate(); err != nil {
		return err
	}
	idempotent := w.EventType == WidgetEscalationQueueUpdate || w.EventType == WidgetAgentDisconnect
	return c.post(ctx, "SendToWidget", c.widgetURL, WidgetMessagePath, w.EventType, &w, idempotent)
}

// post sends body to u; op and path name the call for the observer.
func (c *Client) post(ctx context.Context, op, u, path, what string, body any, idempotent bool) error {
	_, err := c.http.PostJSON(ctx, transport.Request{URL: u, Body: body, Idempotent: idempotent,
		Operation: op, URLTemplate: path})
	if err == nil {
		return nil
	}
	var apiErr *APIError
	if errors.As(err, &apiErr) && apiErr.Err == nil {
		switch apiErr.StatusCode {
		case http.StatusBadRequest:
			apiErr.Err = ErrBadRequest
		case http.StatusUnauthorized:
			apiErr.Err = ErrUnauthorized
		case http.StatusNotFound:
			apiErr.Err = ErrBotNotFound
		}
	}
	return fmt.Errorf("ultimate: %s: %w", what, err)
}
