package admission

import (
	"net/http/httptest"
	"testing"
	"time"
)

// TestTimeout: the API server's deadline (the timeout query parameter its
// REST client adds) lowers the handler's bound, leaving time to answer.
func TestTimeout(t *testing.T) {
	tests := []struct {
		name   string
		query  string
		option time.Duration
		want   time.Duration
	}{
		{name: "no parameter", want: DefaultTimeout},
		{name: "api server default", query: "?timeout=10s", want: DefaultTimeout},
		{name: "short webhook timeout", query: "?timeout=5s", want: 4 * time.Second},
		{name: "very short", query: "?timeout=2s", want: 1500 * time.Millisecond},
		{name: "option below parameter", query: "?timeout=30s", option: 3 * time.Second, want: 3 * time.Second},
		{name: "option above parameter", query: "?timeout=10s", option: 20 * time.Second, want: 9 * time.Second},
		{name: "garbage parameter", query: "?timeout=soon", want: DefaultTimeout},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := Handler(nil, nil, nil, Policy{}, WithTimeout(tt.option)).(*handler)
			if got := h.timeout(httptest.NewRequest("POST", "/validate"+tt.query, nil)); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}
