package pki

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nfcbridge/nfcbridge/group"
)

// bigMasterList builds a master list of n CSCAs shaped like a State's
// (the German list of 2026 holds about 600): half RSA (3072 bits), a
// quarter P-256 with named parameters, a quarter brainpoolP384r1 with
// explicit parameters. Keys are reused across certificates; the load
// cost is per certificate, not per key.
func bigMasterList(b *testing.B, n int) []byte {
	b.Helper()
	rsaKey, err := rsa.GenerateKey(rand.Reader, 3072)
	require.NoError(b, err)
	bp, _ := group.CurveByOID([]int{1, 3, 36, 3, 3, 2, 8, 1, 1, 11})
	p256, _ := group.CurveByOID([]int{1, 2, 840, 10045, 3, 1, 7})
	keys := []struct {
		key signer
		alg string
	}{
		{&rsaSigner{key: rsaKey}, "sha256WithRSAEncryption"},
		{&rsaSigner{key: rsaKey}, "sha256WithRSAEncryption"},
		{newECSigner(b, p256, false), "ecdsa-with-SHA256"},
		{newECSigner(b, bp, true), "ecdsa-with-SHA384"},
	}
	var certs [][]byte
	for i := range n {
		k := keys[i%len(keys)]
		spec := cscaSpec(b, k.key, k.alg)
		name := pkix.Name{Country: []string{fmt.Sprintf("%c%c", 'A'+i/26%26, 'A'+i%26)}, CommonName: fmt.Sprintf("CSCA %d", i)}
		spec.issuer, spec.subject = name, name
		spec.serial = big.NewInt(int64(i + 1)).Bytes()
		spec.ski = []byte{byte(i >> 8), byte(i), 1, 2}
		spec.aki = spec.ski
		certs = append(certs, spec.build(b))
	}
	csca := newCSCA(b, "CSCA Utopia", "UT")
	return testMasterList(b, newMLSigner(b, csca), nil, certs)
}

// BenchmarkLoadMasterList measures loading a 600-certificate master list
// into a Store (parse, list signature, every self-signature) and reports
// the heap the loaded Store keeps.
func BenchmarkLoadMasterList(b *testing.B) {
	ml := bigMasterList(b, 600)
	path := filepath.Join(b.TempDir(), "big.ml")
	require.NoError(b, os.WriteFile(path, ml, 0o644))
	benchLoad(b, path, 600)
	b.ReportMetric(float64(len(ml)), "file-B")
}

// BenchmarkLoadCollection measures loading the 551 real CSCAs of
// testdata/csca-collection (PEM; each self-signature checked at load, as
// for certificate files) and the heap the loaded Store keeps.
func BenchmarkLoadCollection(b *testing.B) {
	benchLoad(b, collection, 550)
}

// benchLoad loads path into a Store once to count its want certificates
// and measure the heap it keeps, then again in the timed loop.
func benchLoad(b *testing.B, path string, want int) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	s := &Store{}
	_, err := s.LoadPath(path)
	require.NoError(b, err)
	require.Equal(b, want, s.Len(), "certificates")
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(s)
	b.ReportAllocs()
	for b.Loop() {
		s := &Store{}
		if _, err := s.LoadPath(path); err != nil {
			b.Fatal(err) // not require: it would call b.Helper in the timed loop
		}
	}
	b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc), "retained-B")
}

// BenchmarkAnchorChecks measures the self-signature checks that a load
// defers to first use, for all 600 certificates.
func BenchmarkAnchorChecks(b *testing.B) {
	ml, err := ParseMasterList(bigMasterList(b, 600))
	require.NoError(b, err)
	for b.Loop() {
		for _, c := range ml.Certificates {
			if err := c.CheckSignatureFrom(c); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkParseMasterList measures parsing alone, without signatures.
func BenchmarkParseMasterList(b *testing.B) {
	ml := bigMasterList(b, 600)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseMasterList(ml); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifySOD measures passive authentication of real EF.SODs
// against the realdata store.
func BenchmarkVerifySOD(b *testing.B) {
	s, _ := realStore(b)
	for _, state := range []string{"DE", "AT", "NZ", "FR"} {
		sod := readFile(b, state+"/EF.SOD.bin")
		b.Run(state, func(b *testing.B) {
			for b.Loop() {
				if v := VerifySOD(sod, s, VerifyOptions{Now: func() time.Time { return checkTime }}); v.Status != StatusValid {
					b.Fatal(v.Reason)
				}
			}
		})
	}
}
