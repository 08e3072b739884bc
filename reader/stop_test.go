package reader_test

import (
	"context"
	"errors"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfcbridge/nfcbridge/internal/pcsctest"
	"github.com/nfcbridge/nfcbridge/reader"
)

// restartRuns is how many times TestPCSCDStopMidTransmit stops pcscd: a few
// in CI, more in `make soak` (NFCBRIDGE_PCSCD_RESTARTS).
func restartRuns(t *testing.T) int {
	if s := os.Getenv("NFCBRIDGE_PCSCD_RESTARTS"); s != "" {
		n, err := strconv.Atoi(s)
		require.NoError(t, err, "NFCBRIDGE_PCSCD_RESTARTS=%q: want a positive number", s)
		require.GreaterOrEqual(t, n, 1, "NFCBRIDGE_PCSCD_RESTARTS=%q: want a positive number", s)
		return n
	}
	return 3
}

// TestPCSCDStopMidTransmit stops a private pcscd with SIGTERM (what
// `systemctl restart pcscd` and package upgrades do) while APDUs flow:
// the exchange under way must fail as the service going away
// (ErrNoService, ErrReaderGone or ErrCardRemoved), never as a polkit
// refusal, and the card must be readable again once pcscd is back.
func TestPCSCDStopMidTransmit(t *testing.T) {
	d := pcsctest.Isolate(t)
	if d == nil {
		return // ran in a child process
	}
	runs := restartRuns(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(runs)*30*time.Second)
	defer cancel()
	p, err := reader.Open()
	require.NoError(t, err, "Open")
	defer p.Close()
	name := pcsctest.ReaderName(0)
	readBinary := []byte{0x00, 0xB0, 0x00, 0x00, 0x00}
	resumed := 0
	for run := range runs {
		c, _ := readOnce(ctx, t, p, d.Addr(0), name, readBinary)
		errc := make(chan error, 1)
		go func() {
			for {
				if _, err := c.Transmit(ctx, readBinary); err != nil {
					errc <- err
					return
				}
			}
		}()
		time.Sleep(time.Duration(20+run*37%100) * time.Millisecond)
		d.Stop(t)
		var err error
		select {
		case err = <-errc:
		case <-time.After(10 * time.Second):
			require.FailNowf(t, "Transmit still succeeds with pcscd stopped", "run %d", run)
		}
		c.Close()
		t.Logf("run %d: %v", run, err)
		assert.NotErrorIs(t, err, reader.ErrAccessDenied, "run %d: pcscd stopping reads as a polkit refusal", run)
		assert.True(t, errors.Is(err, reader.ErrNoService) || errors.Is(err, reader.ErrReaderGone) || errors.Is(err, reader.ErrCardRemoved),
			"run %d: %v, want the service or the reader gone", run, err)
		d.Start(t)
		c, _ = readOnce(ctx, t, p, d.Addr(0), name, readBinary)
		c.Close()
		resumed++
	}
	t.Logf("pcscd restarts (SIGTERM mid-transmit): %d tried, %d read again", runs, resumed)
}
