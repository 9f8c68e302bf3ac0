package botcopy

import (
	"encoding/json"
	"fmt"
	"strings"
)

// DialogflowView is the common part of a Dialogflow detectIntent response,
// ES (v2) or CX (v3), read from HandoverRequest.DialogflowResponse or a
// history item. The full response stays available as raw JSON.
type DialogflowView struct {
	Version    string // "ES" or "CX"
	ResponseID string
	// QueryText is what the customer said (ES queryText, CX text).
	QueryText string
	// Texts are the bot's text replies, in order.
	Texts        []string
	Intent       string // the matched intent's display name
	Confidence   float64
	LanguageCode string
	Parameters   map[string]any
	// OutputContexts are the ES output contexts' names (the handover trigger
	// is one of them).
	OutputContexts []string
}

type dfText struct {
	Text struct {
		Text []string `json:"text"`
	} `json:"text"`
}

type dfIntent struct {
	DisplayName string `json:"displayName"`
}

type dfResponse struct {
	ResponseID  string `json:"responseId"`
	QueryResult *struct {
		// ES
		QueryText                 string    `json:"queryText"`
		FulfillmentText           string    `json:"fulfillmentText"`
		FulfillmentMessages       []dfText  `json:"fulfillmentMessages"`
		IntentDetectionConfidence float64   `json:"intentDetectionConfidence"`
		Intent                    *dfIntent `json:"intent"`
		OutputContexts            []struct {
			Name string `json:"name"`
		} `json:"outputContexts"`
		// CX
		Text             string   `json:"text"`
		Transcript       string   `json:"transcript"`
		ResponseMessages []dfText `json:"responseMessages"`
		Match            *struct {
			Intent     *dfIntent `json:"intent"`
			Confidence float64   `json:"confidence"`
		} `json:"match"`
		// both
		LanguageCode string         `json:"languageCode"`
		Parameters   map[string]any `json:"parameters"`
	} `json:"queryResult"`
}

func parseDialogflow(raw json.RawMessage) (*DialogflowView, error) {
	v, err := readDialogflow(raw)
	if err != nil {
		return nil, fmt.Errorf("botcopy: read Dialogflow response: %w", err)
	}
	return v, nil
}

func readDialogflow(raw json.RawMessage) (*DialogflowView, error) {
	var r dfResponse
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, err
	}
	return r.view(), nil
}

// view reads the common fields of a decoded response.
func (r *dfResponse) view() *DialogflowView {
	v := &DialogflowView{ResponseID: r.ResponseID, Version: "ES"}
	q := r.QueryResult
	if q == nil {
		return v
	}
	v.LanguageCode, v.Parameters = q.LanguageCode, q.Parameters
	if len(q.ResponseMessages) > 0 || q.Match != nil || (q.QueryText == "" && q.Text != "") {
		v.Version = "CX"
	}
	v.QueryText = q.QueryText
	if v.QueryText == "" {
		v.QueryText = q.Text
	}
	if v.QueryText == "" {
		v.QueryText = q.Transcript
	}
	for _, m := range append(q.FulfillmentMessages, q.ResponseMessages...) {
		for _, t := range m.Text.Text {
			if t = strings.TrimSpace(t); t != "" {
				v.Texts = append(v.Texts, t)
			}
		}
	}
	if len(v.Texts) == 0 && q.FulfillmentText != "" {
		v.Texts = []string{q.FulfillmentText}
	}
	v.Confidence = q.IntentDetectionConfidence
	switch {
	case q.Intent != nil:
		v.Intent = q.Intent.DisplayName
	case q.Match != nil && q.Match.Intent != nil:
		v.Intent = q.Match.Intent.DisplayName
	}
	if q.Match != nil && v.Confidence == 0 {
		v.Confidence = q.Match.Confidence
	}
	for _, c := range q.OutputContexts {
		v.OutputContexts = append(v.OutputContexts, c.Name)
	}
	return v
}
