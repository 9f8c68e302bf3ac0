// Package admin is a browser page, and the small JSON API behind it, to
// see and operate a bot's queues: their statistics (pending, running,
// retrying, dead, the age of the oldest message, paused), the dead letters
// with their errors and attempts, a message's payload on request, and,
// when enabled, the actions: replay one or every dead letter, delete one
// or every dead letter, pause and resume consumption.
//
// The handler is meant to be mounted under a path of the bot's own server,
// with a trailing slash and the prefix stripped:
//
//	h, err := admin.NewHandler(map[string]store.QueueAdmin{"onetalk": q},
//		admin.WithCredential(os.Getenv("ADMIN_PASSWORD")), admin.WithActions())
//	mux.Handle("/admin/", http.StripPrefix("/admin", h))
//
// The browser asks for the credential (HTTP Basic, any user name); a
// script sends it as "Authorization: Bearer <credential>". The handler is
// read-only unless WithActions is given.
//
// The JSON API, under the mount (every answer is application/json; an
// error is {"error": "..."}; a list's limit is 1 to 1000, default 50):
//
//	GET  api/queues                                {"actions": bool, "queues": [Queue...]}
//	GET  api/queues/{name}                         Queue
//	GET  api/queues/{name}/dead?cursor=&limit=     {"messages": [Message...], "next": "cursor, or empty after the last page"}
//	GET  api/queues/{name}/pending?cursor=&limit=  the same, for the messages not yet acknowledged
//	GET  api/queues/{name}/messages/{id}           Message, with its payload
//	POST api/queues/{name}/replay   {"id": "..."} or {"all": true}  ->  {"replayed": n}
//	POST api/queues/{name}/delete   {"id": "..."} or {"all": true}  ->  {"deleted": n}
//	POST api/queues/{name}/pause    {} or no body  ->  {"paused": true}
//	POST api/queues/{name}/resume   {} or no body  ->  {"paused": false}
//
// Replaying one dead letter uses the queue's store.Queue Replay method
// (QueueAdmin has only ReplayAll); the memory and Redis queues have both,
// and a queue without it answers 501 to a replay of one.
//
// Security: a request without the credential gets 401 before anything
// else (the credential is compared in constant time, and no page or
// answer shows it). A POST must declare a JSON body (else 415) and must
// not come from another origin: its Origin, when sent, must be the
// request's own host, and its Sec-Fetch-Site, when sent, "same-origin"
// (else 403), which stops cross-site request forgery; behind a reverse
// proxy, the proxy must pass the Host the browser used. A POST to a
// read-only handler gets 403. The page loads nothing from elsewhere (no
// CDN), holds no secret, and is served with a strict
// Content-Security-Policy. WithoutAuthentication, for a page on the
// developer's machine, answers only requests from a loopback address
// whose Host is localhost or a loopback IP, which stops DNS rebinding.
package admin

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/botwire/botwire/internal/localweb"
	"github.com/botwire/botwire/store"
)

//go:embed web
var webFS embed.FS

// MinCredentialLength is the shortest credential WithCredential accepts,
// in bytes.
const MinCredentialLength = 12

// Option configures NewHandler.
type Option func(*config)

type config struct {
	credential string
	credSet    bool
	noAuth     bool
	actions    bool
	hosts      []string
}

// WithCredential makes the handler require credential on every request:
// as the password of HTTP Basic authentication (any user name; this is
// what a browser sends once asked) or as a bearer token
// ("Authorization: Bearer <credential>"). It must be at least
// MinCredentialLength bytes. The handler keeps only its SHA-256.
func WithCredential(credential string) Option {
	return func(c *config) { c.credential, c.credSet = credential, true }
}

// WithoutAuthentication builds a handler that asks for no credential, for
// a page on the developer's machine only: it then answers only requests
// from a loopback address whose Host is localhost or a loopback IP (or a
// name given to WithHosts), and 403 (421 for the Host) to the others.
// NewHandler refuses a handler with neither this nor WithCredential.
func WithoutAuthentication() Option {
	return func(c *config) { c.noAuth = true }
}

// WithActions enables the POST actions (replay, delete, pause, resume).
// Without it the handler is read-only and answers them 403.
func WithActions() Option {
	return func(c *config) { c.actions = true }
}

// WithHosts restricts the Host a request may name (without the port,
// compared without regard to case) to hosts, and, with
// WithoutAuthentication, adds them to the loopback names allowed. A
// request naming another host gets 421 Misdirected Request.
func WithHosts(hosts ...string) Option {
	return func(c *config) { c.hosts = append(c.hosts, hosts...) }
}

// Queue is a queue's entry in the JSON API: its name and statistics.
type Queue struct {
	Name     string `json:"name"`
	Pending  int    `json:"pending"`
	Running  int    `json:"running"`
	Retrying int    `json:"retrying"`
	Dead     int    `json:"dead"`
	// OldestPendingSeconds is store.QueueStats.OldestPending in seconds.
	OldestPendingSeconds float64 `json:"oldestPendingSeconds"`
	Paused               bool    `json:"paused"`
	// Error is why the statistics could not be read, if they could not.
	Error string `json:"error,omitempty"`
}

// Message is a message in the JSON API. Payload is set only by the
// messages/{id} endpoint: the payload as text when it is UTF-8, else
// PayloadBase64 is set instead.
type Message struct {
	ID            string            `json:"id"`
	Key           string            `json:"key"`
	Attempts      int               `json:"attempts"`
	Enqueued      time.Time         `json:"enqueued"`
	Error         string            `json:"error,omitempty"`
	Header        map[string]string `json:"header,omitempty"`
	Payload       *string           `json:"payload,omitempty"`
	PayloadBase64 []byte            `json:"payloadBase64,omitempty"`
}

type handler struct {
	queues  map[string]store.QueueAdmin
	names   []string
	sum     [sha256.Size]byte
	noAuth  bool
	actions bool
	hosts   []string
	mux     *http.ServeMux
}

// NewHandler returns the admin page and API for queues, keyed by the name
// the page shows (a name must not be empty nor hold "/"). It refuses to
// build without WithCredential or WithoutAuthentication.
func NewHandler(queues map[string]store.QueueAdmin, opts ...Option) (http.Handler, error) {
	var c config
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	switch {
	case c.credSet && c.noAuth:
		return nil, errors.New("admin: WithCredential and WithoutAuthentication exclude each other")
	case !c.credSet && !c.noAuth:
		return nil, errors.New("admin: a credential is required (WithCredential), or WithoutAuthentication for a page on this machine only")
	case c.credSet && len(c.credential) < MinCredentialLength:
		return nil, fmt.Errorf("admin: the credential is too short (%d bytes, at least %d)", len(c.credential), MinCredentialLength)
	}
	if len(queues) == 0 {
		return nil, errors.New("admin: no queue to show")
	}
	h := &handler{queues: map[string]store.QueueAdmin{}, noAuth: c.noAuth, actions: c.actions, mux: http.NewServeMux()}
	for name, q := range queues {
		switch {
		case name == "" || strings.ContainsAny(name, "/\\") || !utf8.ValidString(name):
			return nil, fmt.Errorf("admin: the queue name %q is empty or holds a slash", name)
		case q == nil:
			return nil, fmt.Errorf("admin: the queue %q is nil", name)
		}
		h.queues[name] = q
		h.names = append(h.names, name)
	}
	slices.Sort(h.names)
	for _, host := range c.hosts {
		h.hosts = append(h.hosts, strings.ToLower(strings.Trim(host, "[]")))
	}
	if c.credSet {
		h.sum = sha256.Sum256([]byte(c.credential))
	}

	static, _ := fs.Sub(webFS, "web")
	files := http.FileServerFS(static)
	h.mux.Handle("GET /{$}", files)
	h.mux.Handle("GET /app.js", files)
	h.mux.Handle("GET /app.css", files)
	h.mux.HandleFunc("GET /api/queues", h.listQueues)
	h.mux.HandleFunc("GET /api/queues/{name}", h.withQueue(h.queue))
	h.mux.HandleFunc("GET /api/queues/{name}/dead", h.withQueue(h.list(store.StateDead)))
	h.mux.HandleFunc("GET /api/queues/{name}/pending", h.withQueue(h.list(store.StatePending)))
	h.mux.HandleFunc("GET /api/queues/{name}/messages/{id}", h.withQueue(h.message))
	h.mux.HandleFunc("POST /api/queues/{name}/replay", h.action(h.replay))
	h.mux.HandleFunc("POST /api/queues/{name}/delete", h.action(h.delete))
	h.mux.HandleFunc("POST /api/queues/{name}/pause", h.action(h.pause(true)))
	h.mux.HandleFunc("POST /api/queues/{name}/resume", h.action(h.pause(false)))
	h.mux.HandleFunc("/api/", func(w http.ResponseWriter, _ *http.Request) {
		writeError(w, http.StatusNotFound, "no such endpoint")
	})
	return h, nil
}

// contentSecurityPolicy lets the page load its own script and style and
// talk to its own API, and nothing else.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; " +
	"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", contentSecurityPolicy)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("Cache-Control", "no-store")
	if status, why := h.admit(r); status != 0 {
		if status == http.StatusUnauthorized {
			hd.Set("WWW-Authenticate", `Basic realm="botwire admin", charset="UTF-8"`)
		}
		writeError(w, status, why)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		if status, why := localweb.CheckWrite(r); status != 0 {
			writeError(w, status, why)
			return
		}
	}
	h.mux.ServeHTTP(w, r)
}

// admit checks where r comes from and its credential.
func (h *handler) admit(r *http.Request) (int, string) {
	host, _ := localweb.SplitHost(r.Host, r.TLS != nil)
	host = strings.ToLower(host)
	if h.noAuth {
		if !localweb.LoopbackRemote(r.RemoteAddr) {
			return http.StatusForbidden, "this page, built without authentication, answers only on this machine"
		}
		if !localweb.LocalHost(host, "") && !slices.Contains(h.hosts, host) {
			return http.StatusMisdirectedRequest, "this page answers only at localhost or a loopback address"
		}
		return 0, ""
	}
	if len(h.hosts) > 0 && !slices.Contains(h.hosts, host) {
		return http.StatusMisdirectedRequest, "this page does not answer at this host"
	}
	if !h.authorized(r) {
		return http.StatusUnauthorized, "authentication required"
	}
	return 0, ""
}

func (h *handler) authorized(r *http.Request) bool {
	var given string
	if _, pass, ok := r.BasicAuth(); ok {
		given = pass
	} else if a := r.Header.Get("Authorization"); len(a) > 7 && strings.EqualFold(a[:7], "bearer ") {
		given = strings.TrimSpace(a[7:])
	} else {
		return false
	}
	sum := sha256.Sum256([]byte(given))
	return subtle.ConstantTimeCompare(sum[:], h.sum[:]) == 1
}

func (h *handler) stats(r *http.Request, name string) Queue {
	q := h.queues[name]
	out := Queue{Name: name}
	st, err := q.Stats(r.Context())
	if err != nil {
		out.Error = "statistics: " + err.Error()
		return out
	}
	out.Pending, out.Running, out.Retrying, out.Dead = st.Pending, st.Running, st.Retrying, st.Dead
	out.OldestPendingSeconds = st.OldestPending.Seconds()
	if out.Paused, err = q.Paused(r.Context()); err != nil {
		out.Error = "paused: " + err.Error()
	}
	return out
}

func (h *handler) listQueues(w http.ResponseWriter, r *http.Request) {
	qs := make([]Queue, 0, len(h.names))
	for _, name := range h.names {
		qs = append(qs, h.stats(r, name))
	}
	writeJSON(w, http.StatusOK, map[string]any{"actions": h.actions, "queues": qs})
}

type queueFunc func(w http.ResponseWriter, r *http.Request, name string, q store.QueueAdmin)

func (h *handler) withQueue(f queueFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("name")
		q, ok := h.queues[name]
		if !ok {
			writeError(w, http.StatusNotFound, "no such queue")
			return
		}
		f(w, r, name, q)
	}
}

func (h *handler) queue(w http.ResponseWriter, r *http.Request, name string, _ store.QueueAdmin) {
	writeJSON(w, http.StatusOK, h.stats(r, name))
}

func (h *handler) list(state store.MessageState) queueFunc {
	return func(w http.ResponseWriter, r *http.Request, _ string, q store.QueueAdmin) {
		opts := store.ListOptions{State: state, Cursor: r.URL.Query().Get("cursor"), Limit: 50}
		if l := r.URL.Query().Get("limit"); l != "" {
			n, err := strconv.Atoi(l)
			if err != nil || n < 1 || n > 1000 {
				writeError(w, http.StatusBadRequest, "limit must be a number from 1 to 1000")
				return
			}
			opts.Limit = n
		}
		page, err := q.List(r.Context(), opts)
		if err != nil {
			writeStoreError(w, "listing", err)
			return
		}
		msgs := make([]Message, 0, len(page.Messages))
		for _, m := range page.Messages {
			msgs = append(msgs, toMessage(m, false))
		}
		writeJSON(w, http.StatusOK, map[string]any{"messages": msgs, "next": page.Next})
	}
}

func (h *handler) message(w http.ResponseWriter, r *http.Request, _ string, q store.QueueAdmin) {
	m, err := q.Message(r.Context(), r.PathValue("id"))
	if err != nil {
		writeStoreError(w, "reading the message", err)
		return
	}
	writeJSON(w, http.StatusOK, toMessage(m, true))
}

func toMessage(m store.Message, payload bool) Message {
	out := Message{ID: m.ID, Key: m.Key, Attempts: m.Attempts, Enqueued: m.Enqueued, Error: m.Err, Header: m.Header}
	if payload {
		if utf8.Valid(m.Payload) {
			s := string(m.Payload)
			out.Payload = &s
		} else {
			out.PayloadBase64 = m.Payload
		}
	}
	return out
}

// target is the body of replay and delete: one message or all of them.
type target struct {
	ID  string `json:"id"`
	All bool   `json:"all"`
}

// action wraps a POST endpoint: refused unless WithActions, on a known
// queue.
func (h *handler) action(f queueFunc) http.HandlerFunc {
	q := h.withQueue(f)
	return func(w http.ResponseWriter, r *http.Request) {
		if !h.actions {
			writeError(w, http.StatusForbidden, "this page is read-only: the actions are enabled by admin.WithActions")
			return
		}
		q(w, r)
	}
}

func readTarget(w http.ResponseWriter, r *http.Request) (target, bool) {
	var t target
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&t); err != nil {
		writeError(w, http.StatusBadRequest, `the body must be {"id": "..."} or {"all": true}`)
		return t, false
	}
	if (t.ID == "") == !t.All {
		writeError(w, http.StatusBadRequest, `the body must be {"id": "..."} or {"all": true}, one of them`)
		return t, false
	}
	return t, true
}

// replayer is the single-message replay of a store.Queue, which a
// QueueAdmin of the memory and Redis stores also is.
type replayer interface {
	Replay(ctx context.Context, id string) error
}

func (h *handler) replay(w http.ResponseWriter, r *http.Request, _ string, q store.QueueAdmin) {
	t, ok := readTarget(w, r)
	if !ok {
		return
	}
	if t.All {
		n, err := q.ReplayAll(r.Context())
		if err != nil {
			writeStoreError(w, "replaying", err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]int{"replayed": n})
		return
	}
	rq, ok := q.(replayer)
	if !ok {
		writeError(w, http.StatusNotImplemented, "this queue replays only all its dead letters")
		return
	}
	if err := rq.Replay(r.Context(), t.ID); err != nil {
		writeStoreError(w, "replaying", err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]int{"replayed": 1})
}

func (h *handler) delete(w http.ResponseWriter, r *http.Request, _ string, q store.QueueAdmin) {
	t, ok := readTarget(w, r)
	if !ok {
		return
	}
	n := 1
	var err error
	if t.All {
		n, err = q.DeleteAllDead(r.Context())
	} else {
		err = q.DeleteDead(r.Context(), t.ID)
	}
	if err != nil {
		writeStoreError(w, "deleting", err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]int{"deleted": n})
}

func (h *handler) pause(paused bool) queueFunc {
	return func(w http.ResponseWriter, r *http.Request, _ string, q store.QueueAdmin) {
		var body struct{}
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4<<10))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&body); err != nil && !errors.Is(err, io.EOF) {
			writeError(w, http.StatusBadRequest, "the body must be {} or empty")
			return
		}
		var err error
		if paused {
			err = q.Pause(r.Context())
		} else {
			err = q.Resume(r.Context())
		}
		if err != nil {
			writeStoreError(w, "pausing or resuming", err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]bool{"paused": paused})
	}
}

func writeStoreError(w http.ResponseWriter, doing string, err error) {
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, "no such message")
		return
	}
	writeError(w, http.StatusInternalServerError, doing+": "+err.Error())
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
