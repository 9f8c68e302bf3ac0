package tenant_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/botwire/botwire/tenant"
)

func TestResolvers(t *testing.T) {
	mux := http.NewServeMux()
	var got string
	res := tenant.PathValue("tenant")
	mux.HandleFunc("POST /hook/{tenant}", func(w http.ResponseWriter, r *http.Request) { got = res.Resolve(r, nil) })
	mux.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("POST", "/hook/acme", nil))
	if got != "acme" || res.NeedsBody() {
		t.Errorf("PathValue = %q (needs body %v)", got, res.NeedsBody())
	}

	r := httptest.NewRequest("POST", "/", nil)
	r.Header.Set("X-Tenant", "globex")
	if got := tenant.Header("X-Tenant").Resolve(r, nil); got != "globex" {
		t.Errorf("Header = %q", got)
	}

	f := tenant.JSONField("botId")
	if !f.NeedsBody() {
		t.Error("JSONField does not ask for the body")
	}
	for body, want := range map[string]string{
		`{"botId":"b-1","x":[1]}`: "b-1",
		`{"botId":7}`:             "",
		`{"other":"b-1"}`:         "",
		`[1,2]`:                   "",
		`not json`:                "",
		``:                        "",
	} {
		if got := f.Resolve(r, []byte(body)); got != want {
			t.Errorf("JSONField(%q) = %q, want %q", body, got, want)
		}
	}
	if got := (tenant.Resolver{}).Resolve(r, nil); got != "" || !(tenant.Resolver{}).IsZero() {
		t.Errorf("zero Resolver = %q", got)
	}
	if got := tenant.BodyFunc(func(_ *http.Request, b []byte) string { return strings.ToUpper(string(b)) }).Resolve(r, []byte("x")); got != "X" {
		t.Errorf("BodyFunc = %q", got)
	}
}

func TestContext(t *testing.T) {
	if _, ok := tenant.FromContext(context.Background()); ok {
		t.Error("a tenant in an empty context")
	}
	id, ok := tenant.FromContext(tenant.NewContext(context.Background(), "acme"))
	if id != "acme" || !ok {
		t.Errorf("FromContext = %q, %v", id, ok)
	}
}
