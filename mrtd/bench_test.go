package mrtd_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nfcbridge/nfcbridge/activeauth"
	"github.com/nfcbridge/nfcbridge/chipauth"
	"github.com/nfcbridge/nfcbridge/icao"
	"github.com/nfcbridge/nfcbridge/icao/tlv"
	"github.com/nfcbridge/nfcbridge/internal/pcsctest"
	"github.com/nfcbridge/nfcbridge/mrtd"
	"github.com/nfcbridge/nfcbridge/pace"
	"github.com/nfcbridge/nfcbridge/sm"
	"github.com/nfcbridge/nfcbridge/vchip"
)

// floorCase is one chip of the read-floor benchmark: how the chip is
// configured and the largest response APDU (data and SW1 SW2) a READ
// BINARY may ask for on it.
type floorCase struct {
	name string
	chip vchip.Config
	// response is the largest response APDU in bytes: the stated response
	// buffer, or 258 for short APDUs, or 0 when maxLe bounds the plain Ne.
	response int
	maxLe    int
}

func floorCases() []floorCase {
	return []floorCase{
		{name: "no-atr-info", chip: vchip.Config{}, response: icao.MaxShortNe + 2},
		{name: "atr-info-65535", chip: vchip.Config{ATRInfo: icao.BufferSizes{Command: 65535, Response: 65535}}, response: 65535},
		{name: "atr-info-1024", chip: vchip.Config{ATRInfo: icao.BufferSizes{Command: 1024, Response: 1024}}, response: 1024},
		{name: "le-128", chip: vchip.Config{NoExtendedLength: true, MaxLe: 128}, maxLe: 128},
		{name: "le-128-6cxx", chip: vchip.Config{NoExtendedLength: true, MaxLe: 128, OverLe: vchip.LeExact}, maxLe: 128},
		// The limits of real documents: the ES ID card cuts reads to 160
		// bytes with 6282 (AndyQ/NFCPassportReader#91), UA passports
		// refuse Le above 192 (gmrtd/gmrtd#410).
		{name: "le-160-cut-es", chip: vchip.Config{NoExtendedLength: true, MaxLe: 160, OverLe: vchip.LeTruncate}, maxLe: 160},
		{name: "le-192-ua", chip: vchip.Config{NoExtendedLength: true, MaxLe: 192}, maxLe: 192},
	}
}

// payloads returns the most file bytes one READ BINARY carries under a
// 3DES (BAC) session: with the even INS B0 (offsets up to 32767) and with
// the odd INS B1, whose data is wrapped in DO'53' (9303-10 §3.5.2).
func (c floorCase) payloads() (even, odd int) {
	if c.maxLe > 0 {
		return c.maxLe, tlv.FitValue(c.maxLe)
	}
	fit := func(odd bool) int {
		n := 0
		for sm.ResponseLen(sm.TDES, n+1, odd) <= c.response-2 && n < icao.MaxExtendedNe {
			n++
		}
		return n
	}
	return fit(false), tlv.FitValue(fit(true))
}

// floor is the fewest APDUs a BAC read of ds can take on this chip: per
// file, READ BINARY commands each carrying the most the case allows (B0
// while the offset is at most 32767, B1 after), plus the fixed protocol
// APDUs: one READ BINARY each for EF.ATR/INFO and EF.CardAccess (answered
// with the file or 6A82), SELECT of the application, GET CHALLENGE and
// EXTERNAL AUTHENTICATE.
func (c floorCase) floor(ds *vchip.Dataset) int {
	const fixed = 5
	even, odd := c.payloads()
	n := fixed
	for _, f := range mrtd.DefaultFiles() {
		size := len(ds.Files[f.String()])
		for off := 0; off < size; n++ {
			if off <= 0x7FFF {
				off += even
			} else {
				off += odd
			}
		}
	}
	return n
}

func reportRead(b *testing.B, prefix string, s mrtd.Stats, floor int) {
	b.ReportMetric(float64(s.APDUs), prefix+"APDUs")
	b.ReportMetric(float64(s.APDUs-floor), prefix+"over-floor")
	b.ReportMetric(float64(s.ModeledTime(6*time.Millisecond, mrtd.Rate106).Milliseconds()), prefix+"modeled-ms@106k")
	b.ReportMetric(float64(s.ModeledTime(6*time.Millisecond, mrtd.Rate424).Milliseconds()), prefix+"modeled-ms@424k")
}

// BenchmarkReadFloor reads the 20 KB and 150 KB specimens twice in
// process, the second time with what the first read learned, as the
// daemon does on one reader, and reports APDUs against the floor of each
// case and the modeled time on a real link.
func BenchmarkReadFloor(b *testing.B) {
	for _, spec := range []string{"specimen-20k", "specimen-150k"} {
		ds := loadDataset(b, spec)
		for _, c := range floorCases() {
			b.Run(spec+"/"+c.name, func(b *testing.B) {
				floor := c.floor(ds)
				var first, second mrtd.Stats
				var learned mrtd.Learned
				// b.Fatal rather than require in the timed loops of this
				// file: require calls b.Helper on every iteration.
				for b.Loop() {
					chip := newChip(b, ds, c.chip)
					doc, err := mrtd.Read(context.Background(), chip, specimenKey(b), nil)
					if err != nil {
						b.Fatal(err)
					}
					first, learned = doc.Stats, doc.Learned
					chip.Reset()
					doc, err = mrtd.Read(context.Background(), chip, specimenKey(b), &mrtd.Config{Learned: learned})
					if err != nil {
						b.Fatal(err)
					}
					second = doc.Stats
				}
				// The second read knows what a reader may know of a chip
				// model: that it has no EF.ATR/INFO, so its floor has one
				// READ BINARY fewer.
				secondFloor := floor
				if learned.NoATRInfo {
					secondFloor--
				}
				b.ReportMetric(float64(floor), "floor")
				b.ReportMetric(float64(secondFloor), "second-floor")
				reportRead(b, "first-", first, floor)
				reportRead(b, "second-", second, secondFloor)
			})
		}
	}
}

// BenchmarkReadPCSC reads the specimens through libpcsclite, pcscd, vpcd
// and the virtual chip answering each APDU after 6 ms, twice on the same
// reader as the daemon does, and reports the wall time of each read.
func BenchmarkReadPCSC(b *testing.B) {
	for _, spec := range []string{"specimen-20k", "specimen-150k"} {
		ds := loadDataset(b, spec)
		for _, c := range floorCases() {
			b.Run(spec+"/"+c.name, func(b *testing.B) {
				pcsctest.Require(b)
				pcsctest.Lock(b)
				cfg := c.chip
				cfg.Latency = 6 * time.Millisecond
				p := insertPCSC(b, newChip(b, ds, cfg))
				ctx := context.Background()
				var first, second time.Duration
				var apdus [2]int
				for b.Loop() {
					var learned mrtd.Learned
					for i := range 2 {
						card, err := p.Connect(ctx, pcsctest.ReaderName(0))
						if err != nil {
							b.Fatal(err)
						}
						start := time.Now()
						doc, err := mrtd.Read(ctx, card, specimenKey(b), &mrtd.Config{Learned: learned})
						d := time.Since(start)
						card.Close()
						if err != nil {
							b.Fatal(err)
						}
						learned, apdus[i] = doc.Learned, doc.Stats.APDUs
						if i == 0 {
							first += d
						} else {
							second += d
						}
					}
				}
				n := float64(b.N)
				b.ReportMetric(float64(first.Milliseconds())/n, "first-wall-ms")
				b.ReportMetric(float64(second.Milliseconds())/n, "second-wall-ms")
				b.ReportMetric(float64(apdus[0]), "first-APDUs")
				b.ReportMetric(float64(apdus[1]), "second-APDUs")
			})
		}
	}
}

// BenchmarkAuthenticity reads a specimen with Chip Authentication (DG14,
// ECDH brainpoolP256r1, AES-128) and Active Authentication (DG15, RSA-2048)
// in process and reports what the checks add: the APDUs outside the files
// (CA's MSE:Set AT, GENERAL AUTHENTICATE and the SELECT under the new keys;
// AA's INTERNAL AUTHENTICATE), the APDUs of DG14 and DG15, and the modeled
// time of the read with and without them. The sub-benchmarks time the
// terminal's CPU per check: CA against a chip that answers at once (two
// scalar multiplications and the KDF), AA's signature verification.
func BenchmarkAuthenticity(b *testing.B) {
	ca := &vchip.ChipAuthSpec{ParameterID: 13, Ciphers: []chipauth.Cipher{chipauth.AES128}}
	ds := authSpecimen(b, ca, &vchip.ActiveAuthSpec{RSABits: 2048}, "")
	base := authSpecimen(b, nil, nil, "")
	read := func(ds *vchip.Dataset) *mrtd.Document {
		doc, err := mrtd.Read(context.Background(), newChip(b, ds, vchip.Config{}), specimenKey(b), nil)
		if err != nil {
			b.Fatal(err)
		}
		return doc
	}
	outside := func(s mrtd.Stats) (n int, files map[icao.EF]int) {
		n, files = s.APDUs, map[icao.EF]int{}
		for _, f := range s.Files {
			n -= f.APDUs
			files[f.File] = f.APDUs
		}
		return n, files
	}
	b.Run("read", func(b *testing.B) {
		var with, without mrtd.Stats
		for b.Loop() {
			doc := read(ds)
			if doc.Authenticity.Chip.Outcome != mrtd.Passed || doc.Authenticity.Active.Outcome != mrtd.Passed {
				b.Fatalf("verdict %+v", doc.Authenticity)
			}
			with = doc.Stats
		}
		without = read(base).Stats
		n, files := outside(with)
		n0, _ := outside(without)
		b.ReportMetric(float64(with.APDUs), "APDUs")
		b.ReportMetric(float64(without.APDUs), "base-APDUs")
		b.ReportMetric(float64(n-n0), "check-APDUs")
		b.ReportMetric(float64(files[icao.EFDG14]), "DG14-APDUs")
		b.ReportMetric(float64(files[icao.EFDG15]), "DG15-APDUs")
		b.ReportMetric(float64(with.ModeledTime(6*time.Millisecond, mrtd.Rate106).Milliseconds()), "modeled-ms@106k")
		b.ReportMetric(float64(without.ModeledTime(6*time.Millisecond, mrtd.Rate106).Milliseconds()), "base-modeled-ms@106k")
	})
	b.Run("ca-terminal", func(b *testing.B) {
		infos, err := pace.ParseDG14(ds.Files["DG14"])
		require.NoError(b, err)
		key, err := chipauth.Choose(infos)
		require.NoError(b, err)
		for b.Loop() {
			if _, err := chipauth.Authenticate(context.Background(), agreeing{}, key, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("aa-verify", func(b *testing.B) {
		a := read(ds).Authenticity.Active
		pub, err := activeauth.ParseDG15(ds.Files["DG15"])
		require.NoError(b, err)
		for b.Loop() {
			if _, err := activeauth.Verify(pub, a.Challenge, a.Response, 0); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// agreeing is a chip that accepts every CA command at once: MSE answers
// 9000, GENERAL AUTHENTICATE the empty 7C 00.
type agreeing struct{}

func (agreeing) Transmit(_ context.Context, capdu []byte) ([]byte, error) {
	if len(capdu) > 1 && capdu[1] == icao.InsGeneralAuthenticate {
		return []byte{0x7C, 0x00, 0x90, 0x00}, nil
	}
	return []byte{0x90, 0x00}, nil
}
