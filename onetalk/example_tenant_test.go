package onetalk_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/botwire/botwire/onetalk"
	"github.com/botwire/botwire/tenant"
)

// One handler for many customers' bots: the tenant is the path's
// {tenant}, its secret comes from the bot's own store (a map here; a
// database or a secret manager, cached, in production), and the callback
// learns whose message it is from tenant.FromContext.
func ExampleNewTenantHandler() {
	secrets := map[string]onetalk.Credentials{
		"acme":   {Secret: "acme-secret"},
		"globex": {Secret: "globex-new", Previous: []string{"globex-old"}}, // rotating
	}
	h, err := onetalk.NewTenantHandler(onetalk.Tenants{
		Resolve: tenant.PathValue("tenant"),
		Lookup: func(_ context.Context, id string) (onetalk.Credentials, error) {
			c, ok := secrets[id]
			if !ok {
				return onetalk.Credentials{}, tenant.ErrUnknown
			}
			return c, nil
		},
	}, func(ctx context.Context, req *onetalk.InboundRequest) error {
		id, _ := tenant.FromContext(ctx)
		fmt.Printf("%s: %s\n", id, req.Message.Text.Body)
		return nil
	})
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.Handle("POST /onetalk/{tenant}", h)

	deliver := func(path, secret string) int {
		body := `{"caseID":"C1","message":{"id":"m1","type":"text","text":{"body":"hello"}}}`
		r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
		r.Header.Set(onetalk.SecretHeader, secret)
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, r)
		return w.Code
	}
	fmt.Println(deliver("/onetalk/acme", "acme-secret"))
	fmt.Println(deliver("/onetalk/globex", "globex-old"))
	fmt.Println(deliver("/onetalk/globex", "acme-secret")) // another tenant's secret
	fmt.Println(deliver("/onetalk/initech", "anything"))   // an unknown tenant
	// Output:
	// acme: hello
	// 200
	// globex: hello
	// 200
	// 401
	// 401
}
