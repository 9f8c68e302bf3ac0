package onetalk

import (
	"errors"

	"github.com/botwire/botwire/internal/transport"
)

// Errors callers branch on.
var (
	// ErrMissingSecret: the request carried no X-Secret-Key header.
	ErrMissingSecret = errors.New("onetalk: missing secret key")
	// ErrInvalidSecret: the X-Secret-Key header did not match.
	ErrInvalidSecret = errors.New("onetalk: invalid secret key")
	// ErrNoSecret: a handler or client was built with an empty secret.
	ErrNoSecret = errors.New("onetalk: empty secret key")
	// ErrRejected: OneTalk answered 2xx with {"success": false, ...}. The
	// chatbot doc does not describe the answer; this reading comes from
	// OneTalk's custom-channel API, whose OneTalk URL answers
	// {"success": boolean, "message": string} (plausibly the same backend).
	ErrRejected = errors.New("onetalk: request rejected")
)

// APIError is a non-2xx answer from the OneTalk URL, returned after the last
// attempt: StatusCode, Header, Body (at most 64 KiB), and RetryAfter when
// OneTalk sent one. Use errors.As to get it. Its message never contains the
// secret key.
type APIError = transport.APIError

// RetryPolicy chooses which failures the client retries; see WithRetryPolicy.
type RetryPolicy = transport.RetryPolicy

// Retry policies.
const (
	// RetryIdempotent (the default) retries connection failures before
	// sending, 429 and 503 for every call, and other 5xx or ambiguous
	// failures only for calls that are safe to repeat (UpdateCase,
	// UpdateContact, and CloseCase without a closing message).
	RetryIdempotent = transport.RetryIdempotent
	// RetryAlways retries ambiguous failures for every call, accepting that
	// a customer may get a message twice.
	RetryAlways = transport.RetryAlways
	// RetryNever makes one attempt.
	RetryNever = transport.RetryNever
)
