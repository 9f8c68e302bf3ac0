// Package optkit is the option plumbing every vendor package shares. A
// vendor package has one Option type for its client and its handlers (as
// DESIGN.md names them); each option knows which of the two it is for, and
// the constructors refuse a misplaced option instead of ignoring it. The
// options common to every client are written once here; each vendor
// package declares them under its own name and doc comment.
package optkit

import (
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/botwire/botwire/internal/inbound"
	"github.com/botwire/botwire/internal/transport"
	"github.com/botwire/botwire/observe"
	"github.com/botwire/botwire/store"
	"github.com/botwire/botwire/tap"
)

// Scope is embedded in a vendor package's option config.
type Scope struct {
	ForClient bool
	misplaced []string
	// Transport is the client's configuration; Logger and MaxBody are the
	// handler's.
	Transport transport.Config
	Logger    *slog.Logger
	MaxBody   int64
	// Auth is the webhook authentication the user chose, for platforms
	// that leave it to them.
	Auth inbound.AuthConfig
	// Dedup is the handler's deduplication of deliveries (nil: none).
	Dedup *inbound.Dedup
	// Observer is the handler's observer (WithObserver; the client's is
	// Transport.Observer).
	Observer observe.Observer
	// Tap records the handler's authenticated deliveries (WithTap; nil:
	// none).
	Tap *tap.Tap
}

// ClientOnly reports whether a client option applies, recording it as
// misplaced when the options are for a handler.
func (s *Scope) ClientOnly(name string) bool {
	if !s.ForClient {
		s.misplaced = append(s.misplaced, name)
	}
	return s.ForClient
}

// HandlerOnly is ClientOnly's mirror.
func (s *Scope) HandlerOnly(name string) bool {
	if s.ForClient {
		s.misplaced = append(s.misplaced, name)
	}
	return !s.ForClient
}

// Err reports the misplaced options, naming the constructor of pkg.
func (s *Scope) Err(pkg string) error {
	if len(s.misplaced) == 0 {
		return nil
	}
	kind := "NewHandler"
	if s.ForClient {
		kind = "NewClient"
	}
	return fmt.Errorf("%s: %s does not take %s", pkg, kind, strings.Join(s.misplaced, ", "))
}

// Scoped is what the shared options need of a vendor config.
type Scoped interface{ scope() *Scope }

func (s *Scope) scope() *Scope { return s }

// Apply builds a config with the options, for a client or a handler.
func Apply[C any, PC interface {
	*C
	Scoped
}, O ~func(PC)](pkg string, forClient bool, opts []O) (PC, error) {
	c := PC(new(C))
	c.scope().ForClient = forClient
	for _, o := range opts {
		if o != nil {
			o(c)
		}
	}
	if err := c.scope().Err(pkg); err != nil {
		return nil, err
	}
	return c, nil
}

func client[C Scoped](name string, set func(*transport.Config)) func(C) {
	return func(c C) {
		if s := c.scope(); s.ClientOnly(name) {
			set(&s.Transport)
		}
	}
}

// Logger sets the client's logger or the handler's, depending on the scope.
func Logger[C Scoped](l *slog.Logger) func(C) {
	return func(c C) {
		if s := c.scope(); s.ForClient {
			s.Transport.Logger = l
		} else {
			s.Logger = l
		}
	}
}

// Observer is WithObserver, for a client or a handler.
func Observer[C Scoped](o observe.Observer) func(C) {
	return func(c C) {
		if s := c.scope(); s.ForClient {
			s.Transport.Observer = o
		} else {
			s.Observer = o
		}
	}
}

// HTTPClient is WithHTTPClient.
func HTTPClient[C Scoped](hc *http.Client) func(C) {
	return client[C]("WithHTTPClient", func(t *transport.Config) { t.HTTPClient = hc })
}

// Timeout is WithTimeout.
func Timeout[C Scoped](d time.Duration) func(C) {
	return client[C]("WithTimeout", func(t *transport.Config) { t.Timeout = d })
}

// MaxRetries is WithMaxRetries.
func MaxRetries[C Scoped](n int) func(C) {
	return client[C]("WithMaxRetries", func(t *transport.Config) { t.SetMaxRetries(n) })
}

// RetryWait is WithRetryWait.
func RetryWait[C Scoped](minWait, maxWait time.Duration) func(C) {
	return client[C]("WithRetryWait", func(t *transport.Config) { t.WaitMin, t.WaitMax = minWait, maxWait })
}

// RetryPolicy is WithRetryPolicy.
func RetryPolicy[C Scoped](p transport.RetryPolicy) func(C) {
	return client[C]("WithRetryPolicy", func(t *transport.Config) { t.RetryPolicy = p })
}

// UserAgent is WithUserAgent.
func UserAgent[C Scoped](ua string) func(C) {
	return client[C]("WithUserAgent", func(t *transport.Config) { t.UserAgent = ua })
}

// MaxBodyBytes is WithMaxBodyBytes (handlers only).
func MaxBodyBytes[C Scoped](n int64) func(C) {
	return handler[C]("WithMaxBodyBytes", func(s *Scope) { s.MaxBody = n })
}

func handler[C Scoped](name string, set func(*Scope)) func(C) {
	return func(c C) {
		if s := c.scope(); s.HandlerOnly(name) {
			set(s)
		}
	}
}

// WebhookHeader is WithWebhookHeader (handlers only).
func WebhookHeader[C Scoped](name, value string) func(C) {
	return handler[C]("WithWebhookHeader", func(s *Scope) {
		s.Auth.Headers = append(s.Auth.Headers, inbound.Header{Name: name, Value: value})
	})
}

// BasicAuth is WithBasicAuth (handlers only).
func BasicAuth[C Scoped](user, password string) func(C) {
	return handler[C]("WithBasicAuth", func(s *Scope) {
		s.Auth.Basic, s.Auth.User, s.Auth.Password = true, user, password
	})
}

// PreviousWebhookHeader is WithPreviousWebhookHeader (handlers only): value
// is still accepted for the WithWebhookHeader header name during a
// rotation.
func PreviousWebhookHeader[C Scoped](name, value string) func(C) {
	return handler[C]("WithPreviousWebhookHeader", func(s *Scope) {
		s.Auth.PreviousHeaders = append(s.Auth.PreviousHeaders, inbound.Header{Name: name, Value: value})
	})
}

// PreviousBasicAuthPasswords is WithPreviousBasicAuthPasswords (handlers
// only).
func PreviousBasicAuthPasswords[C Scoped](passwords ...string) func(C) {
	return handler[C]("WithPreviousBasicAuthPasswords", func(s *Scope) {
		s.Auth.PreviousPasswords = append(s.Auth.PreviousPasswords, passwords...)
	})
}

// NoAuth is WithoutAuthentication (handlers only).
func NoAuth[C Scoped]() func(C) {
	return handler[C]("WithoutAuthentication", func(s *Scope) { s.Auth.None = true })
}

// Deduplication is WithDeduplication (handlers only): d remembers
// deliveries for ttl (0: a day), with the lease and the answer budget of
// opts (see inbound.NewDedup). A nil d turns deduplication off.
func Deduplication[C Scoped](d store.Deduplicator, ttl time.Duration, opts ...store.DedupOptions) func(C) {
	return handler[C]("WithDeduplication", func(s *Scope) { s.Dedup = inbound.NewDedup(d, ttl, opts...) })
}

// Tap is WithTap (handlers only).
func Tap[C Scoped](t *tap.Tap) func(C) {
	return handler[C]("WithTap", func(s *Scope) { s.Tap = t })
}
