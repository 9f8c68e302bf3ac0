package ultimate

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/botwire/botwire/internal/optkit"
	"github.com/botwire/botwire/observe"
	"github.com/botwire/botwire/store"
	"github.com/botwire/botwire/tap"
)

// Option configures a Handler or a Client. Each option says which of the two
// it applies to; NewHandler and NewClient refuse an option meant for the
// other, so a misplaced option is an error rather than silently ignored.
type Option func(*config)

type config struct {
	optkit.Scope             // shared client and handler settings, webhook auth
	baseURL      string      // client
	headers      http.Header // client: WithOrganizationID, WithHeader
}

func newConfig(forClient bool, opts []Option) (*config, error) {
	return optkit.Apply[config]("ultimate", forClient, opts)
}

// WithObserver reports to o what the handler or the client does (observe.Observer; the otel
// module implements it with OpenTelemetry). Handler: every delivery, its
// rejection reason, the callback, deduplication. Client: every call, each
// HTTP attempt, retries and waits. With none (the default) the cost is a nil
// check. Handler and Client.
func WithObserver(o observe.Observer) Option { return optkit.Observer[*config](o) }

// WithTap writes each authenticated delivery to t (package tap: one JSON
// line with the headers, credentials masked, the body, the answer's status
// and latency), for botwire replay to reproduce it locally. With none (the
// default) the cost is a nil check. Handler only.
func WithTap(t *tap.Tap) Option { return optkit.Tap[*config](t) }

// WithLogger sends diagnostics to l. Handler: callback errors and panics
// (default slog.Default()). Client: retries (default: no logging). Neither
// ever logs a secret or a whole body.
func WithLogger(l *slog.Logger) Option { return optkit.Logger[*config](l) }

// WithMaxBodyBytes limits the inbound body (default 1 MiB); a larger body
// gets 413. Handler only.
func WithMaxBodyBytes(n int64) Option { return optkit.MaxBodyBytes[*config](n) }

// WithWebhookHeader makes the handler require header name with value on
// every webhook call, compared in constant time. Ultimate does not document
// how it authenticates its webhook calls, so use a header your setup sends
// (a proxy in front, say). Give it more than once to require several
// headers. Handler only.
func WithWebhookHeader(name, value string) Option { return optkit.WebhookHeader[*config](name, value) }

// WithPreviousWebhookHeader keeps accepting value for header name, a
// WithWebhookHeader name (case-insensitive), while its value is rolled.
// To rotate a webhook header: deploy both webhooks with the new value in
// WithWebhookHeader and the old one here, make what sends the header send
// the new value, then, once no call uses the old value (CredentialIndex,
// and a debug log line for each call that did), deploy again without this
// option. Every candidate is compared in constant time, and a refused call
// gets the same 401 whichever value it came close to. Give it more than
// once to keep several old values (the first is previous credential 1, the
// next 2, ...). The constructors refuse a name that no WithWebhookHeader
// gives and an empty value. The store binding follows the current value
// only, so replicas with and without the previous value share a store.
// Handler only.
func WithPreviousWebhookHeader(name, value string) Option {
	return optkit.PreviousWebhookHeader[*config](name, value)
}

// WithoutAuthentication builds a handler that accepts webhook calls without
// checking any header. Only for tests and for deployments that
// authenticate in front of the handler. Handler only.
func WithoutAuthentication() Option { return optkit.NoAuth[*config]() }

// WithHTTPClient sends requests with hc (its transport, proxy, TLS
// settings); the client copies it and never changes it. Client only.
func WithHTTPClient(hc *http.Client) Option { return optkit.HTTPClient[*config](hc) }

// WithTimeout bounds each attempt (default 10 s). Client only.
func WithTimeout(d time.Duration) Option { return optkit.Timeout[*config](d) }

// WithMaxRetries sets how many times a failed call may be retried (default
// 3, so 4 attempts); 0 disables retries. Client only.
func WithMaxRetries(n int) Option { return optkit.MaxRetries[*config](n) }

// WithRetryWait sets the exponential backoff range (default 200 ms to 5 s).
// Client only.
func WithRetryWait(minWait, maxWait time.Duration) Option {
	return optkit.RetryWait[*config](minWait, maxWait)
}

// WithRetryPolicy chooses which failures are retried (default
// RetryIdempotent: a message is never sent twice). Client only.
func WithRetryPolicy(p RetryPolicy) Option { return optkit.RetryPolicy[*config](p) }

// WithUserAgent sets the User-Agent header. Client only.
func WithUserAgent(ua string) Option { return optkit.UserAgent[*config](ua) }

// WithBaseURL overrides the API base URL (default https://api.ultimate.ai),
// for a proxy or a fake. Client only.
func WithBaseURL(u string) Option {
	return func(c *config) {
		if c.ClientOnly("WithBaseURL") {
			c.baseURL = u
		}
	}
}

// WithBasicAuth makes the handler require HTTP basic authentication with
// user and password (compared in constant time). Ultimate does not document
// how it authenticates its webhook calls; credentials in the webhook URL
// (https://user:pass@host/path) are one way to get them sent. Handler only.
func WithBasicAuth(user, password string) Option { return optkit.BasicAuth[*config](user, password) }

// WithPreviousBasicAuthPasswords keeps accepting passwords, with the
// WithBasicAuth user, while the basic-auth password is rolled. To rotate
// it: deploy both webhooks with the new password in WithBasicAuth and the
// old one here, change the webhook URLs in Ultimate to the new password,
// then, once no call uses the old one (CredentialIndex, and a debug log
// line for each call that did), deploy again without this option. Every
// candidate is compared in constant time, and a refused call gets the same
// 401 whichever password it came close to. The passwords are previous
// credentials 1, 2, ... in the order given (across repeated options). The
// constructors refuse it without WithBasicAuth and refuse an empty
// password, as WithBasicAuth does. The store binding follows the current
// password only, so replicas with and without the previous one share a
// store. Handler only.
func WithPreviousBasicAuthPasswords(passwords ...string) Option {
	return optkit.PreviousBasicAuthPasswords[*config](passwords...)
}

// OrganizationIDHeader carries the organization of an org-wide API key.
const OrganizationIDHeader = "organizationid"

// WithOrganizationID sends the organizationid header with every call, for
// an organization-wide API key instead of a bot's own key (Zendesk's
// authentication page for AI agents: "an organization-wide API key plus an
// organizationid header"). Pass that key to NewClient as apiKey. Client only.
func WithOrganizationID(id string) Option { return WithHeader(OrganizationIDHeader, id) }

// WithHeader sends header name with value on every call, for what the API
// adds after this package was written. Authorization, botid and
// Content-Type are the client's own and cannot be set this way; NewClient
// refuses them. Values are redacted from error bodies like the key. Client
// only.
func WithHeader(name, value string) Option {
	return func(c *config) {
		if c.ClientOnly("WithHeader") {
			if c.headers == nil {
				c.headers = http.Header{}
			}
			c.headers.Add(name, value)
		}
	}
}

// WithDeduplication makes the handler run the callback once per delivery:
// a redelivery of a delivery that completed gets the stored answer again,
// byte for byte, without the callback running. The key is the message id
// of a sendMessage event (newer than the doc), or the SHA-256 of the body
// for the other events and for action calls. d is shared by every replica
// (store/redisstore) or store.NewMemoryDeduplicator() for one process;
// keys are kept for ttl (0: 24 h). A callback that fails releases its key,
// so the redelivery runs again; when the store fails the handler answers
// 503.
//
// opts set the claim's lease and the answer budget (store.DedupOptions;
// the zero value takes the defaults): a delivery's claim lives 5 s and is
// renewed while the callback runs, so a replica that dies mid-callback
// holds its message for at most the lease; a redelivery that finds another
// delivery of its message running waits for its answer at most the budget
// (4 s), and every store call runs within it; past it the handler answers
// 503 and the platform redelivers. Handler only.
//
// d serves one bot: NewHandler refuses (store.ErrSharedStore) a d that
// already serves another bot in this process, one with another credential
// or of another platform, whose replays it could answer; handlers of one
// bot (replicas, or its chat and action webhooks, with the same credential)
// share it. Give each bot its own store: its own redisstore.Options.Prefix,
// or its own store.NewMemoryDeduplicator(). Only a store that implements
// store.Binder is checked (redisstore.Store and store.MemoryDeduplicator
// do); stores in other processes are not, so on a shared Redis the Prefix
// is what keeps two bots apart.
func WithDeduplication(d store.Deduplicator, ttl time.Duration, opts ...store.DedupOptions) Option {
	return optkit.Deduplication[*config](d, ttl, opts...)
}
