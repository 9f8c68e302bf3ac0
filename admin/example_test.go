package admin_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/botwire/botwire/admin"
	"github.com/botwire/botwire/store"
)

// A bot mounts the admin page under /admin/ of its own server, next to
// its webhook, with the credential its operators use (from the
// environment in production) and the actions enabled.
func ExampleNewHandler() {
	q := store.NewMemoryQueue(store.QueueOptions{}) // or a redisstore queue, shared by the replicas
	h, err := admin.NewHandler(map[string]store.QueueAdmin{"onetalk": q},
		admin.WithCredential("a-long-random-operator-secret"), admin.WithActions())
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/admin/", http.StripPrefix("/admin", h))
	// mux.Handle("/webhook", bot) ... then http.ListenAndServe(addr, mux)

	r := httptest.NewRequest(http.MethodGet, "/admin/api/queues", nil)
	r.SetBasicAuth("ops", "a-long-random-operator-secret")
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, r)
	fmt.Print(w.Code, " ", w.Body.String())
	// Output: 200 {"actions":true,"queues":[{"name":"onetalk","pending":0,"running":0,"retrying":0,"dead":0,"oldestPendingSeconds":0,"paused":false}]}
}
