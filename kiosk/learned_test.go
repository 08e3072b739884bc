package kiosk_test

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfcbridge/nfcbridge/kiosk"
	"github.com/nfcbridge/nfcbridge/vchip"
)

// TestSecondReadLearned reads twice on one reader a chip that refuses
// Le above 128 with 6700: the first read has one probe refused (Le 160)
// and looks for EF.ATR/INFO, the second starts where the first ended.
func TestSecondReadLearned(t *testing.T) {
	r := inProcessRig(t, newChip(t, &vchip.Config{NoExtendedLength: true, MaxLe: 128}), rigConfig{})
	var apdus [2]int
	for i := range apdus {
		st := r.start(readReq(uuid.NewString(), map[string]any{"upload": false}))
		evs := r.follow(st.ID, 20*time.Second)
		final := evs[len(evs)-1].status
		require.Equal(t, kiosk.Done, final.State)
		require.NotNil(t, final.Result)
		apdus[i] = final.Result.APDUs
	}
	// Le 160 refused, and EF.ATR/INFO absent.
	assert.Equal(t, 2, apdus[0]-apdus[1], "APDUs of the first and second read: %v", apdus)
}
