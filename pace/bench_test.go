package pace

import (
	"context"
	"math/big"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// BenchmarkOpen measures one PACE run terminal ↔ card in-process. ns/op is
// the wall time of the whole run; terminal-ms/op and card-ms/op split it
// into the time spent in Open and in Card.Handle; cpu-ms/op is the process
// CPU time (both sides, plus GC), which is the stable number on a shared
// machine. Run with -cpu 1.
func BenchmarkOpen(b *testing.B) {
	mrz := MRZ([]byte(testMRZ))
	cases := []struct {
		name string
		info Info
	}{
		{"ECDH-GM-P256-AES128", paceInfo(arcECDHGM, 2, 12)},
		{"ECDH-GM-brainpoolP256r1-AES128", paceInfo(arcECDHGM, 2, 13)},
		{"ECDH-GM-brainpoolP256r1-3DES", paceInfo(arcECDHGM, 1, 13)},
		{"ECDH-GM-P192-AES128", paceInfo(arcECDHGM, 2, 8)},
		{"ECDH-GM-brainpoolP384r1-AES256", paceInfo(arcECDHGM, 4, 16)},
		{"ECDH-GM-brainpoolP512r1-AES256", paceInfo(arcECDHGM, 4, 17)},
		{"ECDH-GM-P521-AES256", paceInfo(arcECDHGM, 4, 18)},
		{"ECDH-IM-brainpoolP256r1-AES128", paceInfo(arcECDHIM, 2, 13)},
		{"ECDH-IM-P521-AES256", paceInfo(arcECDHIM, 4, 18)},
		{"ECDH-CAM-brainpoolP256r1-AES128", paceInfo(arcECDHCAM, 2, 13)},
		{"DH-GM-1024-AES128", paceInfo(arcDHGM, 2, 0)},
		{"DH-GM-2048-256-AES256", paceInfo(arcDHGM, 4, 2)},
		{"DH-IM-1024-AES128", paceInfo(arcDHIM, 2, 0)},
	}
	for _, bc := range cases {
		b.Run(bc.name, func(b *testing.B) {
			card := newTestCard(b, combo{info: bc.info})
			var cardTime time.Duration
			start, cpu := time.Now(), cpuNow()
			for b.Loop() {
				l := &loopback{card: card}
				res, err := Open(context.Background(), l, mrz, bc.info, nil)
				require.NoError(b, err)
				res.Session.Close()
				cardTime += l.cardTime
			}
			total, cpuTotal := time.Since(start), cpuNow()-cpu
			n := float64(b.N)
			b.ReportMetric(float64(cpuTotal.Microseconds())/1000/n, "cpu-ms/op")
			b.ReportMetric(float64((total-cardTime).Microseconds())/1000/n, "terminal-ms/op")
			b.ReportMetric(float64(cardTime.Microseconds())/1000/n, "card-ms/op")
		})
	}
}

// BenchmarkScalarMult measures one scalar multiplication per curve.
func BenchmarkScalarMult(b *testing.B) {
	for _, id := range []int{8, 12, 13, 16, 17, 18} {
		c, _ := standardCurve(id)
		k := new(big.Int).Sub(c.n, big.NewInt(12345))
		b.Run(c.name, func(b *testing.B) {
			cpu := cpuNow()
			for b.Loop() {
				c.ScalarMult(c.g, k)
			}
			b.ReportMetric(float64((cpuNow()-cpu).Microseconds())/1000/float64(b.N), "cpu-ms/op")
		})
	}
}
