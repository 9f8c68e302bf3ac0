package version

import "testing"

func TestUserAgent(t *testing.T) {
	if got := UserAgent("botcopy"); got != "botwire-botcopy/"+Version {
		t.Errorf("UserAgent = %q", got)
	}
}
