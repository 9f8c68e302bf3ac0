package inbound_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/botwire/botwire/botcopy"
	"github.com/botwire/botwire/easydialog"
	"github.com/botwire/botwire/observe"
	"github.com/botwire/botwire/onetalk"
	"github.com/botwire/botwire/tap"
	"github.com/botwire/botwire/tenant"
	"github.com/botwire/botwire/ultimate"
	"github.com/botwire/botwire/userlike"
)

func fixtureBody(t *testing.T, vendor, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("../../cmd/botwire/fixtures/" + vendor + "/" + name + ".json")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestTappedDeliveries checks, on every platform's handler, that an
// authenticated delivery is recorded with its credentials masked, its body
// and its status, and that a rejected one is not recorded.
func TestTappedDeliveries(t *testing.T) {
	cases := []struct {
		name     string
		build    func(tp *tap.Tap) (http.Handler, error)
		body     []byte
		header   http.Header // the credentials
		platform string
	}{
		{"onetalk", func(tp *tap.Tap) (http.Handler, error) {
			return onetalk.NewHandler("onetalk-secret-1", func(context.Context, *onetalk.InboundRequest) error { return nil }, onetalk.WithTap(tp))
		}, fixtureBody(t, "onetalk", "inbound_request"), http.Header{"X-Secret-Key": {"onetalk-secret-1"}}, "onetalk"},
		{"easydialog", func(tp *tap.Tap) (http.Handler, error) {
			return easydialog.NewHandler("easydialog-key-1", func(context.Context, *easydialog.Request) (*easydialog.Response, error) { return nil, nil },
				easydialog.WithTap(tp), easydialog.WithMaxAge(-1))
		}, fixtureBody(t, "easydialog", "request_example"), nil, "easydialog"},
		{"userlike", func(tp *tap.Tap) (http.Handler, error) {
			return userlike.NewHandler(func(context.Context, *userlike.Event, *userlike.Reply) error { return nil },
				userlike.WithWebhookHeader("X-Userlike-Check", "userlike-value-1"), userlike.WithTap(tp))
		}, fixtureBody(t, "userlike", "webhook_event_start"), http.Header{"X-Userlike-Check": {"userlike-value-1"}}, "userlike"},
		{"ultimate", func(tp *tap.Tap) (http.Handler, error) {
			return ultimate.NewChatHandler(ultimate.ChatCallbacks{OnMessage: func(context.Context, *ultimate.ChatEvent, *ultimate.Message) error { return nil }},
				ultimate.WithWebhookHeader("X-Ultimate-Check", "ultimate-value-1"), ultimate.WithBasicAuth("bot", "ultimate-pass-1"), ultimate.WithTap(tp))
		}, fixtureBody(t, "ultimate", "webhook_sendMessage_text"), http.Header{"X-Ultimate-Check": {"ultimate-value-1"},
			"Authorization": {"Basic " + basic("bot", "ultimate-pass-1")}}, "ultimate"},
		{"botcopy", func(tp *tap.Tap) (http.Handler, error) {
			return botcopy.NewHandler("botcopy-token-1", func(context.Context, *botcopy.HandoverRequest) (botcopy.Decision, error) {
				return botcopy.PauseFor(5), nil
			}, botcopy.WithCustomHeader("X-Botcopy-Check", "botcopy-value-1"), botcopy.WithTap(tp))
		}, fixtureBody(t, "botcopy", "webhook_step_one"), http.Header{"Authorization": {"botcopy-token-1"}, "X-Botcopy-Check": {"botcopy-value-1"}}, "botcopy"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var buf bytes.Buffer
			tp := tap.New(&buf)
			h, err := c.build(tp)
			if err != nil {
				t.Fatal(err)
			}
			header := c.header
			if c.platform == "easydialog" {
				header = http.Header{"X-Bm-Signature": {easydialog.Sign(c.body, "easydialog-key-1")}}
			}
			send := func(h http.Handler, header http.Header) int {
				r := httptest.NewRequest(http.MethodPost, "/hook/"+c.name+"?x=1", bytes.NewReader(c.body))
				r.Header.Set("Content-Type", "application/json")
				for k, vs := range header {
					r.Header[k] = vs
				}
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				return w.Code
			}
			status := send(h, header)
			// A rejected delivery (no credential) is not recorded.
			if s := send(h, nil); s != http.StatusUnauthorized {
				t.Fatalf("without credentials: %d", s)
			}
			line := buf.String()
			for _, vs := range header {
				for _, v := range vs {
					if strings.Contains(line, v) || strings.Contains(line, strings.TrimPrefix(v, "Basic ")) {
						t.Errorf("the record holds the credential %q", v)
					}
				}
			}
			var recs []tap.Record
			for r, err := range tap.Read(&buf) {
				if err != nil {
					t.Fatal(err)
				}
				recs = append(recs, r)
			}
			if len(recs) != 1 {
				t.Fatalf("%d records, want 1: %s", len(recs), line)
			}
			r := recs[0]
			if r.Platform != c.platform || r.Status != status || status == 0 || r.Method != "POST" ||
				r.Path != "/hook/"+c.name || r.Query != "x=1" || r.Latency <= 0 || time.Since(r.Time) > time.Minute {
				t.Errorf("record %+v, answer %d", r, status)
			}
			if status != http.StatusOK {
				t.Errorf("status %d, want 200 (the fixture is a valid delivery)", status)
			}
			want := c.body
			if c.platform == "botcopy" {
				// The legacy body credential is masked.
				want = regexp.MustCompile(`"accessToken"\s*:\s*"[^"]*"`).ReplaceAll(c.body, []byte(`"accessToken":"[REDACTED]"`))
				if !r.MaskedBody || bytes.Equal(want, c.body) {
					t.Errorf("botcopy's accessToken is not masked (MaskedBody %v)", r.MaskedBody)
				}
			}
			if !bytes.Equal(r.Body, want) || r.Truncated || r.BodySize != int64(len(c.body)) {
				t.Errorf("body %q (truncated %v, size %d), want the delivery's", r.Body, r.Truncated, r.BodySize)
			}
			for k := range header {
				if v := r.Header.Get(k); !strings.HasSuffix(v, tap.Masked) {
					t.Errorf("%s = %q, want masked", k, v)
				}
			}
			if r.Header.Get("Content-Type") != "application/json" {
				t.Errorf("Content-Type = %q", r.Header.Get("Content-Type"))
			}
		})
	}
}

func basic(user, pass string) string {
	r := httptest.NewRequest("GET", "/", nil)
	r.SetBasicAuth(user, pass)
	return strings.TrimPrefix(r.Header.Get("Authorization"), "Basic ")
}

// TestTapBoundedBody checks that the tee keeps at most the tap's bound and
// marks the body truncated, while the handler still reads the whole body.
func TestTapBoundedBody(t *testing.T) {
	var buf bytes.Buffer
	tp := tap.New(&buf, tap.WithMaxBody(10))
	var got string
	h, err := onetalk.NewHandler("s3cr3t", func(_ context.Context, r *onetalk.InboundRequest) error {
		got = r.CaseID
		return nil
	}, onetalk.WithTap(tp))
	if err != nil {
		t.Fatal(err)
	}
	body := fixtureBody(t, "onetalk", "inbound_request")
	r := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
	r.Header.Set("X-Secret-Key", "s3cr3t")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != 200 || got == "" {
		t.Fatalf("status %d, caseID %q", w.Code, got)
	}
	var recs []tap.Record
	for rec, err := range tap.Read(&buf) {
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, rec)
	}
	if len(recs) != 1 || len(recs[0].Body) != 10 || !recs[0].Truncated || recs[0].BodySize != int64(len(body)) {
		t.Fatalf("records %+v", recs)
	}
}

func records(t *testing.T, buf *bytes.Buffer) []tap.Record {
	t.Helper()
	var out []tap.Record
	for r, err := range tap.Read(buf) {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

// countObserver counts the deliveries it is told of.
type countObserver struct {
	observe.Base
	ends int
	last observe.Delivery
}

func (o *countObserver) DeliveryEnd(_ context.Context, d *observe.Delivery) { o.ends++; o.last = *d }

// TestTapTenantAndObserver checks a tenant handler's record names its
// tenant, a tenant's credential header named by WithMaskedHeaders is
// masked, and the observer still sees the delivery beside the tap.
func TestTapTenantAndObserver(t *testing.T) {
	var buf bytes.Buffer
	tp := tap.New(&buf, tap.WithMaskedHeaders("X-Acme-Check"))
	obs := &countObserver{}
	h, err := userlike.NewTenantHandler(userlike.Tenants{
		Resolve: tenant.PathValue("tenant"),
		Lookup: func(_ context.Context, id string) (userlike.Credentials, error) {
			if id != "acme" {
				return userlike.Credentials{}, tenant.ErrUnknown
			}
			return userlike.Credentials{Header: "X-Acme-Check", Value: "acme-value-1"}, nil
		},
	}, func(context.Context, *userlike.Event, *userlike.Reply) error { return nil }, userlike.WithTap(tp), userlike.WithObserver(obs))
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("POST /userlike/{tenant}", h)
	body := fixtureBody(t, "userlike", "webhook_event_start")
	r := httptest.NewRequest(http.MethodPost, "/userlike/acme", bytes.NewReader(body))
	r.Header.Set("X-Acme-Check", "acme-value-1")
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, r)
	if w.Code != 200 {
		t.Fatalf("status %d", w.Code)
	}
	if strings.Contains(buf.String(), "acme-value-1") {
		t.Fatalf("the record holds the tenant's credential: %s", buf.String())
	}
	recs := records(t, &buf)
	if len(recs) != 1 || recs[0].Tenant != "acme" || recs[0].Header.Get("X-Acme-Check") != tap.Masked || !bytes.Equal(recs[0].Body, body) {
		t.Fatalf("records %+v", recs)
	}
	if obs.ends != 1 || obs.last.Status != 200 || obs.last.Tenant != "acme" {
		t.Errorf("observer: %d deliveries, last %+v", obs.ends, obs.last)
	}
}

// TestTapWithoutAuthentication checks a handler built
// WithoutAuthentication records its POSTs (none is ever authenticated),
// and not a GET.
func TestTapWithoutAuthentication(t *testing.T) {
	var buf bytes.Buffer
	tp := tap.New(&buf)
	h, err := ultimate.NewActionHandler(func(context.Context, *ultimate.ActionRequest) ([]ultimate.ActionResult, error) {
		return nil, nil
	}, ultimate.WithoutAuthentication(), ultimate.WithTap(tp))
	if err != nil {
		t.Fatal(err)
	}
	body := fixtureBody(t, "ultimate", "webhook_action")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/action", bytes.NewReader(body)))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/action", nil))
	recs := records(t, &buf)
	if len(recs) != 1 || recs[0].Status != w.Code || recs[0].Endpoint != "action" || !bytes.Equal(recs[0].Body, body) {
		t.Fatalf("records %+v (answer %d)", recs, w.Code)
	}
}
