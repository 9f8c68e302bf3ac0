package easydialog

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A zone read once is cached; the second reading gives the same instant,
// and an unknown zone the same error, every time.
func TestTimestampLocationCached(t *testing.T) {
	for _, c := range []struct {
		typ     int
		tz      string
		want    string // the instant in UTC, "" for an error
		wantErr string
	}{
		{3, "Europe/Zurich", "2022-06-09T10:26:15.904Z", ""},
		{1, "+02:00", "2022-06-09T10:26:15.904Z", ""},
		{1, "-0130", "2022-06-09T13:56:15.904Z", ""},
		{2, "cest", "2022-06-09T10:26:15.904Z", ""},
		{0, "Europe/Zurich", "2022-06-09T10:26:15.904Z", ""},
		{3, "+02:00", "2022-06-09T10:26:15.904Z", ""}, // a wrong type is tolerated
		{2, "XYZT", "", `easydialog: unknown timezone "XYZT" (timezone_type 2)`},
		{3, " Nowhere/City ", "", `easydialog: unknown timezone "Nowhere/City" (timezone_type 3)`},
		{3, "", "2022-06-09T12:26:15.904Z", ""},
	} {
		ts := Timestamp{Date: "2022-06-09 12:26:15.904000", TimezoneType: c.typ, Timezone: c.tz}
		for range 2 {
			got, err := ts.Time()
			if c.wantErr != "" {
				require.EqualError(t, err, c.wantErr)
				continue
			}
			require.NoError(t, err, c.tz)
			assert.Equal(t, c.want, got.UTC().Format(time.RFC3339Nano), "%d %q", c.typ, c.tz)
		}
	}
}
