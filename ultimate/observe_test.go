package ultimate_test

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/botwire/botwire/internal/observecheck"
	"github.com/botwire/botwire/observe"
	"github.com/botwire/botwire/observe/observetest"
	"github.com/botwire/botwire/tenant"
	"github.com/botwire/botwire/ultimate"
)

const (
	obsHeader   = "X-Ultimate-Hook"
	obsValue    = "ult-observed-value-4c7e19"
	obsWrong    = "ult-wrong-value-0000"
	obsUser     = "ultimate-observed"
	obsPassword = "ult-observed-password-d02b8f"
	obsConv     = "conversation-observed-1"
	obsMsgID    = "message-observed-7"
)

// obsSecrets are every credential the tests of this file present, the
// Authorization header's value included.
var obsSecrets = []string{obsValue, obsWrong, obsPassword,
	base64.StdEncoding.EncodeToString([]byte(obsUser + ":" + obsPassword)), utValue(2)}

// obsPost is a call of body with the webhook header set to value and the
// basic auth credentials.
func obsPost(body, value string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/ultimate", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set(obsHeader, value)
	r.SetBasicAuth(obsUser, obsPassword)
	return r
}

func obsChatBody(eventType string) string {
	return `{"botId":"618a30beee4e8e87d2f94015","channel":"chat","data":{"eventType":"` + eventType +
		`","platformConversationId":"` + obsConv + `","type":"text","text":"hello","buttons":[],"carouselCards":[],"messageId":"` + obsMsgID + `"}}`
}

const obsActionBody = `{"botId":"618a30beee4e8e87d2f94015","conversationId":"c-internal","platformConversationId":"` + obsConv +
	`","name":"lookupOrder","data":[{"key":"orderId","value":"A-1"}]}`

func obsBehave(b observecheck.Behaviour) error {
	switch b {
	case observecheck.Fail:
		return errors.New("the bot failed")
	case observecheck.Panic:
		panic("the bot panicked")
	}
	return nil
}

func obsOptions(obs observe.Observer) []ultimate.Option {
	return []ultimate.Option{ultimate.WithWebhookHeader(obsHeader, obsValue), ultimate.WithBasicAuth(obsUser, obsPassword),
		ultimate.WithObserver(obs), ultimate.WithLogger(quiet())}
}

func TestObserverRowsChat(t *testing.T) {
	observecheck.Run(t, observecheck.Platform{
		Name: observe.Ultimate, Endpoint: "chat",
		Build: func(t *testing.T, obs observe.Observer, b observecheck.Behaviour) http.Handler {
			h, err := ultimate.NewChatHandler(ultimate.ChatCallbacks{
				OnMessage: func(context.Context, *ultimate.ChatEvent, *ultimate.Message) error { return obsBehave(b) },
			}, obsOptions(obs)...)
			require.NoError(t, err)
			return h
		},
		Request:      func(t *testing.T) *http.Request { return obsPost(obsChatBody(ultimate.EventSendMessage), obsValue) },
		Wrong:        func(t *testing.T) *http.Request { return obsPost(obsChatBody(ultimate.EventSendMessage), obsWrong) },
		Malformed:    func(t *testing.T) *http.Request { return obsPost(`{"data":`, obsValue) },
		Unknown:      func(t *testing.T) *http.Request { return obsPost(obsChatBody("conversationRated"), obsValue) },
		Conversation: obsConv, MessageID: obsMsgID, Type: ultimate.EventSendMessage,
		Secrets: obsSecrets,
	})
}

func TestObserverRowsAction(t *testing.T) {
	observecheck.Run(t, observecheck.Platform{
		Name: observe.Ultimate, Endpoint: "action",
		Build: func(t *testing.T, obs observe.Observer, b observecheck.Behaviour) http.Handler {
			h, err := ultimate.NewActionHandler(func(context.Context, *ultimate.ActionRequest) ([]ultimate.ActionResult, error) {
				return []ultimate.ActionResult{{Key: "status", Value: "shipped"}}, obsBehave(b)
			}, obsOptions(obs)...)
			require.NoError(t, err)
			return h
		},
		Request:   func(t *testing.T) *http.Request { return obsPost(obsActionBody, obsValue) },
		Wrong:     func(t *testing.T) *http.Request { return obsPost(obsActionBody, obsWrong) },
		Malformed: func(t *testing.T) *http.Request { return obsPost(`{"name":`, obsValue) },
		// The delivery is typed with the action's name, its callback
		// "action".
		Conversation: obsConv, Type: "lookupOrder",
		Secrets: obsSecrets,
	})
}

// A tenant chat handler names the tenant on the delivery, the
// Authenticated event and the callback; a lookup that fails answers 503
// for it.
func TestObserverTenant(t *testing.T) {
	rec := observetest.NewRecorder()
	h, err := ultimate.NewTenantChatHandler(ultimate.Tenants{Resolve: tenant.JSONField("botId"), Lookup: utLookup},
		ultimate.ChatCallbacks{OnMessage: func(context.Context, *ultimate.ChatEvent, *ultimate.Message) error { return nil }},
		ultimate.WithObserver(rec), ultimate.WithLogger(quiet()))
	require.NoError(t, err)
	deliver := func(botID string) int {
		body := strings.Replace(obsChatBody(ultimate.EventSendMessage), "618a30beee4e8e87d2f94015", botID, 1)
		r := httptest.NewRequest(http.MethodPost, "/ultimate", strings.NewReader(body))
		utCreds(2)(r)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code
	}
	require.Equal(t, http.StatusOK, deliver("bot-002"))
	d := rec.Deliveries()[0]
	assert.Equal(t, "bot-002", d.Tenant)
	assert.Equal(t, "chat", d.Endpoint)
	assert.Equal(t, observe.OutcomeAnswered, d.Outcome)
	auth := rec.Events(observe.KindAuthenticated)
	require.Len(t, auth, 1)
	assert.Equal(t, "bot-002", auth[0].Tenant)
	require.Len(t, rec.Callbacks(), 1)
	assert.Equal(t, "bot-002", rec.Callbacks()[0].Tenant)
	assert.Equal(t, obsMsgID, rec.Callbacks()[0].MessageID)

	rec.Reset()
	require.Equal(t, http.StatusServiceUnavailable, deliver("broken"))
	ds := rec.Deliveries()
	require.Len(t, ds, 1)
	assert.Equal(t, observe.OutcomeBusy, ds[0].Outcome)
	assert.Equal(t, observe.ReasonTenantLookup, ds[0].Reason)
	assert.Error(t, ds[0].Err)
	assert.Empty(t, rec.Events(observe.KindAuthenticated))
	assert.Empty(t, rec.Callbacks())
	observecheck.NoSecrets(t, rec, obsSecrets...)
}

// A callback that fails with a 5xx status of its own (WithStatus) answers
// it and ends the delivery failed, with the callback's error.
func TestObserverEscalateStatus(t *testing.T) {
	rec := observetest.NewRecorder()
	h, err := ultimate.NewChatHandler(ultimate.ChatCallbacks{
		OnEscalate: func(context.Context, *ultimate.ChatEvent, *ultimate.Escalation) error {
			return ultimate.WithStatus(http.StatusBadGateway, errors.New("the desk is down"))
		},
	}, obsOptions(rec)...)
	require.NoError(t, err)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, obsPost(obsChatBody(ultimate.EventEscalate), obsValue))
	require.Equal(t, http.StatusBadGateway, w.Code)
	d := rec.Deliveries()[0]
	assert.Equal(t, http.StatusBadGateway, d.Status)
	assert.Equal(t, observe.OutcomeFailed, d.Outcome)
	assert.Equal(t, observe.ReasonCallbackError, d.Reason)
	assert.ErrorContains(t, d.Err, "the desk is down")
	assert.Equal(t, ultimate.EventEscalate, d.Type)
	cbs := rec.Callbacks()
	require.Len(t, cbs, 1)
	assert.Equal(t, ultimate.EventEscalate, cbs[0].Type)
	assert.Equal(t, obsConv, cbs[0].Conversation)
	assert.Error(t, cbs[0].Err)
}
