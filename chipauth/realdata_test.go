package chipauth

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nfcbridge/nfcbridge/icao"
	"github.com/nfcbridge/nfcbridge/internal/apdutest"
	"github.com/nfcbridge/nfcbridge/pace"
	"github.com/nfcbridge/nfcbridge/sm"
)

// caTranscript is one entry of testdata/realdata/CA-transcripts.json: a
// real Chip Authentication session with the reader's ephemeral key (see
// testdata/realdata/CA-README.md). Every field is required.
type caTranscript struct {
	State        string      `json:"state"`
	DG14         string      `json:"dg14"`
	Protocol     string      `json:"protocol"`
	Cipher       string      `json:"cipher"`
	Bits         int         `json:"bits"`
	P            string      `json:"p"`
	A            string      `json:"a"`
	Gx           string      `json:"gx"`
	Gy           string      `json:"gy"`
	Curve        string      `json:"curve"`
	ChipPubX     string      `json:"chip_pub_x"`
	ChipPubY     string      `json:"chip_pub_y"`
	TerminalPriv string      `json:"terminal_priv"`
	TerminalPubX string      `json:"terminal_pub_x"`
	TerminalPubY string      `json:"terminal_pub_y"`
	PreSM        preSM       `json:"pre_sm"`
	APDUs        [][2]string `json:"apdus"`
	ExpKSEnc     string      `json:"exp_ks_enc"`
	ExpKSMAC     string      `json:"exp_ks_mac"`
	ExpSSCAfter  string      `json:"exp_ssc_after"`
	Note         string      `json:"note"`
}

type preSM struct {
	Cipher string `json:"cipher"`
	KSEnc  string `json:"ks_enc"`
	KSMAC  string `json:"ks_mac"`
	SSC    string `json:"ssc"`
}

// loadTranscripts reads the transcripts strictly: unknown fields and
// missing required ones fail the test.
func loadTranscripts(t *testing.T) []caTranscript {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "testdata", "realdata", "CA-transcripts.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := json.NewDecoder(f)
	dec.DisallowUnknownFields()
	var ts []caTranscript
	if err := dec.Decode(&ts); err != nil {
		t.Fatal(err)
	}
	for _, tr := range ts {
		for name, v := range map[string]string{"state": tr.State, "dg14": tr.DG14, "cipher": tr.Cipher, "chip_pub_x": tr.ChipPubX,
			"terminal_priv": tr.TerminalPriv, "exp_ks_enc": tr.ExpKSEnc, "exp_ks_mac": tr.ExpKSMAC, "pre_sm.ks_enc": tr.PreSM.KSEnc, "pre_sm.ssc": tr.PreSM.SSC} {
			if v == "" {
				t.Fatalf("%s: %s missing", tr.State, name)
			}
		}
		if len(tr.APDUs) < 2 {
			t.Fatalf("%s: %d APDUs", tr.State, len(tr.APDUs))
		}
	}
	if len(ts) != 4 {
		t.Fatalf("%d transcripts, want 4", len(ts))
	}
	return ts
}

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatalf("hex %q: %v", s, err)
	}
	return b
}

func suiteOf(t testing.TB, name string) sm.Suite {
	switch name {
	case "AES":
		return sm.AES
	case "TDES":
		return sm.TDES
	}
	t.Fatalf("cipher %q", name)
	return 0
}

// realKey parses the transcript's DG14 and chooses its key.
func realKey(t *testing.T, tr caTranscript) Key {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "realdata", tr.DG14))
	if err != nil {
		t.Fatal(err)
	}
	infos, err := pace.ParseDG14(b)
	if err != nil {
		t.Fatal(err)
	}
	k, err := Choose(infos)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestRealTranscripts replays four real Chip Authentication sessions: the
// key from the document's DG14, the reader's published ephemeral key as
// the random source and the recorded SM-protected responses. The derived
// session keys must equal the recorded ones, the MSE command must be the
// recorded bytes, GENERAL AUTHENTICATE must carry the recorded content (its
// Le differs, see shortLe), and the first command under the new keys must
// be the recorded one and its recorded answer must verify.
func TestRealTranscripts(t *testing.T) {
	want := map[string]struct {
		protocol Protocol
		keyID    int
		inferred bool
		method   Method
	}{
		"AT": {Protocol{ECDH, AES128}, NoKeyID, false, SetAT},
		"DE": {Protocol{ECDH, AES128}, 0xC3, false, SetAT},
		"MY": {Protocol{ECDH, TDES}, NoKeyID, false, SetAT}, // the reader chose GA for 3DES
		"FR": {Protocol{ECDH, TDES}, NoKeyID, true, SetKAT},
	}
	for _, tr := range loadTranscripts(t) {
		t.Run(tr.State, func(t *testing.T) {
			w, ok := want[tr.State]
			if !ok {
				t.Fatalf("unexpected state %s", tr.State)
			}
			key := realKey(t, tr)
			if key.Protocol != w.protocol || key.KeyID != w.keyID || key.Inferred != w.inferred {
				t.Fatalf("key %v, want %v keyId %d inferred %v", key, w.protocol, w.keyID, w.inferred)
			}
			if !strings.Contains(tr.Curve, key.Domain()) {
				t.Errorf("domain %s, transcript says %s", key.Domain(), tr.Curve)
			}
			chipPub := append([]byte{4}, append(unhex(t, pad64(tr.ChipPubX)), unhex(t, pad64(tr.ChipPubY))...)...)
			if !bytes.Equal(key.PublicKey(), chipPub) {
				t.Fatal("DG14 key differs from the transcript's chip key")
			}
			replay := newReplay(t, tr)
			pre, err := sm.NewSession(replay, sm.Keys{Suite: suiteOf(t, tr.PreSM.Cipher), Enc: unhex(t, tr.PreSM.KSEnc),
				MAC: unhex(t, tr.PreSM.KSMAC), SSC: unhex(t, tr.PreSM.SSC)})
			if err != nil {
				t.Fatal(err)
			}
			d := new(big.Int).SetBytes(unhex(t, tr.TerminalPriv))
			cfg := &Config{Rand: bytes.NewReader(d.FillBytes(make([]byte, 32))), Method: w.method}
			res, err := Authenticate(context.Background(), pre, key, cfg)
			if err != nil {
				t.Fatal(err)
			}
			if res.Method != w.method {
				t.Errorf("method %v, want %v", res.Method, w.method)
			}
			if !bytes.Equal(res.Keys.Enc, unhex(t, tr.ExpKSEnc)) || !bytes.Equal(res.Keys.MAC, unhex(t, tr.ExpKSMAC)) {
				t.Fatal("session keys differ from the recorded ones")
			}
			if res.Keys.Suite != suiteOf(t, tr.Cipher) || len(res.Keys.Enc)*8 != max(tr.Bits, 128) {
				t.Fatalf("suite %v with %d-byte keys, want %s-%d", res.Keys.Suite, len(res.Keys.Enc), tr.Cipher, tr.Bits)
			}
			next, err := res.Session(replay)
			if err != nil {
				t.Fatal(err)
			}
			// The recorded SELECT of DG14 under the new keys.
			if _, err := icao.Exchange(context.Background(), next, icao.Command{INS: icao.InsSelect, P1: 2, P2: 0x0C, Data: []byte{1, 0x0E}}); err != nil {
				t.Fatalf("first command under the new keys: %v", err)
			}
			replay.done(t)
		})
	}
}

// pad64 left-pads a hex coordinate to 32 bytes.
func pad64(s string) string { return strings.Repeat("0", max(0, 64-len(s))) + s }

// replay answers with the transcript's responses. Commands must equal the
// recorded ones, except GENERAL AUTHENTICATE, whose plain content is
// compared by unwrapping both with the pre-CA keys.
type replay struct {
	t      *testing.T
	tr     caTranscript
	n      int
	ours   *sm.Card // unwraps our commands under the pre-CA keys
	theirs *sm.Card // unwraps the recorded ones
}

func newReplay(t *testing.T, tr caTranscript) *replay {
	k := sm.Keys{Suite: suiteOf(t, tr.PreSM.Cipher), Enc: unhex(t, tr.PreSM.KSEnc), MAC: unhex(t, tr.PreSM.KSMAC), SSC: unhex(t, tr.PreSM.SSC)}
	ours, err1 := sm.NewCard(k)
	theirs, err2 := sm.NewCard(k)
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	return &replay{t: t, tr: tr, ours: ours, theirs: theirs}
}

func (r *replay) Transmit(_ context.Context, capdu []byte) ([]byte, error) {
	if r.n >= len(r.tr.APDUs) {
		r.t.Errorf("command %d after the transcript: %x", r.n+1, capdu)
		return nil, apdutest.ErrUnexpected
	}
	rec := unhex(r.t, r.tr.APDUs[r.n][0])
	resp := unhex(r.t, r.tr.APDUs[r.n][1])
	r.n++
	if r.n == len(r.tr.APDUs) { // under the new keys: exact bytes
		if !bytes.Equal(capdu, rec) {
			r.t.Errorf("command %d:\n got %x\nwant %x", r.n, capdu, rec)
		}
		return resp, nil
	}
	ourPlain, err := r.ours.Unwrap(capdu)
	if err != nil {
		r.t.Fatalf("command %d does not unwrap under the pre-CA keys: %v", r.n, err)
	}
	theirPlain, err := r.theirs.Unwrap(rec)
	if err != nil {
		r.t.Fatalf("recorded command %d does not unwrap: %v", r.n, err)
	}
	a, _ := icao.ParseCommand(ourPlain)
	b, _ := icao.ParseCommand(theirPlain)
	if a.INS == icao.InsMSE && !bytes.Equal(capdu, rec) {
		r.t.Errorf("MSE command %d:\n got %x\nwant %x", r.n, capdu, rec)
	}
	if a.CLA != b.CLA || a.INS != b.INS || a.P1 != b.P1 || a.P2 != b.P2 || !bytes.Equal(a.Data, b.Data) {
		r.t.Errorf("command %d content:\n got %x\nwant %x", r.n, ourPlain, theirPlain)
	}
	for _, c := range []*sm.Card{r.ours, r.theirs} {
		if _, err := c.Wrap([]byte{0x90, 0}); err != nil {
			r.t.Fatal(err)
		}
	}
	return resp, nil
}

func (r *replay) done(t *testing.T) {
	if r.n != len(r.tr.APDUs) {
		t.Errorf("%d of %d recorded APDUs used", r.n, len(r.tr.APDUs))
	}
}
