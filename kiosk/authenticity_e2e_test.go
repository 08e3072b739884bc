package kiosk_test

// Authenticity end to end through pcscd + vpcd and the daemon: a genuine
// chip verifies on every count and is uploaded; a clone, a tampered data
// group and a document under an unknown CSCA each get what the policy
// says.

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfcbridge/nfcbridge/chipauth"
	"github.com/nfcbridge/nfcbridge/internal/pcsctest"
	"github.com/nfcbridge/nfcbridge/kiosk"
	"github.com/nfcbridge/nfcbridge/mrtd"
	"github.com/nfcbridge/nfcbridge/pki"
	"github.com/nfcbridge/nfcbridge/vchip"
	"github.com/nfcbridge/nfcbridge/vpcd"
)

// authDataset is a specimen with Chip Authentication (ECDH brainpoolP256r1,
// AES-128) and Active Authentication (RSA-2048), signed under its own
// specimen CSCA.
func authDataset(t *testing.T) *vchip.Dataset {
	t.Helper()
	ds, err := vchip.Specimen(vchip.SpecimenConfig{DG2Size: 6000,
		ChipAuth:   &vchip.ChipAuthSpec{ParameterID: 13, Ciphers: []chipauth.Cipher{chipauth.AES128}},
		ActiveAuth: &vchip.ActiveAuthSpec{RSABits: 2048}})
	require.NoError(t, err)
	return ds
}

// trusting returns a rig service option whose trust store holds csca (nil:
// an empty store) and whose policy is p.
func trusting(t *testing.T, csca []byte, p mrtd.Policy) func(*kiosk.Config) {
	store := &pki.Store{}
	if csca != nil {
		c, err := pki.ParseCertificate(csca)
		require.NoError(t, err)
		require.NoError(t, store.AddCertificate(c))
	}
	return func(c *kiosk.Config) {
		c.Trust = func() *pki.Store { return store }
		c.Authenticity = p
	}
}

func TestE2EAuthenticity(t *testing.T) {
	realStack(t)
	genuine := authDataset(t)
	tampered := authDataset(t)
	tampered.Files["DG2"][len(tampered.Files["DG2"])-3] ^= 0x01 // after EF.SOD was signed

	for _, tc := range []struct {
		name    string
		ds      *vchip.Dataset
		chip    vchip.Config
		trust   bool // the dataset's CSCA is a trust anchor
		policy  mrtd.Policy
		state   kiosk.State
		code    kiosk.Code
		passive pki.Status
		chipOK  mrtd.Outcome
	}{
		{name: "genuine", ds: genuine, trust: true, state: kiosk.Done, passive: pki.StatusValid, chipOK: mrtd.Passed},
		{name: "cloned", ds: genuine, chip: vchip.Config{Cloned: true}, trust: true, state: kiosk.Failed, code: kiosk.CodeNotAuthentic, passive: pki.StatusValid, chipOK: mrtd.Failed},
		{name: "tampered DG2", ds: tampered, trust: true, state: kiosk.Failed, code: kiosk.CodeIntegrity, passive: pki.StatusValid, chipOK: mrtd.Passed},
		{name: "unknown CSCA", ds: genuine, state: kiosk.Done, passive: pki.StatusNoTrustAnchor, chipOK: mrtd.Passed},
		{name: "cloned, report policy", ds: genuine, chip: vchip.Config{Cloned: true}, trust: true, policy: mrtd.Report, state: kiosk.Done, passive: pki.StatusValid, chipOK: mrtd.Failed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var csca []byte
			if tc.trust {
				csca = tc.ds.CSCA
			}
			r := newRig(t, rigConfig{service: trusting(t, csca, tc.policy)})
			chip, err := vchip.New(tc.ds, &tc.chip)
			require.NoError(t, err)
			insert(t, vpcd.Addr(0), chip, nil)
			session := uuid.NewString()
			st := r.start(readReq(session, map[string]any{"reader": pcsctest.ReaderName(0)}))
			evs := r.follow(st.ID, 60*time.Second)
			require.NotEmpty(t, evs)
			final := evs[len(evs)-1].status
			require.Equal(t, tc.state, final.State, "error: %+v", final.Error)
			if tc.code != "" {
				require.NotNil(t, final.Error)
				assert.Equal(t, tc.code, final.Error.Code)
				assert.False(t, final.Error.Retryable && tc.code == kiosk.CodeNotAuthentic)
			}
			ups := r.sandbox.Uploads()
			if tc.state == kiosk.Done {
				require.Len(t, ups, 1, "uploaded")
				require.NotNil(t, final.Result)
			} else {
				assert.Empty(t, ups, "nothing is uploaded")
			}
			var res *kiosk.Result
			if final.Result != nil {
				res = final.Result
			} else {
				var got kiosk.Status
				require.Equal(t, 200, r.do("GET", "/v1/reads/"+st.ID, nil, &got))
				res = got.Result
			}
			if res != nil && res.Authenticity != nil {
				a := res.Authenticity
				assert.Equal(t, tc.passive, a.Passive.Status)
				assert.Equal(t, tc.chipOK, a.Chip.Outcome)
				assert.Equal(t, tc.chipOK, a.Active.Outcome, "AA fails with CA on a clone")
			} else {
				assert.NotEqual(t, kiosk.Done, tc.state, "a done read reports its verdicts")
			}
			for _, secret := range []string{"ERIKSSON", "L898902C3"} {
				assert.NotContains(t, r.logs.String(), secret)
			}
		})
	}
}
