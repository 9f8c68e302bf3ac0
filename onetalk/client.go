package onetalk

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"

	"github.com/botwire/botwire/internal/safefmt"
	"github.com/botwire/botwire/internal/transport"
	"github.com/botwire/botwire/internal/version"
	"github.com/botwire/botwire/observe"
)

// Version is the botwire release, sent in the default User-Agent.
const Version = version.Version

// Client calls the chatbot's OneTalk URL: it sends messages and hands over,
// closes and updates cases. It is immutable and safe for concurrent use.
//
// Retries follow RetryIdempotent unless WithRetryPolicy says otherwise:
//
//	call                               5xx / timeout after sending
//	SendMessages                       not retried (the customer would get it twice)
//	HandoverCase                       not retried (may send topic options again)
//	CloseCase with a closing message   not retried
//	CloseCase without                  retried
//	UpdateCase, UpdateContact          retried
//
// Connection failures before sending, 429 and 503 are retried for every call.
//
// An observer (WithObserver) sees each call as the method the caller called
// ("SendMessages", ..., "Do") with the URL template "{oneTalkURL}": the
// OneTalk URL itself carries ids.
type Client struct {
	url  string
	http *transport.Client // holds the Secret-Key header
}

// NewClient returns a client for oneTalkURL, the URL OneTalk generated with
// the chatbot, authenticating with the chatbot's secret key.
func NewClient(oneTalkURL, secretKey string, opts ...Option) (*Client, error) {
	if secretKey == "" {
		return nil, ErrNoSecret
	}
	u, err := url.Parse(oneTalkURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("onetalk: OneTalk URL must be an absolute http(s) URL, got %q", oneTalkURL)
	}
	cfg, err := newConfig(true, opts)
	if err != nil {
		return nil, err
	}
	cfg.Transport.Header = http.Header{ClientSecretHeader: {secretKey}}
	cfg.Transport.Platform = observe.OneTalk
	return &Client{url: oneTalkURL, http: transport.New(cfg.Transport, version.UserAgent("onetalk"))}, nil
}

// String describes the client without its secret key.
func (c Client) String() string {
	return fmt.Sprintf("onetalk.Client{url: %q, secret: [REDACTED]}", c.url)
}

// GoString describes the client without its secret key (for %#v).
func (c Client) GoString() string { return c.String() }

// Format prints String for every verb (%v, %+v, %#v, %s, %q, %x, ...), on
// the value and on a pointer, so no verb reaches the secret or a digest of it.
func (c Client) Format(f fmt.State, verb rune) { safefmt.Format(f, verb, c.String()) }

// SendMessages sends msgs, in order, as the bot's reply in case caseID.
func (c *Client) SendMessages(ctx context.Context, caseID string, msgs ...OutboundMessage) error {
	return c.do(ctx, "SendMessages", &WebhookRequest{CaseID: caseID, EventType: EventMessages, Messages: msgs})
}

// HandoverCase hands case caseID over to a human agent.
func (c *Client) HandoverCase(ctx context.Context, caseID string, h HandoverCase) error {
	return c.do(ctx, "HandoverCase", &WebhookRequest{CaseID: caseID, EventType: EventHandoverCase, HandoverCase: &h})
}

// CloseCase closes case caseID.
func (c *Client) CloseCase(ctx context.Context, caseID string, cc CloseCase) error {
	return c.do(ctx, "CloseCase", &WebhookRequest{CaseID: caseID, EventType: EventCloseCase, CloseCase: &cc})
}

// UpdateCase updates the fields of case caseID that u sets.
func (c *Client) UpdateCase(ctx context.Context, caseID string, u UpdateCase) error {
	return c.do(ctx, "UpdateCase", &WebhookRequest{CaseID: caseID, EventType: EventUpdateCase, UpdateCase: &u})
}

// UpdateContact updates the fields of case caseID's contact that u sets.
func (c *Client) UpdateContact(ctx context.Context, caseID string, u UpdateContact) error {
	return c.do(ctx, "UpdateContact", &WebhookRequest{CaseID: caseID, EventType: EventUpdateContact, UpdateContact: &u})
}

// Do validates r and posts it to the OneTalk URL. An invalid request is
// refused before any network call with an error wrapping ErrInvalidRequest.
// A non-2xx answer is an *APIError; a 2xx answer whose body says
// {"success": false} is an *APIError wrapping ErrRejected.
func (c *Client) Do(ctx context.Context, r *WebhookRequest) error { return c.do(ctx, "Do", r) }

// urlTemplate is what an observer sees of the URL (observe.Call): the
// OneTalk URL's path carries the organisation's and the chatbot's ids.
const urlTemplate = "{oneTalkURL}"

// do is Do, reported to the observer as operation op (the exported method
// the caller called).
func (c *Client) do(ctx context.Context, op string, r *WebhookRequest) error {
	if r == nil {
		return fmt.Errorf("%w: nil request", ErrInvalidRequest)
	}
	if err := r.Validate(); err != nil {
		return err
	}
	resp, err := c.http.PostJSON(ctx, transport.Request{
		URL:         c.url,
		Body:        wire(r),
		Idempotent:  idempotent(r),
		Operation:   op,
		URLTemplate: urlTemplate,
	})
	if err != nil {
		return fmt.Errorf("onetalk: %s: %w", r.EventType, err)
	}
	return rejected(resp)
}

// wireRequest is a WebhookRequest as json.Marshal writes it, with its
// messages encoded directly: OutboundMessage's MarshalJSON makes
// encoding/json marshal each message apart and then compact the result,
// which was half of a send's encoding. Every other field is the embedded
// request's; messages comes after them, as it does in a request with
// messages (the case and the event type only).
type wireRequest struct {
	*WebhookRequest
	Messages []outboundMessage `json:"messages,omitempty"`
}

// wire returns what PostJSON encodes for r.
func wire(r *WebhookRequest) any {
	if len(r.Messages) == 0 {
		return r
	}
	w := &wireRequest{WebhookRequest: r, Messages: make([]outboundMessage, len(r.Messages))}
	for i, m := range r.Messages {
		v := outboundMessage(m) // what OutboundMessage.MarshalJSON encodes
		encodeVideo(v.Type, &v.Image, &v.Video)
		w.Messages[i] = v
	}
	return w
}

func idempotent(r *WebhookRequest) bool {
	switch r.EventType {
	case EventUpdateCase, EventUpdateContact:
		return true
	case EventCloseCase:
		// Without closeCase no closing message is sent ("If true, closing
		// message will be sent").
		return r.CloseCase == nil || !r.CloseCase.SendClosingMessage
	}
	return false
}

// rejected reads the answer body the way the custom-channel API documents
// it ({"success": bool, "message": string}); any other body is success.
func rejected(resp *transport.Response) error {
	body := bytes.TrimSpace(resp.Body)
	if len(body) == 0 || body[0] != '{' || !bytes.Contains(body, []byte("false")) {
		// A body that says {"success": false} contains "false": the usual
		// {"success":true,...} is not decoded.
		return nil
	}
	var ans struct {
		Success *bool  `json:"success"`
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &ans) != nil || ans.Success == nil || *ans.Success {
		return nil
	}
	return &APIError{StatusCode: resp.StatusCode, Header: resp.Header, Body: resp.Body, Err: ErrRejected}
}
