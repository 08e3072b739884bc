package upload_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nfcbridge/nfcbridge/upload"
)

// BenchmarkPayload measures, on a realistic NFC set (25-byte COM, 2 KB SOD,
// 93-byte DG1, DG2 with a ~20 KB JPEG), the CPU time of signing and
// compressing the JSON body and the bytes each compression saves on the
// wire. The "json" case measures building the body.
func BenchmarkPayload(b *testing.B) {
	nfc := testNFC(b)
	body, err := upload.NFCBody(nfc)
	require.NoError(b, err)
	b.Run("json", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			if _, err := upload.NFCBody(nfc); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, c := range []upload.Compression{upload.NoCompression, upload.Gzip, upload.Deflate} {
		b.Run("sign+"+string(c), func(b *testing.B) {
			var wire []byte
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				if wire, _, err = upload.SignAndCompress(body, []byte(testSecret), c); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(nfc.DG2)), "dg2-bytes")
			b.ReportMetric(float64(len(body)), "json-bytes")
			b.ReportMetric(float64(len(wire)), "wire-bytes")
			b.ReportMetric(float64(len(body)-len(wire)), "saved-bytes")
			b.ReportMetric(100*float64(len(body)-len(wire))/float64(len(body)), "saved-%")
		})
	}
}
