package main

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/hibiken/asynq"

	"github.com/botwire/botwire/onetalk"
	"github.com/botwire/botwire/onetalk/onetalktest"
	"github.com/botwire/botwire/store/redisstore"
)

// The end-to-end scenario: OneTalk deliveries over HTTP (loopback,
// httptest) to a webhook that queues them, and a callback run from the
// queue. botwire is onetalk.NewHandler with WithQueue(redisstore, consumers);
// asynq is a hand-written net/http handler doing the least a webhook must
// (method, X-Secret-Key in constant time, a bounded body read, JSON decode
// into onetalk.InboundRequest, caseID present) and enqueuing the body as an
// asynq task, with a server of Concurrency = consumers decoding it and
// running the callback. The deliveries are signed as the fake OneTalk
// (onetalk/onetalktest) signs them: the secret in X-Secret-Key.

const e2eSecret = "bench-secret"

type webhook struct {
	url  string
	stop func()
}

type e2eImpl struct {
	name  string
	start func(srv *redisServer, consumers int, rec *recorder) (webhook, error)
}

var e2eImpls = []e2eImpl{
	{"botwire", startOnetalkWebhook},
	{"asynq", startAsynqWebhook},
}

// callbackPayload is what the callback hands the recorder: the text body,
// which is the benchmark's payload.
func callbackPayload(req *onetalk.InboundRequest) []byte {
	if req.Message.Text == nil {
		return nil
	}
	return []byte(req.Message.Text.Body)
}

func startOnetalkWebhook(srv *redisServer, consumers int, rec *recorder) (webhook, error) {
	rdb := srv.client()
	st := redisstore.New(rdb, redisstore.Options{Prefix: "bench-e2e", Partitions: 16})
	h, err := onetalk.NewHandler(e2eSecret, func(ctx context.Context, req *onetalk.InboundRequest) error {
		return rec.handle(ctx, callbackPayload(req))
	}, onetalk.WithQueue(st, consumers), onetalk.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		rdb.Close()
		return webhook{}, err
	}
	hs := httptest.NewServer(h)
	return webhook{url: hs.URL, stop: func() {
		hs.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = h.Shutdown(ctx)
		rdb.Close()
	}}, nil
}

func startAsynqWebhook(srv *redisServer, consumers int, rec *recorder) (webhook, error) {
	rdb := srv.client()
	client := asynq.NewClientFromRedisClient(rdb)
	secret := []byte(e2eSecret)
	hook := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.WriteHeader(http.StatusMethodNotAllowed)
			return
		}
		if subtle.ConstantTimeCompare([]byte(r.Header.Get(onetalk.SecretHeader)), secret) != 1 {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		data, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		var req onetalk.InboundRequest
		if err := json.Unmarshal(data, &req); err != nil || req.CaseID == "" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		if _, err := client.EnqueueContext(r.Context(), asynq.NewTask(asynqTask, data)); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	server := asynq.NewServerFromRedisClient(rdb, asynq.Config{Concurrency: consumers, Logger: nopLogger{}, LogLevel: asynq.FatalLevel})
	mux := asynq.NewServeMux()
	mux.HandleFunc(asynqTask, func(ctx context.Context, t *asynq.Task) error {
		req, err := onetalk.ParseInbound(t.Payload())
		if err != nil {
			return err
		}
		return rec.handle(ctx, callbackPayload(req))
	})
	if err := server.Start(mux); err != nil {
		client.Close()
		rdb.Close()
		return webhook{}, err
	}
	hs := httptest.NewServer(hook)
	return webhook{url: hs.URL, stop: func() {
		hs.Close()
		server.Shutdown()
		client.Close()
		rdb.Close()
	}}, nil
}

// deliverer is a system whose send POSTs each item as a OneTalk text
// delivery to a webhook; the item is stamped before the body is encoded,
// so the latency runs from the webhook's send to the callback.
type deliverer struct {
	url    string
	client *http.Client
}

func newDeliverer(url string, producers int) *deliverer {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = producers
	return &deliverer{url: url, client: &http.Client{Transport: tr, Timeout: 30 * time.Second}}
}

func (d *deliverer) send(ctx context.Context, items []item) error {
	for i := range items {
		body, err := onetalktest.Encode(onetalktest.Text(items[i].key, string(items[i].stamp())))
		if err != nil {
			return err
		}
		// A delivery answered other than 200 is redelivered, as OneTalk
		// does, a few times.
		for attempt := 1; ; attempt++ {
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.url+"/onetalk", bytes.NewReader(body))
			if err != nil {
				return err
			}
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set(onetalk.SecretHeader, e2eSecret)
			resp, err := d.client.Do(req)
			if err == nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					break
				}
				err = fmt.Errorf("webhook answered %s", resp.Status)
			}
			if attempt == 5 || ctx.Err() != nil {
				return err
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	return nil
}

func (d *deliverer) start(int, handlerFunc) func() { return func() {} }
func (d *deliverer) close()                        { d.client.CloseIdleConnections() }
