package main

import (
	"bytes"
	"crypto"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nfcbridge/nfcbridge/chipauth"
	"github.com/nfcbridge/nfcbridge/icao"
	"github.com/nfcbridge/nfcbridge/internal/pcsctest"
	"github.com/nfcbridge/nfcbridge/mrtd"
	"github.com/nfcbridge/nfcbridge/pki"
	"github.com/nfcbridge/nfcbridge/vchip"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const realdata = "../../testdata/realdata"

// evidenceDir writes files (name in the directory → bytes) into a fresh
// directory.
func evidenceDir(t *testing.T, files map[string][]byte) string {
	t.Helper()
	dir := t.TempDir()
	for name, b := range files {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), b, 0o600))
	}
	return dir
}

// realFile reads a file of testdata/realdata.
func realFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(realdata, path))
	require.NoError(t, err)
	return b
}

// flip returns a copy of b with the byte at i inverted.
func flip(b []byte, i int) []byte {
	c := bytes.Clone(b)
	c[i] ^= 0xFF
	return c
}

// flipSignature returns a copy of a SignedData with a byte in the middle
// of its signature inverted: the structure still parses.
func flipSignature(t *testing.T, sd []byte) []byte {
	t.Helper()
	p, err := pki.ParseSignedData(sd)
	require.NoError(t, err)
	sig := p.Signers[0].Signature
	i := bytes.Index(sd, sig)
	require.GreaterOrEqual(t, i, 0, "signature bytes not found as such")
	return flip(sd, i+len(sig)/2)
}

// verifyJSON is the part of verify --json the tests read.
type verifyJSON struct {
	Files   []string `json:"files"`
	Ignored []string `json:"ignored"`
	Passive struct {
		Present    bool         `json:"present"`
		Status     pki.Status   `json:"status"`
		Hashes     mrtd.Outcome `json:"hashes"`
		Mismatched []string     `json:"mismatched"`
		Verdict    *struct {
			CSCA *struct {
				Country string `json:"country"`
			} `json:"csca"`
		} `json:"verdict"`
	} `json:"passive"`
	CardSecurity struct {
		Present     bool       `json:"present"`
		Status      pki.Status `json:"status"`
		ChipAuthKey string     `json:"chipAuthKey"`
	} `json:"cardSecurity"`
	DG14 struct {
		Present      bool         `json:"present"`
		CoveredBySOD mrtd.Outcome `json:"coveredBySOD"`
		ChipAuth     mrtd.Outcome `json:"chipAuth"`
	} `json:"dg14"`
	Chip struct {
		Outcome mrtd.Outcome `json:"outcome"`
	} `json:"chip"`
	Active struct {
		Outcome          mrtd.Outcome `json:"outcome"`
		Algorithm        string       `json:"algorithm"`
		DG15CoveredBySOD mrtd.Outcome `json:"dg15CoveredBySOD"`
	} `json:"active"`
	Trust     []pki.LoadReport `json:"trust"`
	Authentic bool             `json:"authentic"`
	Problem   string           `json:"problem"`
	Warnings  []string         `json:"warnings"`
}

func runVerifyJSON(t *testing.T, dir string, trust ...string) (result, verifyJSON) {
	t.Helper()
	args := []string{"verify", "--dir", dir, "--json"}
	for _, p := range trust {
		args = append(args, "--trust", filepath.Join(realdata, p))
	}
	r := runCLI(t, args...)
	var v verifyJSON
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &v), "stdout %q stderr %q", r.stdout, r.stderr)
	return r, v
}

func TestVerifyRealData(t *testing.T) {
	nzSOD, nzDG15 := realFile(t, "NZ/EF.SOD.bin"), realFile(t, "NZ/DG15.bin")
	challenge, response := realFile(t, "NZ/AA-challenge"), realFile(t, "NZ/AA-response")
	deSOD, deDG14, deCS := realFile(t, "DE/EF.SOD.bin"), realFile(t, "DE/DG14.bin"), realFile(t, "DE/EF.CardSecurity.bin")

	t.Run("NZ EF.SOD valid", func(t *testing.T) {
		r, v := runVerifyJSON(t, evidenceDir(t, map[string][]byte{"EF.SOD": nzSOD}), "NZ/CSCA.der")
		assert.Equal(t, 0, r.code, r.stderr)
		assert.True(t, v.Passive.Present)
		assert.Equal(t, pki.StatusValid, v.Passive.Status)
		require.NotNil(t, v.Passive.Verdict)
		require.NotNil(t, v.Passive.Verdict.CSCA)
		assert.Equal(t, "NZ", v.Passive.Verdict.CSCA.Country)
		assert.Equal(t, mrtd.NotRun, v.Passive.Hashes, "no data group to compare")
		assert.Equal(t, mrtd.NotRun, v.Chip.Outcome)
		assert.Equal(t, mrtd.NotRun, v.Active.Outcome)
		assert.False(t, v.CardSecurity.Present)
		assert.False(t, v.DG14.Present)
		assert.Len(t, v.Trust, 1)
		assert.True(t, v.Authentic)
		assert.Empty(t, v.Warnings)
	})
	t.Run("NZ EF.SOD, DG15 and AA evidence", func(t *testing.T) {
		dir := evidenceDir(t, map[string][]byte{"EF.SOD": nzSOD, "DG15": nzDG15, fileAAChallenge: challenge, fileAAResponse: response})
		r, v := runVerifyJSON(t, dir, "NZ/CSCA.der")
		assert.Equal(t, 0, r.code, r.stderr)
		assert.Equal(t, pki.StatusValid, v.Passive.Status)
		assert.Equal(t, mrtd.Passed, v.Passive.Hashes)
		assert.Equal(t, mrtd.Passed, v.Active.Outcome)
		assert.Equal(t, mrtd.Passed, v.Active.DG15CoveredBySOD)
		assert.Contains(t, v.Active.Algorithm, "RSA-1792")
		assert.ElementsMatch(t, []string{"EF.SOD", "DG15", fileAAChallenge, fileAAResponse}, v.Files)
	})
	t.Run("DE EF.SOD, DG14, EF.CardSecurity valid", func(t *testing.T) {
		dir := evidenceDir(t, map[string][]byte{"EF.SOD": deSOD, "DG14": deDG14, "EF.CardSecurity": deCS})
		r, v := runVerifyJSON(t, dir, "DE/CSCA-2021-bp512.der")
		assert.Equal(t, 0, r.code, r.stderr)
		assert.Equal(t, pki.StatusValid, v.Passive.Status)
		assert.Equal(t, mrtd.Passed, v.Passive.Hashes)
		assert.Equal(t, mrtd.Passed, v.DG14.CoveredBySOD)
		assert.Equal(t, mrtd.Passed, v.DG14.ChipAuth, "DG14 offers a usable key")
		assert.True(t, v.CardSecurity.Present)
		assert.Equal(t, pki.StatusValid, v.CardSecurity.Status)
		assert.NotEmpty(t, v.CardSecurity.ChipAuthKey)
		assert.True(t, v.Authentic)
	})
	t.Run("DG15 and AA evidence alone", func(t *testing.T) {
		dir := evidenceDir(t, map[string][]byte{"DG15": nzDG15, fileAAChallenge: challenge, fileAAResponse: response})
		r, v := runVerifyJSON(t, dir)
		assert.Equal(t, 0, r.code, r.stderr)
		assert.False(t, v.Passive.Present)
		assert.Equal(t, mrtd.Passed, v.Active.Outcome)
		assert.Equal(t, mrtd.NotRun, v.Active.DG15CoveredBySOD)
		assert.NotEmpty(t, v.Warnings, "DG15 not vouched for")
	})
	t.Run("AA response tampered", func(t *testing.T) {
		dir := evidenceDir(t, map[string][]byte{"DG15": nzDG15, fileAAChallenge: challenge, fileAAResponse: flip(response, len(response)/2)})
		r, v := runVerifyJSON(t, dir)
		assert.Equal(t, 1, r.code)
		assert.Equal(t, mrtd.Failed, v.Active.Outcome)
		assert.False(t, v.Authentic)
		assert.NotEmpty(t, v.Problem)
		assert.Contains(t, r.stderr, "active authentication")
	})
	t.Run("AA response of another challenge", func(t *testing.T) {
		dir := evidenceDir(t, map[string][]byte{"DG15": nzDG15, fileAAChallenge: flip(challenge, 0), fileAAResponse: response})
		r, v := runVerifyJSON(t, dir)
		assert.Equal(t, 1, r.code)
		assert.Equal(t, mrtd.Failed, v.Active.Outcome)
	})
	t.Run("DG15 without the AA evidence", func(t *testing.T) {
		r, v := runVerifyJSON(t, evidenceDir(t, map[string][]byte{"EF.SOD": nzSOD, "DG15": nzDG15}), "NZ/CSCA.der")
		assert.Equal(t, 0, r.code, r.stderr)
		assert.Equal(t, mrtd.NotRun, v.Active.Outcome)
		assert.Equal(t, mrtd.Passed, v.Active.DG15CoveredBySOD)
	})
	t.Run("no trust anchor", func(t *testing.T) {
		dir := evidenceDir(t, map[string][]byte{"EF.SOD": nzSOD})
		r, v := runVerifyJSON(t, dir)
		assert.Equal(t, 0, r.code, "no_trust_anchor is reported, not refused")
		assert.Equal(t, pki.StatusNoTrustAnchor, v.Passive.Status)
		require.NotEmpty(t, v.Warnings)
		assert.Contains(t, v.Warnings[0], "NO TRUST ANCHOR")
		text := runCLI(t, "verify", "--dir", dir)
		assert.Equal(t, 0, text.code)
		assert.Contains(t, text.stdout, "no_trust_anchor")
		assert.Contains(t, text.stdout, "WARNING: NO TRUST ANCHOR")
	})
	t.Run("EF.SOD signature tampered", func(t *testing.T) {
		r, v := runVerifyJSON(t, evidenceDir(t, map[string][]byte{"EF.SOD": flipSignature(t, deSOD)}), "DE/CSCA-2021-bp512.der")
		assert.Equal(t, 1, r.code)
		assert.Equal(t, pki.StatusInvalid, v.Passive.Status)
		assert.False(t, v.Authentic)
		assert.Contains(t, r.stderr, "does not verify")
		text := runCLI(t, "verify", "--dir", evidenceDir(t, map[string][]byte{"EF.SOD": flipSignature(t, deSOD)}))
		assert.Equal(t, 1, text.code)
		assert.Contains(t, text.stdout, "EF.SOD: invalid")
		assert.Contains(t, text.stdout, "NOT AUTHENTIC")
	})
	t.Run("DG14 tampered", func(t *testing.T) {
		dir := evidenceDir(t, map[string][]byte{"EF.SOD": deSOD, "DG14": flip(deDG14, len(deDG14)-1)})
		r, v := runVerifyJSON(t, dir, "DE/CSCA-2021-bp512.der")
		assert.Equal(t, 1, r.code)
		assert.Equal(t, pki.StatusValid, v.Passive.Status)
		assert.Equal(t, mrtd.Failed, v.Passive.Hashes)
		assert.Equal(t, []string{"DG14"}, v.Passive.Mismatched)
		assert.Equal(t, mrtd.Failed, v.DG14.CoveredBySOD)
	})
	t.Run("EF.CardSecurity signature tampered", func(t *testing.T) {
		dir := evidenceDir(t, map[string][]byte{"EF.CardSecurity": flipSignature(t, deCS)})
		r, v := runVerifyJSON(t, dir, "DE/CSCA-2021-bp512.der")
		assert.Equal(t, 1, r.code)
		assert.Equal(t, pki.StatusInvalid, v.CardSecurity.Status)
		assert.Contains(t, v.Problem, "EF.CardSecurity")
	})
	t.Run("EF.CardSecurity without its CSCA", func(t *testing.T) {
		r, v := runVerifyJSON(t, evidenceDir(t, map[string][]byte{"EF.CardSecurity": deCS}))
		assert.Equal(t, 0, r.code, r.stderr)
		assert.Equal(t, pki.StatusNoTrustAnchor, v.CardSecurity.Status)
		assert.False(t, v.Passive.Present)
	})
}

// TestVerifyNothing checks that a directory with nothing to check fails:
// a wrong --dir must not read as a verified document.
func TestVerifyNothing(t *testing.T) {
	for name, files := range map[string]map[string][]byte{
		"empty":         {},
		"unknown files": {"notes.txt": []byte("x"), ".DG1-123": nil},
		"DG15 alone":    {"DG15": realFile(t, "NZ/DG15.bin")},
	} {
		t.Run(name, func(t *testing.T) {
			dir := evidenceDir(t, files)
			r, v := runVerifyJSON(t, dir)
			assert.Equal(t, 1, r.code)
			assert.Contains(t, r.stderr, "nothing to verify")
			assert.False(t, v.Authentic)
			assert.Len(t, v.Ignored, len(files)-len(v.Files))
		})
	}
}

func TestVerifyBadInput(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no --dir", []string{"verify"}, 2, "--dir is required"},
		{"unknown flag", []string{"verify", "--dir", ".", "--frobnicate"}, 2, "frobnicate"},
		{"extra argument", []string{"verify", "--dir", ".", "extra"}, 2, "unexpected argument"},
		{"missing directory", []string{"verify", "--dir", filepath.Join(t.TempDir(), "nope")}, 1, "no such file"},
		{"missing trust file", []string{"verify", "--dir", t.TempDir(), "--trust", filepath.Join(t.TempDir(), "nope.der")}, 1, "--trust"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(t, tc.args...)
			assert.Equal(t, tc.code, r.code, r.stderr)
			assert.Contains(t, r.stderr, tc.want)
		})
	}
	t.Run("known name not a regular file", func(t *testing.T) {
		dir := t.TempDir()
		require.NoError(t, os.Symlink(filepath.Join(realdata, "NZ", "EF.SOD.bin"), filepath.Join(dir, "EF.SOD")))
		r := runCLI(t, "verify", "--dir", dir)
		assert.Equal(t, 1, r.code)
		assert.Contains(t, r.stderr, "not a regular file")
	})
}

// TestVerifyPrivate checks that verify prints nothing of DG1, whatever
// the verdict.
func TestVerifyPrivate(t *testing.T) {
	files := map[string][]byte{}
	for _, name := range []string{"EF.COM", "EF.SOD", "DG1", "DG2"} {
		b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "passports", "specimen-20k", name))
		require.NoError(t, err)
		files[name] = b
	}
	require.Contains(t, string(files["DG1"]), "ERIKSSON")
	t.Run("genuine", func(t *testing.T) {
		dir := evidenceDir(t, files)
		r, v := runVerifyJSON(t, dir)
		assert.Equal(t, 0, r.code, r.stderr)
		assert.Equal(t, mrtd.Passed, v.Passive.Hashes)
		assertPrivate(t, r.stdout+r.stderr)
		text := runCLI(t, "verify", "--dir", dir)
		assert.Equal(t, 0, text.code)
		assertPrivate(t, text.stdout+text.stderr)
	})
	t.Run("DG1 tampered", func(t *testing.T) {
		tampered := map[string][]byte{}
		for k, b := range files {
			tampered[k] = b
		}
		tampered["DG1"] = bytes.Replace(files["DG1"], []byte("ANNA"), []byte("ANNE"), 1)
		dir := evidenceDir(t, tampered)
		r, v := runVerifyJSON(t, dir)
		assert.Equal(t, 1, r.code)
		assert.Equal(t, []string{"DG1"}, v.Passive.Mismatched)
		assertPrivate(t, r.stdout+r.stderr)
		text := runCLI(t, "verify", "--dir", dir)
		assert.Equal(t, 1, text.code)
		assertPrivate(t, text.stdout+text.stderr)
	})
}

// TestReadOutVerify checks that read --out keeps what verify needs: the
// files read and the Active Authentication evidence.
func TestReadOutVerify(t *testing.T) {
	doc := &mrtd.Document{
		Files: map[icao.EF][]byte{icao.EFSOD: realFile(t, "NZ/EF.SOD.bin"), icao.EFDG15: realFile(t, "NZ/DG15.bin")},
		Authenticity: mrtd.Authenticity{Active: mrtd.ActiveCheck{
			Outcome: mrtd.Passed, Challenge: realFile(t, "NZ/AA-challenge"), Response: realFile(t, "NZ/AA-response"),
		}},
	}
	dir := filepath.Join(t.TempDir(), "out")
	require.NoError(t, writeFiles(dir, doc))
	names, err := os.ReadDir(dir)
	require.NoError(t, err)
	var got []string
	for _, n := range names {
		got = append(got, n.Name())
		info, err := n.Info()
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), info.Mode().Perm(), n.Name())
	}
	assert.ElementsMatch(t, []string{"EF.SOD", "DG15", fileAAChallenge, fileAAResponse}, got)

	r, v := runVerifyJSON(t, dir, "NZ/CSCA.der")
	assert.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, pki.StatusValid, v.Passive.Status)
	assert.Equal(t, mrtd.Passed, v.Active.Outcome)

	t.Run("no AA evidence without active authentication", func(t *testing.T) {
		doc.Authenticity.Active = mrtd.ActiveCheck{Outcome: mrtd.NotOffered}
		dir := filepath.Join(t.TempDir(), "out")
		require.NoError(t, writeFiles(dir, doc))
		_, err := os.Stat(filepath.Join(dir, fileAAChallenge))
		assert.ErrorIs(t, err, os.ErrNotExist)
	})
}

// FuzzVerifyEvidence runs every offline check over arbitrary files: no
// input may panic, and the verdict must stay consistent and printable.
func FuzzVerifyEvidence(f *testing.F) {
	read := func(path string) []byte {
		b, err := os.ReadFile(filepath.Join(realdata, path))
		require.NoError(f, err)
		return b
	}
	f.Add(read("NZ/EF.SOD.bin"), []byte(nil), read("NZ/DG15.bin"), []byte(nil), read("NZ/AA-challenge"), read("NZ/AA-response"))
	f.Add(read("DE/EF.SOD.bin"), read("DE/DG14.bin"), []byte(nil), read("DE/EF.CardSecurity.bin"), []byte(nil), []byte(nil))
	f.Add(read("AT/EF.SOD.bin"), read("AT/DG14.bin"), []byte{}, []byte{}, []byte{}, []byte{})
	store := &pki.Store{}
	_, err := store.LoadPath(filepath.Join(realdata, "DE"))
	require.NoError(f, err)
	f.Fuzz(func(t *testing.T, sod, dg14, dg15, cs, challenge, response []byte) {
		ev := &evidence{files: map[icao.EF][]byte{}, challenge: challenge, response: response}
		for ef, b := range map[icao.EF][]byte{icao.EFSOD: sod, icao.EFDG14: dg14, icao.EFDG15: dg15, icao.EFCardSecurity: cs} {
			if b != nil {
				ev.files[ef] = b
			}
		}
		r := verifyEvidence("dir", ev, store, func() time.Time { return time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC) })
		require.Equal(t, r.problem == nil && r.ran, r.Authentic, "authentic with problem %v, ran %v", r.problem, r.ran)
		_, err := json.Marshal(r)
		require.NoError(t, err)
		printVerify(io.Discard, r)
	})
}

// TestVerifyE2E reads a virtual chip with chip and active authentication
// through pcscd and vpcd, then checks the directory read --out wrote: a
// genuine chip verifies, a clone's AA evidence fails again offline.
func TestVerifyE2E(t *testing.T) {
	ds, err := vchip.Specimen(vchip.SpecimenConfig{
		DG2Size:    5000,
		ChipAuth:   &vchip.ChipAuthSpec{ParameterID: 13, Ciphers: []chipauth.Cipher{chipauth.AES128}},
		ActiveAuth: &vchip.ActiveAuthSpec{ParameterID: 12, Hash: crypto.SHA384},
	})
	require.NoError(t, err)
	for _, tc := range []struct {
		name     string
		chip     vchip.Config
		readCode int
		want     mrtd.Outcome
	}{
		{name: "genuine", want: mrtd.Passed},
		{name: "cloned", chip: vchip.Config{Cloned: true}, readCode: 1, want: mrtd.Failed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			insert(t, ds, tc.chip)
			out := filepath.Join(t.TempDir(), "passport")
			r := runCLI(t, "read", "--reader", pcsctest.ReaderName(0), "--out", out, "--timeout", "30s", "--mrz", specimenMRZ)
			require.Equal(t, tc.readCode, r.code, r.stderr)
			for _, name := range []string{"DG14", "DG15", fileAAChallenge, fileAAResponse} {
				_, err := os.Stat(filepath.Join(out, name))
				assert.NoError(t, err, "read --out wrote no %s", name)
			}
			r, v := runVerifyJSON(t, out)
			assert.Equal(t, tc.readCode, r.code, r.stderr)
			assert.Equal(t, pki.StatusNoTrustAnchor, v.Passive.Status, "the specimen's signer chains to no CSCA")
			assert.Equal(t, mrtd.Passed, v.Passive.Hashes)
			assert.Equal(t, mrtd.Passed, v.DG14.CoveredBySOD)
			assert.Equal(t, mrtd.Passed, v.DG14.ChipAuth)
			assert.Equal(t, tc.want, v.Active.Outcome)
			assert.Equal(t, mrtd.Passed, v.Active.DG15CoveredBySOD)
			assert.Equal(t, mrtd.NotRun, v.Chip.Outcome)
			assertPrivate(t, r.stdout+r.stderr)
		})
	}
}

// TestVerifyCSCACollection is issue 8's acceptance run on the data here:
// every State's published EF.SOD, checked by `verify --json` against a
// published collection of 551 States' CSCAs (testdata/csca-collection),
// is valid, and the load report names the collection.
func TestVerifyCSCACollection(t *testing.T) {
	states := map[string]bool{}
	for _, file := range []string{"AT/EF.SOD.bin", "CN/EF.SOD.bin", "DE/EF.SOD.bin", "FI/EF.SOD.bin",
		"FR/EF.SOD.bin", "GB/EF.SOD.bin", "MY/EF.SOD.bin", "NZ/EF.SOD.bin", "PH/EF.SOD.bin",
		"RU/EF.SOD.bin", "SG/EF.SOD.bin", "US/EF.SOD.bin"} {
		dir := evidenceDir(t, map[string][]byte{"EF.SOD": realFile(t, file)})
		r, v := runVerifyJSON(t, dir, "../csca-collection")
		assert.Equal(t, 0, r.code, "%s: %s", file, r.stderr)
		assert.Equal(t, pki.StatusValid, v.Passive.Status, file)
		if assert.Len(t, v.Trust, 1) {
			assert.Equal(t, 550, v.Trust[0].CSCAs, "CSCAs loaded")
		}
		if v.Passive.Status == pki.StatusValid && assert.NotNil(t, v.Passive.Verdict) && assert.NotNil(t, v.Passive.Verdict.CSCA) {
			states[v.Passive.Verdict.CSCA.Country] = true
		}
	}
	assert.GreaterOrEqual(t, len(states), 10, "States valid against the collection: %v", states)
}
