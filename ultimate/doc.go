// Package ultimate connects a system that owns the visitor's chat (a web
// chat, a CRM) to an Ultimate.ai virtual agent (Zendesk AI agents –
// Advanced) through its Chat API.
//
// The system sends visitor events with NewClient (POST
// https://api.ultimate.ai/converse/chat with the API key in Authorization
// and the bot id in botid): StartSession, SendText, SelectCard,
// SendMetadata, EndSession. Ultimate answers later on two webhooks: the
// chat webhook (NewChatHandler) gets the agent's messages, escalations and
// team-availability questions, and the actions webhook (NewActionHandler)
// runs the bot's actions and returns session parameters.
//
//	client, _ := ultimate.NewClient(apiKey, botID)
//	chat, _ := ultimate.NewChatHandler(ultimate.ChatCallbacks{
//		OnMessage: func(ctx context.Context, e *ultimate.ChatEvent, m *ultimate.Message) error {
//			return showToVisitor(m.PlatformConversationID, m.Text, m.Buttons)
//		},
//		OnEscalate: func(ctx context.Context, e *ultimate.ChatEvent, x *ultimate.Escalation) error {
//			return handToAgent(x.PlatformConversationID, x.EscalateTo)
//		},
//	}, ultimate.WithBasicAuth(user, password))
//
// One chat webhook and one actions webhook can serve many tenants' bots:
// NewTenantChatHandler and NewTenantActionHandler name each call's tenant
// (tenant.JSONField("botId") for the bot id Ultimate sends) and check it
// with that tenant's Credentials, looked up per call.
//
// The vendor doc is an early draft: the endpoint, the headers, the
// metadata event, the widget events and the answers come from the
// published Zendesk AI agents documentation and Ultimate's own API
// specification and templates. Decoding is tolerant of the draft's mistakes:
// metaData or metadata as a list or one object, buttons as strings or
// objects, a missing channel, the literal "saveAs?" key. Package
// ultimatetest is a fake Ultimate with a scripted virtual agent.
package ultimate
