package vchip

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/nfcbridge/nfcbridge/chipauth"
	"github.com/nfcbridge/nfcbridge/icao"
	"github.com/nfcbridge/nfcbridge/pace"
)

// chipFile is the layout of chip.json. Every key is optional; unknown keys
// are an error, so that a misspelt quirk does not silently do nothing.
//
//	{
//	  "comment": "UA-like chip: short Le only",
//	  "mrz": "P<UTO…\nL898902C36UTO…",       // BAC key from these MRZ lines instead of DG1
//	  "mrz_information": "L898902C<369080619406236", // or the key seed input itself
//	  "can": "123456",                                // PACE with the Card Access Number
//	  "chip_key": {"parameter_id": 13, "private_key": "…hex…"}, // for PACE-CAM
//	  "ca_key": {"parameter_id": 13, "key_id": 1, "private_key": "…hex…"}, // Chip Authentication
//	  "aa_key": {"rsa_private_key": "…hex PKCS #1…", "hash": "SHA-256"}, // or parameter_id and private_key
//	  "quirks": {"no_extended_length": true, "max_le": 192, "over_le": "6700", "latency": "9ms"}
//	}
type chipFile struct {
	Comment        string       `json:"comment,omitzero"`
	MRZ            string       `json:"mrz,omitzero"`
	MRZInformation string       `json:"mrz_information,omitzero"`
	CAN            string       `json:"can,omitzero"`
	ChipKey        *chipKeyFile `json:"chip_key,omitzero"`
	CAKey          *caKeyFile   `json:"ca_key,omitzero"`
	AAKey          *aaKeyFile   `json:"aa_key,omitzero"`
	Quirks         *quirksFile  `json:"quirks,omitzero"`
}

// caKeyFile is a [CAKey] in chip.json; key_id absent means none.
type caKeyFile struct {
	ParameterID int    `json:"parameter_id"`
	KeyID       *int   `json:"key_id,omitzero"`
	PrivateKey  string `json:"private_key"`
}

// aaKeyFile is an [AAKey] in chip.json: an RSA key as hex PKCS #1 DER, or
// an EC key as parameter_id and private_key; hash as crypto.Hash names it
// ("SHA-1", "SHA-256").
type aaKeyFile struct {
	RSAPrivateKey string `json:"rsa_private_key,omitzero"`
	ParameterID   int    `json:"parameter_id,omitzero"`
	PrivateKey    string `json:"private_key,omitzero"`
	Hash          string `json:"hash,omitzero"`
}

func (k *caKeyFile) key() (*CAKey, error) {
	d, err := hex.DecodeString(k.PrivateKey)
	ck := &CAKey{ParameterID: k.ParameterID, KeyID: chipauth.NoKeyID, Private: d}
	if k.KeyID != nil {
		ck.KeyID = *k.KeyID
	}
	if err != nil || len(d) == 0 {
		return nil, fmt.Errorf("%w: ca_key: private_key must be hex", ErrChipJSON)
	}
	if _, _, err := ck.parse(); err != nil {
		return nil, fmt.Errorf("%w: ca_key: parameter_id must be standardized (0–2, 8–18), key_id not negative and private_key in range", ErrChipJSON)
	}
	return ck, nil
}

func (k *aaKeyFile) key() (*AAKey, error) {
	ak := &AAKey{}
	if k.Hash != "" {
		h, ok := hashByName(k.Hash)
		if !ok {
			return nil, fmt.Errorf("%w: aa_key: hash must be SHA-1, SHA-224, SHA-256, SHA-384 or SHA-512", ErrChipJSON)
		}
		ak.Hash = h
	}
	if k.RSAPrivateKey != "" {
		der, err := hex.DecodeString(k.RSAPrivateKey)
		if err == nil {
			ak.RSA, err = x509.ParsePKCS1PrivateKey(der)
		}
		if err != nil {
			return nil, fmt.Errorf("%w: aa_key: rsa_private_key must be hex PKCS #1", ErrChipJSON)
		}
	} else {
		d, err := hex.DecodeString(k.PrivateKey)
		if err != nil || len(d) == 0 {
			return nil, fmt.Errorf("%w: aa_key: private_key must be hex", ErrChipJSON)
		}
		ak.ParameterID, ak.Private = k.ParameterID, d
	}
	if err := ak.check(); err != nil {
		return nil, fmt.Errorf("%w: aa_key: not a usable key", ErrChipJSON)
	}
	return ak, nil
}

func hashByName(s string) (crypto.Hash, bool) {
	for _, h := range []crypto.Hash{crypto.SHA1, crypto.SHA224, crypto.SHA256, crypto.SHA384, crypto.SHA512} {
		if strings.EqualFold(h.String(), s) {
			return h, true
		}
	}
	return 0, false
}

func aaKeyFileOf(k *AAKey) *aaKeyFile {
	f := &aaKeyFile{}
	if k.Hash != 0 {
		f.Hash = k.Hash.String()
	}
	if k.RSA != nil {
		f.RSAPrivateKey = hex.EncodeToString(x509.MarshalPKCS1PrivateKey(k.RSA))
		return f
	}
	f.ParameterID, f.PrivateKey = k.ParameterID, hex.EncodeToString(k.Private)
	return f
}

// chipKeyFile is a [ChipKey] in chip.json: the private scalar in hex.
type chipKeyFile struct {
	ParameterID int    `json:"parameter_id"`
	PrivateKey  string `json:"private_key"`
}

// quirksFile mirrors [Config] with JSON spellings: status words as hex
// strings ("6a86"), durations as Go durations ("9ms"), the ATR in hex.
type quirksFile struct {
	NoExtendedLength      bool       `json:"no_extended_length,omitzero"`
	NoExtendedReadBinary  bool       `json:"no_extended_read_binary,omitzero"`
	ATRInfoCommand        int        `json:"atr_info_command,omitzero"`
	ATRInfoResponse       int        `json:"atr_info_response,omitzero"`
	MaxLe                 int        `json:"max_le,omitzero"`
	OverLe                string     `json:"over_le,omitzero"`
	StrictOuterLe         bool       `json:"strict_outer_le,omitzero"`
	NoShortEF             bool       `json:"no_short_ef,omitzero"`
	NoShortEFStatus       statusText `json:"no_short_ef_status,omitzero"`
	EOFStatus             statusText `json:"eof_status,omitzero"`
	SelectMFStatus        statusText `json:"select_mf_status,omitzero"`
	RejectSelectLe        bool       `json:"reject_select_le,omitzero"`
	CardAccessDeactivated bool       `json:"card_access_deactivated,omitzero"`
	NoBAC                 bool       `json:"no_bac,omitzero"`
	NoBACStatus           statusText `json:"no_bac_status,omitzero"`
	AuthFailStatus        statusText `json:"auth_fail_status,omitzero"`
	PlainAfterSM          statusText `json:"plain_after_sm,omitzero"`
	PACEFailStep          int        `json:"pace_fail_step,omitzero"`
	PACEFailStatus        statusText `json:"pace_fail_status,omitzero"`
	Latency               string     `json:"latency,omitzero"`
	RemoveAfter           int        `json:"remove_after,omitzero"`
	ATR                   string     `json:"atr,omitzero"`
	Cloned                bool       `json:"cloned,omitzero"`
}

// statusText is a status word written as four hex digits.
type statusText icao.StatusWord

func (s statusText) MarshalJSON() ([]byte, error) {
	return json.Marshal(fmt.Sprintf("%04x", uint16(s)))
}

func (s *statusText) UnmarshalJSON(b []byte) error {
	var str string
	if err := json.Unmarshal(b, &str); err != nil {
		return errors.New("status word must be a string of four hex digits")
	}
	v, err := strconv.ParseUint(str, 16, 16)
	if err != nil || len(str) != 4 {
		return errors.New("status word must be four hex digits")
	}
	if sw1 := v >> 8; sw1&0xF0 != 0x60 && sw1&0xF0 != 0x90 {
		return errors.New("status word must start with 6x or 9x")
	}
	*s = statusText(v)
	return nil
}

// Bounds on chip.json values.
const (
	maxLatency = time.Minute
)

// parseChipJSON sets MRZInformation and Config from chip.json. Errors
// name the offending key, never its value: chip.json may hold an MRZ.
func (ds *Dataset) parseChipJSON(b []byte) error {
	var cf chipFile
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cf); err != nil {
		return fmt.Errorf("%w: %s", ErrChipJSON, jsonErrorText(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("%w: data after the top-level object", ErrChipJSON)
	}
	key, keySet, err := accessKeyOf(cf)
	if err != nil {
		return err
	}
	if cf.CAN != "" {
		if _, err := pace.CAN(cf.CAN); err != nil {
			return fmt.Errorf("%w: can must be six digits", ErrChipJSON)
		}
	}
	var chipKey *ChipKey
	if cf.ChipKey != nil {
		if chipKey, err = cf.ChipKey.key(); err != nil {
			return err
		}
	}
	var caKey *CAKey
	if cf.CAKey != nil {
		if caKey, err = cf.CAKey.key(); err != nil {
			return err
		}
	}
	var aaKey *AAKey
	if cf.AAKey != nil {
		if aaKey, err = cf.AAKey.key(); err != nil {
			return err
		}
	}
	var cfg Config
	if cf.Quirks != nil {
		if cfg, err = cf.Quirks.config(); err != nil {
			return fmt.Errorf("%w: quirks: %w", ErrChipJSON, err)
		}
	}
	if keySet {
		ds.MRZInformation = key
	}
	ds.CAN, ds.ChipKey, ds.CAKey, ds.AAKey = cf.CAN, chipKey, caKey, aaKey
	if cf.Quirks != nil {
		ds.Config = cfg
	}
	return nil
}

// jsonErrorText describes a decoding error without quoting input: the
// offset and, for a type mismatch, the field.
func jsonErrorText(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("syntax error at offset %d", syn.Offset)
	case errors.As(err, &typ):
		return fmt.Sprintf("%s: wrong type", typ.Field)
	}
	// Unknown fields ("json: unknown field \"x\"") name a key of the
	// file, and the status word errors above are fixed strings.
	return err.Error()
}

// accessKeyOf returns the BAC key seed input chip.json sets, and whether
// it sets one.
func accessKeyOf(cf chipFile) ([]byte, bool, error) {
	switch {
	case cf.MRZ != "" && cf.MRZInformation != "":
		return nil, false, fmt.Errorf("%w: both mrz and mrz_information are set", ErrChipJSON)
	case cf.MRZ != "":
		m, err := icao.ParseMRZ(cf.MRZ)
		if err != nil {
			return nil, false, fmt.Errorf("%w: mrz: %w", ErrChipJSON, err)
		}
		return m.AccessKey().Information(), true, nil
	case cf.MRZInformation != "":
		if len(cf.MRZInformation) < 24 || !printableASCII(cf.MRZInformation) {
			return nil, false, fmt.Errorf("%w: mrz_information must be at least 24 MRZ characters", ErrChipJSON)
		}
		return []byte(cf.MRZInformation), true, nil
	}
	return nil, false, nil
}

// key decodes and checks the chip key. Errors do not quote the key.
func (k *chipKeyFile) key() (*ChipKey, error) {
	d, err := hex.DecodeString(k.PrivateKey)
	if err != nil || len(d) == 0 {
		return nil, fmt.Errorf("%w: chip_key: private_key must be hex", ErrChipJSON)
	}
	ck := &ChipKey{ParameterID: k.ParameterID, Private: d}
	if _, err := ck.paceKey(); err != nil {
		return nil, fmt.Errorf("%w: chip_key: parameter_id must be a standardized curve (8–18) and private_key a scalar in [1, n−1]", ErrChipJSON)
	}
	return ck, nil
}

func printableASCII(s string) bool {
	for i := range len(s) {
		if s[i] < 0x20 || s[i] > 0x7E {
			return false
		}
	}
	return true
}

func (q *quirksFile) config() (Config, error) {
	c := Config{
		NoExtendedLength: q.NoExtendedLength, MaxLe: q.MaxLe, StrictOuterLe: q.StrictOuterLe,
		NoShortEF: q.NoShortEF, NoShortEFStatus: icao.StatusWord(q.NoShortEFStatus),
		EOFStatus: icao.StatusWord(q.EOFStatus), SelectMFStatus: icao.StatusWord(q.SelectMFStatus),
		RejectSelectLe: q.RejectSelectLe, CardAccessDeactivated: q.CardAccessDeactivated,
		NoBAC: q.NoBAC, NoBACStatus: icao.StatusWord(q.NoBACStatus),
		AuthFailStatus: icao.StatusWord(q.AuthFailStatus), PlainAfterSM: icao.StatusWord(q.PlainAfterSM),
		PACEFailStep: q.PACEFailStep, PACEFailStatus: icao.StatusWord(q.PACEFailStatus),
		RemoveAfter: q.RemoveAfter, NoExtendedReadBinary: q.NoExtendedReadBinary,
		ATRInfo: icao.BufferSizes{Command: q.ATRInfoCommand, Response: q.ATRInfoResponse},
		Cloned:  q.Cloned,
	}
	if q.OverLe != "" {
		a, ok := ParseLeAnswer(q.OverLe)
		if !ok {
			return Config{}, errors.New(`over_le must be "6700", "6cxx", "6b00" or "truncate"`)
		}
		c.OverLe = a
	}
	if q.Latency != "" {
		d, err := time.ParseDuration(q.Latency)
		if err != nil {
			return Config{}, errors.New("latency must be a duration such as \"9ms\"")
		}
		c.Latency = d
	}
	if q.ATR != "" {
		atr, err := hex.DecodeString(q.ATR)
		if err != nil {
			return Config{}, errors.New("atr must be hex")
		}
		c.ATR = atr
	}
	return c, c.validate()
}

// ErrConfig is wrapped by the errors of [Config.Validate].
var ErrConfig = errors.New("vchip: invalid config")

// Validate reports a configuration value out of range; the error wraps
// [ErrConfig] and names the value as chip.json spells it.
func (c *Config) Validate() error {
	if err := c.validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrConfig, err)
	}
	return nil
}

func (c *Config) validate() error {
	switch {
	case c.MaxLe < 0 || c.MaxLe > icao.MaxExtendedNe:
		return errors.New("max_le must be 0 to 65536")
	case c.OverLe < LeWrongLength || c.OverLe > LeTruncate:
		return errors.New("unknown over_le answer")
	case c.EOFStatus != 0 && c.EOFStatus != icao.StatusOK && c.EOFStatus != icao.StatusEndOfFile:
		return errors.New("eof_status must be 9000 or 6282")
	case c.Latency < 0 || c.Latency > maxLatency:
		return errors.New("latency must be 0 to 1m")
	case c.RemoveAfter < 0:
		return errors.New("remove_after must not be negative")
	case c.PACEFailStep < 0 || c.PACEFailStep > 4:
		return errors.New("pace_fail_step must be 0 to 4")
	case c.PACEFailStatus != 0 && c.PACEFailStatus>>12 != 6:
		return errors.New("pace_fail_status must be an error status word 6xxx")
	case (c.ATRInfo.Command == 0) != (c.ATRInfo.Response == 0):
		return errors.New("atr_info_command and atr_info_response go together")
	case c.ATRInfo.Command < 0 || c.ATRInfo.Command > 4+3+65535+2 || c.ATRInfo.Response < 0 || c.ATRInfo.Response > 65536+2:
		return errors.New("atr_info sizes must be 1 to 65544 (command) and 65538 (response)")
	case c.ATR != nil && (len(c.ATR) < 2 || len(c.ATR) > 33 || c.ATR[0] != 0x3B && c.ATR[0] != 0x3F):
		return errors.New("atr must be 2 to 33 bytes starting with 3B or 3F")
	}
	return nil
}

// chipFile returns the chip.json content for the dataset, and whether it
// needs one at all (a key override, a CAN, a chip key or quirks).
func (ds *Dataset) chipFile() (chipFile, bool) {
	cf := chipFile{MRZInformation: string(ds.MRZInformation), CAN: ds.CAN}
	if k := ds.ChipKey; k != nil {
		cf.ChipKey = &chipKeyFile{ParameterID: k.ParameterID, PrivateKey: hex.EncodeToString(k.Private)}
	}
	if k := ds.CAKey; k != nil {
		cf.CAKey = &caKeyFile{ParameterID: k.ParameterID, PrivateKey: hex.EncodeToString(k.Private)}
		if k.KeyID != chipauth.NoKeyID {
			id := k.KeyID
			cf.CAKey.KeyID = &id
		}
	}
	if k := ds.AAKey; k != nil {
		cf.AAKey = aaKeyFileOf(k)
	}
	c := ds.Config
	q := quirksFile{
		NoExtendedLength: c.NoExtendedLength, MaxLe: c.MaxLe, StrictOuterLe: c.StrictOuterLe,
		NoShortEF: c.NoShortEF, NoShortEFStatus: statusText(c.NoShortEFStatus),
		EOFStatus: statusText(c.EOFStatus), SelectMFStatus: statusText(c.SelectMFStatus),
		RejectSelectLe: c.RejectSelectLe, CardAccessDeactivated: c.CardAccessDeactivated,
		NoBAC: c.NoBAC, NoBACStatus: statusText(c.NoBACStatus),
		AuthFailStatus: statusText(c.AuthFailStatus), PlainAfterSM: statusText(c.PlainAfterSM),
		PACEFailStep: c.PACEFailStep, PACEFailStatus: statusText(c.PACEFailStatus),
		RemoveAfter: c.RemoveAfter, ATR: hex.EncodeToString(c.ATR),
		NoExtendedReadBinary: c.NoExtendedReadBinary, ATRInfoCommand: c.ATRInfo.Command, ATRInfoResponse: c.ATRInfo.Response,
		Cloned: c.Cloned,
	}
	if c.OverLe != LeWrongLength {
		q.OverLe = c.OverLe.String()
	}
	if c.Latency != 0 {
		q.Latency = c.Latency.String()
	}
	if !reflect.ValueOf(q).IsZero() {
		cf.Quirks = &q
	}
	return cf, cf.MRZInformation != "" || cf.CAN != "" || cf.ChipKey != nil || cf.CAKey != nil || cf.AAKey != nil || cf.Quirks != nil
}
