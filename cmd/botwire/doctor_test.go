package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/botwire/botwire/botcopy"
	"github.com/botwire/botwire/easydialog"
	edecho "github.com/botwire/botwire/examples/easydialog-echo/echo"
	"github.com/botwire/botwire/examples/ultimate-relay/relay"
	"github.com/botwire/botwire/examples/userlike-faq/faq"
	"github.com/botwire/botwire/onetalk"
	"github.com/botwire/botwire/ultimate"
	"github.com/botwire/botwire/userlike"
)

// Distinct credentials, each asserted absent from every output.
const (
	doctorSecret   = "doctor-secret-5e2b91"
	doctorCustom   = "doctor-custom-c03a77"
	doctorPassword = "doctor-pass-81f4d0"
)

// doctorJSON runs the doctor with --json and decodes its result.
func doctorJSON(t *testing.T, args ...string) (int, doctorResult, string) {
	t.Helper()
	code, out, errOut := botwire(t, "", append([]string{"doctor"}, append(args, "--json")...)...)
	var res doctorResult
	require.NoError(t, json.Unmarshal([]byte(out), &res), "%s\n%s", out, errOut)
	return code, res, out + errOut
}

func checkOf(t *testing.T, res doctorResult, name string) doctorCheck {
	t.Helper()
	for _, c := range res.Checks {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no check %q in %+v", name, res.Checks)
	return doctorCheck{}
}

func assertNoSecrets(t *testing.T, out string) {
	t.Helper()
	for _, s := range []string{doctorSecret, doctorCustom, doctorPassword} {
		assert.NotContains(t, out, s)
	}
}

// healthyBots are the library's handlers of the five vendors and the
// doctor's credential flags for each.
func healthyBots(t *testing.T) map[string]struct {
	h    http.Handler
	args []string
} {
	t.Helper()
	ot, err := onetalk.NewHandler(doctorSecret, func(context.Context, *onetalk.InboundRequest) error { return nil })
	require.NoError(t, err)
	ed, err := easydialog.NewHandler(doctorSecret, edecho.Bot)
	require.NoError(t, err)
	// The examples' bots where they run without a platform behind them.
	ul, err := userlike.NewHandler((&faq.Bot{}).Handle, userlike.WithWebhookHeader("API-SECURITY-TOKEN", doctorSecret))
	require.NoError(t, err)
	r := &relay.Relay{TeamOnline: func(string) bool { return true }, OrderStatus: func(string) string { return "shipped" }}
	um, err := ultimate.NewChatHandler(r.Callbacks(),
		ultimate.WithWebhookHeader("X-Ultimate-Token", doctorSecret), ultimate.WithBasicAuth("bob", doctorPassword))
	require.NoError(t, err)
	bc, err := botcopy.NewHandler(doctorSecret, func(context.Context, *botcopy.HandoverRequest) (botcopy.Decision, error) {
		return botcopy.PauseFor(10), nil
	}, botcopy.WithCustomHeader("X-Portal", doctorCustom))
	require.NoError(t, err)
	return map[string]struct {
		h    http.Handler
		args []string
	}{
		"onetalk":    {ot, []string{"--secret", doctorSecret}},
		"easydialog": {ed, []string{"--secret", doctorSecret}},
		"userlike":   {ul, []string{"--header", "API-SECURITY-TOKEN", "--secret", doctorSecret}},
		"ultimate":   {um, []string{"--header", "X-Ultimate-Token", "--secret", doctorSecret, "--user", "bob", "--password", doctorPassword}},
		"botcopy":    {bc, []string{"--secret", doctorSecret, "--custom-header", "X-Portal: " + doctorCustom}},
	}
}

func TestDoctorHealthyBotsOfEveryVendor(t *testing.T) {
	for vendor, b := range healthyBots(t) {
		t.Run(vendor, func(t *testing.T) {
			t.Parallel() // each run waits out the Go server's close of the 2 MiB request
			srv := httptest.NewServer(b.h)
			defer srv.Close()
			code, out, errOut := botwire(t, "", append([]string{"doctor", vendor, srv.URL}, b.args...)...)
			require.Equal(t, 0, code, "%s\n%s", out, errOut)
			assert.NotContains(t, out, "FAIL")
			assert.Contains(t, out, "summary: 6 ok (healthy)")
			assertNoSecrets(t, out+errOut)

			code, res, all := doctorJSON(t, append([]string{vendor, srv.URL}, b.args...)...)
			require.Equal(t, 0, code, all)
			assert.Equal(t, vendor, res.Vendor)
			assert.Equal(t, srv.URL, res.URL)
			var names []string
			for _, c := range res.Checks {
				names = append(names, c.Name)
				assert.Equal(t, statusOK, c.Status, "%+v", c)
			}
			assert.Equal(t, restNames, names)
			assertNoSecrets(t, all)
		})
	}
}

// A Userlike or Ultimate bot WithoutAuthentication passes with the
// credential checks skipped and a note saying so.
func TestDoctorWithoutAuthentication(t *testing.T) {
	um, err := ultimate.NewChatHandler(ultimate.ChatCallbacks{
		OnMessage: func(context.Context, *ultimate.ChatEvent, *ultimate.Message) error { return nil },
	}, ultimate.WithoutAuthentication())
	require.NoError(t, err)
	srv := httptest.NewServer(um)
	defer srv.Close()
	code, res, all := doctorJSON(t, "ultimate", srv.URL)
	require.Equal(t, 0, code, all)
	c := checkOf(t, res, "no credential")
	assert.Equal(t, statusSkip, c.Status)
	assert.Contains(t, c.Detail, "WithoutAuthentication")
	assert.Equal(t, statusOK, checkOf(t, res, "delivery").Status)

	// The same doctor against a bot that does want a credential says to
	// give it.
	ok := healthyBots(t)["userlike"]
	srv2 := httptest.NewServer(ok.h)
	defer srv2.Close()
	code, res, all = doctorJSON(t, "userlike", srv2.URL)
	assert.Equal(t, 1, code, all)
	c = checkOf(t, res, "delivery")
	assert.Equal(t, statusFail, c.Status)
	assert.Contains(t, c.Fix, "--header and --secret")
}

// A bot that answers 200 to everything fails the method, credential and
// body-limit checks.
func TestDoctorBotThatAcceptsEverything(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	code, out, errOut := botwire(t, "", "doctor", "onetalk", srv.URL, "--secret", doctorSecret)
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "4 of 6 checks failed")
	assertNoSecrets(t, out+errOut)

	_, res, _ := doctorJSON(t, "onetalk", srv.URL, "--secret", doctorSecret)
	for name, want := range map[string]string{
		"method": statusFail, "no credential": statusFail, "wrong credential": statusFail,
		"delivery": statusOK, "body limit": statusFail, "reply": statusOK,
	} {
		c := checkOf(t, res, name)
		assert.Equal(t, want, c.Status, "%+v", c)
		if want == statusFail {
			assert.NotEmpty(t, c.Fix, name)
		}
	}
	assert.Contains(t, checkOf(t, res, "no credential").Detail, "anyone who knows the URL")
}

// A reverse proxy that drops header names with "_" (nginx's default) in
// front of a healthy Userlike bot: the credential did not reach the bot,
// and the fix names nginx's setting.
func TestDoctorHeaderStrippingProxy(t *testing.T) {
	const header = "API_SECURITY_TOKEN"
	ul, err := userlike.NewHandler(func(_ context.Context, e *userlike.Event, r *userlike.Reply) error {
		r.Add(userlike.Message("You said: " + e.Text()))
		return nil
	}, userlike.WithWebhookHeader(header, doctorSecret))
	require.NoError(t, err)
	bot := httptest.NewServer(ul)
	defer bot.Close()

	// Without the proxy the bot is healthy.
	code, _, all := doctorJSON(t, "userlike", bot.URL, "--header", header, "--secret", doctorSecret)
	require.Equal(t, 0, code, all)

	target, _ := url.Parse(bot.URL)
	proxy := httputil.NewSingleHostReverseProxy(target)
	direct := proxy.Director
	proxy.Director = func(r *http.Request) {
		direct(r)
		for name := range r.Header {
			if strings.Contains(name, "_") {
				r.Header.Del(name)
			}
		}
	}
	front := httptest.NewServer(proxy)
	defer front.Close()
	code, res, all := doctorJSON(t, "userlike", front.URL, "--header", header, "--secret", doctorSecret)
	assert.Equal(t, 1, code, all)
	assert.Equal(t, statusOK, checkOf(t, res, "wrong credential").Status)
	c := checkOf(t, res, "delivery")
	assert.Equal(t, statusFail, c.Status)
	assert.Contains(t, c.Detail, "the credential did not reach the bot")
	assert.Contains(t, c.Fix, "underscores_in_headers on;")
	assert.Contains(t, c.Fix, "API-SECURITY-TOKEN", "the rename")
	assertNoSecrets(t, all)
}

// A Botcopy bot slower than the budget fails the delivery.
func TestDoctorSlowBotcopyBot(t *testing.T) {
	defer func(b time.Duration) { botcopyBudget = b }(botcopyBudget)
	botcopyBudget = 50 * time.Millisecond
	healthy := healthyBots(t)["botcopy"]
	slow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.Header.Get("Authorization") == doctorSecret && r.ContentLength < 1<<20 {
			time.Sleep(2 * botcopyBudget)
		}
		healthy.h.ServeHTTP(w, r)
	})
	srv := httptest.NewServer(slow)
	defer srv.Close()
	code, res, all := doctorJSON(t, append([]string{"botcopy", srv.URL}, healthy.args...)...)
	assert.Equal(t, 1, code, all)
	c := checkOf(t, res, "delivery")
	assert.Equal(t, statusFail, c.Status)
	assert.Equal(t, "answer within 5 s; do slow work after answering", c.Fix)
	assert.Equal(t, statusOK, checkOf(t, res, "reply").Status, "the decision itself is fine")
	assertNoSecrets(t, all)
}

// A bot without a body limit accepts 2 MiB: the body-limit check fails.
func TestDoctorBotWithoutBodyLimit(t *testing.T) {
	bc, err := botcopy.NewHandler(doctorSecret, func(context.Context, *botcopy.HandoverRequest) (botcopy.Decision, error) {
		return botcopy.Continue(), nil
	}, botcopy.WithMaxBodyBytes(8<<20))
	require.NoError(t, err)
	srv := httptest.NewServer(bc)
	defer srv.Close()
	code, res, all := doctorJSON(t, "botcopy", srv.URL, "--secret", doctorSecret)
	assert.Equal(t, 1, code, all)
	c := checkOf(t, res, "body limit")
	assert.Equal(t, statusFail, c.Status, "%+v", c)
	assert.Contains(t, c.Fix, "WithMaxBodyBytes")
	for _, c := range res.Checks {
		if c.Name != "body limit" {
			assert.Equal(t, statusOK, c.Status, "%+v", c)
		}
	}
}

// An Easy Dialog bot whose answer is not a valid response fails the reply
// check; so does a Botcopy bot without "paused" and a Userlike event
// without its cid.
func TestDoctorInvalidReplies(t *testing.T) {
	authed := func(vendor string, answer string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodPost {
				w.Header().Set("Allow", "POST")
				w.WriteHeader(http.StatusMethodNotAllowed)
				return
			}
			body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
			if err != nil {
				w.WriteHeader(http.StatusRequestEntityTooLarge)
				return
			}
			var ok bool
			switch vendor {
			case "easydialog":
				ok = easydialog.VerifySignature(body, r.Header.Get(easydialog.SignatureHeader), doctorSecret) == nil
			case "botcopy":
				ok = r.Header.Get("Authorization") == doctorSecret
			default:
				ok = r.Header.Get("API-SECURITY-TOKEN") == doctorSecret
			}
			if !ok {
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, answer)
		})
	}
	for i, c := range []struct {
		vendor, answer, detail string
		args                   []string
	}{
		{"easydialog", `{"messages": [{"body": {}}]}`, "breaks the doc's rules", nil},
		{"easydialog", `{"messages": [{"body": {"pictureMessage": {"url": "not a url"}}}]}`, "breaks the doc's rules", nil},
		{"easydialog", `<html>oops</html>`, "not an Easy Dialog response", nil},
		{"botcopy", `{"minutesPaused": 10}`, `no "paused"`, nil},
		{"userlike", `[{"info": {}, "packet": {"name": "message", "payload": {"body": "hi"}}}]`, "no info.cid", []string{"--header", "API-SECURITY-TOKEN"}},
		{"userlike", `{"info": {"cid": "c"}, "packet": {"name": "bubbles", "payload": {"body": "pick"}}}`, "doc's limits", []string{"--header", "API-SECURITY-TOKEN"}},
		{"ultimate", `{}`, "isOnline", []string{"--header", "API-SECURITY-TOKEN", "--fixture", "webhook_isTeamOnline"}},
	} {
		t.Run(fmt.Sprint(i, c.vendor), func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(authed(c.vendor, c.answer))
			defer srv.Close()
			code, res, all := doctorJSON(t, append([]string{c.vendor, srv.URL, "--secret", doctorSecret}, c.args...)...)
			assert.Equal(t, 1, code, all)
			r := checkOf(t, res, "reply")
			assert.Equal(t, statusFail, r.Status, "%s %s: %+v", c.vendor, c.answer, r)
			assert.Contains(t, r.Detail, c.detail, c.answer)
			assert.NotEmpty(t, r.Fix)
			assert.Equal(t, statusOK, checkOf(t, res, "delivery").Status, c.answer)
			assertNoSecrets(t, all)
		})
	}
}

// The bot echoing the credential in its answers does not make the doctor
// print it, in text or JSON.
func TestDoctorRedactsWhatTheBotEchoes(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, "got "+r.Header.Get("Authorization")+" and "+r.Header.Get("X-Portal"))
	}))
	defer srv.Close()
	to := "http://alice:" + doctorPassword + "@" + strings.TrimPrefix(srv.URL, "http://")
	code, out, errOut := botwire(t, "", "doctor", "botcopy", to, "--secret", doctorSecret, "--custom-header", "X-Portal: "+doctorCustom)
	assert.Equal(t, 1, code)
	assert.Contains(t, out, "got [REDACTED] and [REDACTED]", "the echo, masked")
	assertNoSecrets(t, out+errOut)
	code, _, all := doctorJSON(t, "botcopy", to, "--secret", doctorSecret, "--custom-header", "X-Portal: "+doctorCustom)
	assert.Equal(t, 1, code)
	assertNoSecrets(t, all)
}

func TestDoctorTLS(t *testing.T) {
	healthy := healthyBots(t)["onetalk"]
	srv := httptest.NewUnstartedServer(healthy.h)
	srv.Config.ErrorLog = quietLog // the refused handshakes
	srv.StartTLS()
	defer srv.Close()
	defer func(p *x509.CertPool) { doctorRootCAs = p }(doctorRootCAs)

	// Trusted: ok, with the version and the expiry.
	doctorRootCAs = x509.NewCertPool()
	doctorRootCAs.AddCert(srv.Certificate())
	code, res, all := doctorJSON(t, "onetalk", srv.URL, "--secret", doctorSecret)
	require.Equal(t, 0, code, all)
	c := checkOf(t, res, "tls")
	assert.Equal(t, statusOK, c.Status)
	assert.Contains(t, c.Detail, "TLS 1.3")
	assert.Equal(t, statusOK, checkOf(t, res, "delivery").Status)

	// A name the certificate does not have.
	u, _ := url.Parse(srv.URL)
	code, res, all = doctorJSON(t, "onetalk", "https://localhost:"+u.Port(), "--secret", doctorSecret)
	assert.Equal(t, 1, code, all)
	c = checkOf(t, res, "tls")
	assert.Equal(t, statusFail, c.Status)
	assert.Contains(t, c.Detail, "x509: certificate is valid for")
	assert.Equal(t, statusSkip, checkOf(t, res, "delivery").Status, "no credential over an unverified connection")

	// An untrusted chain.
	doctorRootCAs = x509.NewCertPool()
	code, res, all = doctorJSON(t, "onetalk", srv.URL, "--secret", doctorSecret)
	assert.Equal(t, 1, code, all)
	c = checkOf(t, res, "tls")
	assert.Equal(t, statusFail, c.Status)
	assert.Contains(t, c.Detail, "x509: certificate signed by unknown authority")
	assert.Contains(t, c.Fix, "full chain")
	assertNoSecrets(t, all)
}

// A certificate expiring within 14 days warns; an expired one fails.
func TestDoctorCertificateExpiry(t *testing.T) {
	healthy := healthyBots(t)["onetalk"]
	defer func(p *x509.CertPool) { doctorRootCAs = p }(doctorRootCAs)
	for _, c := range []struct {
		notAfter time.Duration
		status   string
		detail   string
	}{
		{5 * 24 * time.Hour, statusWarn, "expires soon"},
		{-time.Hour, statusFail, "expired"},
	} {
		srv := httptest.NewUnstartedServer(healthy.h)
		cert, pool := testCertificate(t, time.Now().Add(c.notAfter))
		srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
		srv.Config.ErrorLog = quietLog
		srv.StartTLS()
		doctorRootCAs = pool
		code, res, all := doctorJSON(t, "onetalk", srv.URL, "--secret", doctorSecret)
		srv.Close()
		tc := checkOf(t, res, "tls")
		assert.Equal(t, c.status, tc.Status, "%+v", tc)
		assert.Contains(t, tc.Detail, c.detail)
		if c.status == statusFail {
			assert.Equal(t, 1, code, all)
		} else {
			assert.Equal(t, 0, code, all)
		}
	}
}

var quietLog = log.New(io.Discard, "", 0)

// testCertificate is a self-signed certificate for 127.0.0.1 valid until
// notAfter, and a pool trusting it.
func testCertificate(t *testing.T, notAfter time.Time) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "doctor test"},
		NotBefore:             notAfter.Add(-30 * 24 * time.Hour),
		NotAfter:              notAfter,
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	leaf, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

func TestDoctorUnreachableAndUsage(t *testing.T) {
	code, res, all := doctorJSON(t, "onetalk", "http://"+freeAddr(t), "--secret", doctorSecret)
	assert.Equal(t, 1, code, all)
	require.Len(t, res.Checks, 1)
	assert.Equal(t, "reachable", res.Checks[0].Name)
	assert.Equal(t, statusFail, res.Checks[0].Status)
	code, res, all = doctorJSON(t, "onetalk", "https://"+freeAddr(t), "--secret", doctorSecret)
	assert.Equal(t, 1, code, all)
	require.Len(t, res.Checks, 1, "https: no TLS line for a bot that is not there")
	assert.Equal(t, "reachable", res.Checks[0].Name)
	for host, want := range map[string]bool{"localhost": true, "127.0.0.1": true, "::1": true, "bot.example.com": false, "10.0.0.1": false} {
		assert.Equal(t, want, isLoopback(host), host)
	}

	for _, args := range [][]string{
		{"doctor"},
		{"doctor", "onetalk"},
		{"doctor", "slack", "http://127.0.0.1:1", "--secret", "s"},
		{"doctor", "onetalk", "http://127.0.0.1:1"}, // no --secret
		{"doctor", "onetalk", "ftp://127.0.0.1:1", "--secret", "s"},
		{"doctor", "userlike", "http://127.0.0.1:1", "--header", "X"},
		{"doctor", "onetalk", "http://127.0.0.1:1", "--secret", "s", "--nope"},
	} {
		code, _, errOut := botwire(t, "", args...)
		assert.Equal(t, 2, code, "%v: %s", args, errOut)
	}
	code, out, _ := botwire(t, "", "doctor", "--help")
	assert.Equal(t, 0, code)
	assert.Contains(t, out, "Example:")
	assert.Contains(t, out, "-fixture")
	_, out, _ = botwire(t, "", "--help")
	assert.Contains(t, out, "botwire doctor <vendor> URL")
}

// Ultimate's isTeamOnline answer is checked; a URL's user and password
// are Ultimate's basic auth, sent only where a credential belongs.
func TestDoctorUltimateTeamOnlineAndURLBasicAuth(t *testing.T) {
	r := &relay.Relay{TeamOnline: func(string) bool { return false }}
	um, err := ultimate.NewChatHandler(r.Callbacks(), ultimate.WithBasicAuth("bob", doctorPassword))
	require.NoError(t, err)
	srv := httptest.NewServer(um)
	defer srv.Close()
	to := "http://bob:" + doctorPassword + "@" + strings.TrimPrefix(srv.URL, "http://")
	code, res, all := doctorJSON(t, "ultimate", to, "--fixture", "webhook_isTeamOnline")
	require.Equal(t, 0, code, all)
	assert.Equal(t, "http://bob:xxxxx@"+strings.TrimPrefix(srv.URL, "http://"), res.URL)
	assert.Equal(t, statusOK, checkOf(t, res, "no credential").Status, "the URL's basic auth was not sent")
	assert.Equal(t, "isTeamOnline answered isOnline false", checkOf(t, res, "reply").Detail)
	assertNoSecrets(t, all)
}

// A webhook URL that redirects fails: the platform posts to the URL it has.
func TestDoctorRedirect(t *testing.T) {
	healthy := healthyBots(t)["onetalk"]
	bot := httptest.NewServer(healthy.h)
	defer bot.Close()
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, bot.URL+"/final", http.StatusPermanentRedirect)
	}))
	defer front.Close()
	code, res, all := doctorJSON(t, "onetalk", front.URL, "--secret", doctorSecret)
	assert.Equal(t, 1, code, all)
	c := checkOf(t, res, "delivery")
	assert.Equal(t, statusFail, c.Status)
	assert.Contains(t, c.Detail, "a redirect to "+bot.URL+"/final")
	assert.Equal(t, redirectFix, c.Fix)
}

// A slow answer on a platform without a documented budget warns and
// passes.
func TestDoctorSlowAnswerWarns(t *testing.T) {
	defer func(d time.Duration) { slowAnswer = d }(slowAnswer)
	slowAnswer = 20 * time.Millisecond
	healthy := healthyBots(t)["onetalk"]
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.Header.Get("X-Secret-Key") == doctorSecret && r.ContentLength < 1<<20 {
			time.Sleep(2 * slowAnswer)
		}
		healthy.h.ServeHTTP(w, r)
	}))
	defer srv.Close()
	code, out, errOut := botwire(t, "", "doctor", "onetalk", srv.URL, "--secret", doctorSecret)
	require.Equal(t, 0, code, "%s\n%s", out, errOut)
	assert.Contains(t, out, "warn  delivery")
	assert.Contains(t, out, "onetalk.WithAsync")
	assert.Contains(t, out, "summary: 1 warn, 5 ok (works, with warnings)")
}
