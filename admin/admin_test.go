package admin_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/botwire/botwire/admin"
	"github.com/botwire/botwire/store"
)

const credential = "admin-credential-7f3a91"

const deadError = "bot backend answered 503 Service Unavailable"

// adminQueue is what the tests drive: a queue they fill and the admin
// interface the handler reads.
type adminQueue interface {
	store.Queue
	store.QueueAdmin
}

var _ adminQueue = (*store.MemoryQueue)(nil)

// newQueue returns a queue with one dead letter (key "alice", payload
// {"text":"broken"}, error deadError) and one pending message (key "bob")
// and the dead letter's id.
func newQueue(t *testing.T) (adminQueue, string) {
	t.Helper()
	q := store.NewMemoryQueue(store.QueueOptions{MaxAttempts: 1})
	ctx := context.Background()
	id, err := q.Enqueue(ctx, store.Message{Key: "alice", Payload: []byte(`{"text":"broken"}`)})
	if err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- q.Consume(cctx, "test", func(context.Context, store.Message) error { return errors.New(deadError) })
	}()
	deadline := time.Now().Add(5 * time.Second)
	for {
		st, err := q.Stats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if st.Dead == 1 && st.Running == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no dead letter: %+v", st)
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
	if _, err := q.Enqueue(ctx, store.Message{Key: "bob", Payload: []byte(`{"text":"waiting"}`)}); err != nil {
		t.Fatal(err)
	}
	return q, id
}

func newServer(t *testing.T, q store.QueueAdmin, opts ...admin.Option) *httptest.Server {
	t.Helper()
	h, err := admin.NewHandler(map[string]store.QueueAdmin{"support": q}, opts...)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/admin/", http.StripPrefix("/admin", h))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// do sends a request with the credential (unless auth is "") and returns
// the status and body; a POST body is sent as JSON.
func do(t *testing.T, method, url, auth, body string, header ...string) (int, string, http.Header) {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		t.Fatal(err)
	}
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/json")
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b), resp.Header
}

var bearer = "Bearer " + credential

func basic(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

func decode(t *testing.T, body string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(body), v); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
}

func TestNewHandlerRefuses(t *testing.T) {
	q, _ := newQueue(t)
	qs := map[string]store.QueueAdmin{"support": q}
	for name, c := range map[string]struct {
		queues map[string]store.QueueAdmin
		opts   []admin.Option
	}{
		"no credential":  {qs, nil},
		"short":          {qs, []admin.Option{admin.WithCredential("short")}},
		"both":           {qs, []admin.Option{admin.WithCredential(credential), admin.WithoutAuthentication()}},
		"no queue":       {nil, []admin.Option{admin.WithCredential(credential)}},
		"nil queue":      {map[string]store.QueueAdmin{"x": nil}, []admin.Option{admin.WithCredential(credential)}},
		"slash in name":  {map[string]store.QueueAdmin{"a/b": q}, []admin.Option{admin.WithCredential(credential)}},
		"empty name":     {map[string]store.QueueAdmin{"": q}, []admin.Option{admin.WithCredential(credential)}},
		"only actions":   {qs, []admin.Option{admin.WithActions()}},
		"short, actions": {qs, []admin.Option{admin.WithActions(), admin.WithCredential("0123456789")}},
	} {
		h, err := admin.NewHandler(c.queues, c.opts...)
		if err == nil || h != nil {
			t.Errorf("%s: built (%v)", name, err)
			continue
		}
		if strings.Contains(err.Error(), "0123456789") || strings.Contains(err.Error(), credential) {
			t.Errorf("%s: the error shows the credential: %v", name, err)
		}
	}
}

func TestAuthentication(t *testing.T) {
	q, _ := newQueue(t)
	srv := newServer(t, q, admin.WithCredential(credential), admin.WithActions())
	for _, path := range []string{"/admin/", "/admin/app.js", "/admin/api/queues", "/admin/api/queues/support/dead", "/admin/api/nothing"} {
		for name, auth := range map[string]string{"none": "", "wrong bearer": "Bearer " + credential + "x",
			"wrong basic": basic("ops", "nope"), "short bearer": "Bearer " + credential[:5], "empty basic": basic("", ""),
			"user as password": basic(credential, "x")} {
			status, body, hd := do(t, http.MethodGet, srv.URL+path, auth, "")
			if status != http.StatusUnauthorized {
				t.Errorf("GET %s, %s: %d %s", path, name, status, body)
			}
			if !strings.HasPrefix(hd.Get("WWW-Authenticate"), "Basic ") {
				t.Errorf("GET %s, %s: WWW-Authenticate %q", path, name, hd.Get("WWW-Authenticate"))
			}
		}
	}
	status, body, _ := do(t, http.MethodPost, srv.URL+"/admin/api/queues/support/pause", "", "{}")
	if status != http.StatusUnauthorized {
		t.Errorf("POST without credential: %d %s", status, body)
	}
	if p, _ := q.Paused(context.Background()); p {
		t.Error("an unauthenticated POST paused the queue")
	}
	for name, auth := range map[string]string{"bearer": bearer, "basic": basic("anyone", credential), "bearer lower": "bearer " + credential} {
		if status, body, _ := do(t, http.MethodGet, srv.URL+"/admin/api/queues", auth, ""); status != http.StatusOK {
			t.Errorf("%s: %d %s", name, status, body)
		}
	}
}

func TestPageAndHeaders(t *testing.T) {
	q, _ := newQueue(t)
	srv := newServer(t, q, admin.WithCredential(credential))
	for path, want := range map[string]string{"/admin/": "<title>botwire queues</title>", "/admin/app.js": "async function api(", "/admin/app.css": "table {"} {
		status, body, hd := do(t, http.MethodGet, srv.URL+path, bearer, "")
		if status != http.StatusOK || !strings.Contains(body, want) {
			t.Errorf("%s: %d %.200s", path, status, body)
		}
		csp := hd.Get("Content-Security-Policy")
		for _, d := range []string{"default-src 'none'", "script-src 'self'", "frame-ancestors 'none'"} {
			if !strings.Contains(csp, d) {
				t.Errorf("%s: CSP %q lacks %q", path, csp, d)
			}
		}
		if hd.Get("X-Content-Type-Options") != "nosniff" || hd.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: headers %v", path, hd)
		}
		for _, bad := range []string{"http://", "https://", "<script>", " onclick=", "innerHTML"} {
			if path != "/admin/app.css" && strings.Contains(body, bad) {
				t.Errorf("%s holds %q: no CDN, no inline script, no HTML from data", path, bad)
			}
		}
	}
}

func TestReadOnly(t *testing.T) {
	q, dead := newQueue(t)
	srv := newServer(t, q, admin.WithCredential(credential))
	var list struct{ Actions bool }
	_, body, _ := do(t, http.MethodGet, srv.URL+"/admin/api/queues", bearer, "")
	decode(t, body, &list)
	if list.Actions {
		t.Error("a read-only handler says its actions are enabled")
	}
	for path, b := range map[string]string{"replay": `{"id":"` + dead + `"}`, "delete": `{"all":true}`, "pause": `{}`, "resume": `{}`} {
		status, body, _ := do(t, http.MethodPost, srv.URL+"/admin/api/queues/support/"+path, bearer, b)
		if status != http.StatusForbidden || !strings.Contains(body, "read-only") {
			t.Errorf("%s: %d %s", path, status, body)
		}
	}
	st, _ := q.Stats(context.Background())
	if p, _ := q.Paused(context.Background()); st.Dead != 1 || p {
		t.Errorf("a read-only handler changed the queue: %+v, paused %v", st, p)
	}
}

func TestWritesMustBeSameOriginJSON(t *testing.T) {
	q, dead := newQueue(t)
	srv := newServer(t, q, admin.WithCredential(credential), admin.WithActions())
	url := srv.URL + "/admin/api/queues/support/delete"
	body := `{"id":"` + dead + `"}`
	for name, c := range map[string]struct {
		header []string
		want   int
	}{
		"text/plain":        {[]string{"Content-Type", "text/plain"}, http.StatusUnsupportedMediaType},
		"form":              {[]string{"Content-Type", "application/x-www-form-urlencoded"}, http.StatusUnsupportedMediaType},
		"no content type":   {[]string{"Content-Type", ""}, http.StatusUnsupportedMediaType},
		"other origin":      {[]string{"Origin", "http://evil.example"}, http.StatusForbidden},
		"null origin":       {[]string{"Origin", "null"}, http.StatusForbidden},
		"cross-site":        {[]string{"Sec-Fetch-Site", "cross-site"}, http.StatusForbidden},
		"same-site":         {[]string{"Sec-Fetch-Site", "same-site"}, http.StatusForbidden},
		"origin other port": {[]string{"Origin", strings.Replace(srv.URL, "127.0.0.1:", "127.0.0.1:1", 1)}, http.StatusForbidden},
	} {
		status, answer, _ := do(t, http.MethodPost, url, bearer, body, c.header...)
		if status != c.want {
			t.Errorf("%s: %d %s, want %d", name, status, answer, c.want)
		}
	}
	if st, _ := q.Stats(context.Background()); st.Dead != 1 {
		t.Fatalf("a refused request deleted the dead letter: %+v", st)
	}
	// A same-origin browser request passes.
	status, answer, _ := do(t, http.MethodPost, url, bearer, body, "Origin", srv.URL, "Sec-Fetch-Site", "same-origin")
	if status != http.StatusOK {
		t.Errorf("same-origin: %d %s", status, answer)
	}
	for name, b := range map[string]string{"empty": "", "both": `{"id":"x","all":true}`, "neither": `{}`, "unknown": `{"ids":["x"]}`, "junk": `{`} {
		if status, answer, _ := do(t, http.MethodPost, srv.URL+"/admin/api/queues/support/replay", bearer, b); status != http.StatusBadRequest {
			t.Errorf("body %s: %d %s", name, status, answer)
		}
	}
}

type queueJSON struct {
	Name                             string
	Pending, Running, Retrying, Dead int
	OldestPendingSeconds             float64
	Paused                           bool
	Error                            string
}

type messageJSON struct {
	ID, Key, Error string
	Attempts       int
	Enqueued       time.Time
	Payload        *string
}

type pageJSON struct {
	Messages []messageJSON
	Next     string
}

func TestEndpoints(t *testing.T) {
	q, dead := newQueue(t)
	srv := newServer(t, q, admin.WithCredential(credential), admin.WithActions())
	base := srv.URL + "/admin/api/queues"

	var list struct {
		Actions bool
		Queues  []queueJSON
	}
	status, body, hd := do(t, http.MethodGet, base, bearer, "")
	decode(t, body, &list)
	if status != http.StatusOK || hd.Get("Content-Type") != "application/json" || !list.Actions || len(list.Queues) != 1 {
		t.Fatalf("%d %s", status, body)
	}
	if got := list.Queues[0]; got.Name != "support" || got.Pending != 1 || got.Dead != 1 || got.Running != 0 || got.Paused ||
		got.OldestPendingSeconds <= 0 || got.Error != "" {
		t.Errorf("queue: %+v", got)
	}

	var one queueJSON
	_, body, _ = do(t, http.MethodGet, base+"/support", bearer, "")
	decode(t, body, &one)
	if one.Name != "support" || one.Dead != 1 || one.Pending != 1 {
		t.Errorf("queue: %s", body)
	}

	var page pageJSON
	_, body, _ = do(t, http.MethodGet, base+"/support/dead", bearer, "")
	decode(t, body, &page)
	if len(page.Messages) != 1 || page.Next != "" {
		t.Fatalf("dead: %s", body)
	}
	if m := page.Messages[0]; m.ID != dead || m.Key != "alice" || m.Error != deadError || m.Attempts != 1 ||
		m.Enqueued.IsZero() || m.Payload != nil || strings.Contains(body, "broken") {
		t.Errorf("dead letter (no payload unless asked): %s", body)
	}

	_, body, _ = do(t, http.MethodGet, base+"/support/pending", bearer, "")
	decode(t, body, &page)
	if len(page.Messages) != 1 || page.Messages[0].Key != "bob" || strings.Contains(body, "waiting") {
		t.Errorf("pending: %s", body)
	}

	var m messageJSON
	_, body, _ = do(t, http.MethodGet, base+"/support/messages/"+dead, bearer, "")
	decode(t, body, &m)
	if m.ID != dead || m.Payload == nil || *m.Payload != `{"text":"broken"}` || m.Error != deadError {
		t.Errorf("message: %s", body)
	}

	for path, want := range map[string]int{
		"/nope": 404, "/nope/dead": 404, "/support/messages/nope": 404, "/support/dead?limit=0": 400, "/support/dead?limit=x": 400,
	} {
		if status, body, _ := do(t, http.MethodGet, base+path, bearer, ""); status != want {
			t.Errorf("%s: %d %s, want %d", path, status, body, want)
		}
	}
}

func TestDeadLettersPage(t *testing.T) {
	q, first := newQueue(t)
	// Two more dead letters.
	ctx := context.Background()
	for _, k := range []string{"carol", "dave"} {
		if _, err := q.Enqueue(ctx, store.Message{Key: k, Payload: []byte("x")}); err != nil {
			t.Fatal(err)
		}
	}
	cctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- q.Consume(cctx, "t", func(_ context.Context, m store.Message) error {
			if m.Key == "bob" {
				return nil
			}
			return errors.New("no")
		})
	}()
	for deadline := time.Now().Add(5 * time.Second); ; {
		st, _ := q.Stats(ctx)
		if st.Dead == 3 && st.Pending+st.Running+st.Retrying == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%+v", st)
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done

	srv := newServer(t, q, admin.WithCredential(credential))
	var ids []string
	cursor := ""
	for range 5 {
		var page pageJSON
		_, body, _ := do(t, http.MethodGet, srv.URL+"/admin/api/queues/support/dead?limit=2&cursor="+cursor, bearer, "")
		decode(t, body, &page)
		if len(page.Messages) > 2 {
			t.Fatalf("a page of %d", len(page.Messages))
		}
		for _, m := range page.Messages {
			ids = append(ids, m.ID)
		}
		if cursor = page.Next; cursor == "" {
			break
		}
	}
	if len(ids) != 3 || ids[0] != first {
		t.Errorf("paged dead letters %v, want 3 starting with %s", ids, first)
	}
}

func TestActions(t *testing.T) {
	ctx := context.Background()
	q, dead := newQueue(t)
	srv := newServer(t, q, admin.WithCredential(credential), admin.WithActions())
	base := srv.URL + "/admin/api/queues/support"

	status, body, _ := do(t, http.MethodPost, base+"/pause", bearer, "{}")
	if p, _ := q.Paused(ctx); status != http.StatusOK || !p {
		t.Errorf("pause: %d %s, paused %v", status, body, p)
	}
	var one queueJSON
	_, body, _ = do(t, http.MethodGet, base, bearer, "")
	decode(t, body, &one)
	if !one.Paused {
		t.Errorf("the queue is not shown paused: %s", body)
	}
	status, body, _ = do(t, http.MethodPost, base+"/resume", bearer, "")
	if p, _ := q.Paused(ctx); status != http.StatusOK || p {
		t.Errorf("resume: %d %s, paused %v", status, body, p)
	}

	status, body, _ = do(t, http.MethodPost, base+"/replay", bearer, `{"id":"`+dead+`"}`)
	st, _ := q.Stats(ctx)
	if status != http.StatusOK || !strings.Contains(body, `"replayed":1`) || st.Dead != 0 || st.Pending != 2 {
		t.Errorf("replay: %d %s, %+v", status, body, st)
	}
	if status, body, _ = do(t, http.MethodPost, base+"/replay", bearer, `{"id":"`+dead+`"}`); status != http.StatusNotFound {
		t.Errorf("replaying a replayed letter: %d %s", status, body)
	}
	if status, body, _ = do(t, http.MethodPost, base+"/delete", bearer, `{"id":"nope"}`); status != http.StatusNotFound {
		t.Errorf("deleting no letter: %d %s", status, body)
	}

	// Kill every message, then delete one and replay or delete the rest.
	cctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- q.Consume(cctx, "t", func(context.Context, store.Message) error { return errors.New("again") })
	}()
	for deadline := time.Now().Add(5 * time.Second); ; {
		if st, _ = q.Stats(ctx); st.Dead == 2 && st.Running == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%+v", st)
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
	status, body, _ = do(t, http.MethodPost, base+"/delete", bearer, `{"id":"`+dead+`"}`)
	if st, _ = q.Stats(ctx); status != http.StatusOK || st.Dead != 1 {
		t.Errorf("delete: %d %s, %+v", status, body, st)
	}
	if _, err := q.Message(ctx, dead); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the deleted letter is still there: %v", err)
	}
	status, body, _ = do(t, http.MethodPost, base+"/replay", bearer, `{"all":true}`)
	if st, _ = q.Stats(ctx); status != http.StatusOK || !strings.Contains(body, `"replayed":1`) || st.Dead != 0 || st.Pending != 1 {
		t.Errorf("replay all: %d %s, %+v", status, body, st)
	}
	go func() {
		done <- q.Consume(ctx2(t), "t", func(context.Context, store.Message) error { return errors.New("again") })
	}()
	for deadline := time.Now().Add(5 * time.Second); ; {
		if st, _ = q.Stats(ctx); st.Dead == 1 && st.Running == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%+v", st)
		}
		time.Sleep(5 * time.Millisecond)
	}
	status, body, _ = do(t, http.MethodPost, base+"/delete", bearer, `{"all":true}`)
	if st, _ = q.Stats(ctx); status != http.StatusOK || !strings.Contains(body, `"deleted":1`) || st.Dead != 0 {
		t.Errorf("delete all: %d %s, %+v", status, body, st)
	}
}

// ctx2 is a context that ends with the test.
func ctx2(t *testing.T) context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	return ctx
}

// No page or answer shows the credential, whatever the request.
func TestNoCredentialInAnswers(t *testing.T) {
	q, dead := newQueue(t)
	srv := newServer(t, q, admin.WithCredential(credential), admin.WithActions())
	enc := base64.StdEncoding.EncodeToString([]byte(credential))
	check := func(what, body string, hd http.Header) {
		t.Helper()
		all := body
		for k, v := range hd {
			all += k + strings.Join(v, " ")
		}
		if strings.Contains(all, credential) || strings.Contains(all, enc) {
			t.Errorf("%s shows the credential", what)
		}
	}
	for _, auth := range []string{bearer, basic("ops", credential), "", "Bearer " + credential + "x"} {
		for _, p := range []string{"/", "/app.js", "/app.css", "/api/queues", "/api/queues/support", "/api/queues/support/dead",
			"/api/queues/support/pending", "/api/queues/support/messages/" + dead, "/api/nope", "/nope"} {
			_, body, hd := do(t, http.MethodGet, srv.URL+"/admin"+p, auth, "")
			check("GET "+p, body, hd)
		}
		for _, p := range []string{"pause", "resume", "replay", "delete"} {
			_, body, hd := do(t, http.MethodPost, srv.URL+"/admin/api/queues/support/"+p, auth, `{"id":"`+credential+`x"}`)
			check("POST "+p, strings.ReplaceAll(body, credential+"x", ""), hd)
		}
	}
}

// WithoutAuthentication answers only a loopback Host from a loopback
// address.
func TestWithoutAuthentication(t *testing.T) {
	q, _ := newQueue(t)
	srv := newServer(t, q, admin.WithoutAuthentication(), admin.WithHosts("bot.internal"))
	for host, want := range map[string]int{"": 200, "localhost": 200, "[::1]": 200, "bot.internal": 200,
		"evil.example": http.StatusMisdirectedRequest, "10.0.0.1": http.StatusMisdirectedRequest} {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/admin/api/queues", nil)
		if host != "" {
			req.Host = host + ":80"
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("Host %q: %d, want %d", host, resp.StatusCode, want)
		}
	}
	h, err := admin.NewHandler(map[string]store.QueueAdmin{"support": q}, admin.WithoutAuthentication())
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodGet, "http://localhost/api/queues", nil)
	r.RemoteAddr = "203.0.113.9:4444"
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusForbidden {
		t.Errorf("a remote client: %d", w.Code)
	}
}

// WithHosts refuses another Host even with the credential.
func TestWithHosts(t *testing.T) {
	q, _ := newQueue(t)
	h, err := admin.NewHandler(map[string]store.QueueAdmin{"support": q}, admin.WithCredential(credential), admin.WithHosts("ops.example.com"))
	if err != nil {
		t.Fatal(err)
	}
	for host, want := range map[string]int{"ops.example.com": 200, "OPS.example.com:8443": 200, "evil.example": http.StatusMisdirectedRequest} {
		r := httptest.NewRequest(http.MethodGet, "http://"+host+"/api/queues", nil)
		r.Header.Set("Authorization", bearer)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != want {
			t.Errorf("Host %q: %d, want %d", host, w.Code, want)
		}
	}
}
