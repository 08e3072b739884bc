package vchip

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"math/big"
	"slices"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/nfcbridge/nfcbridge/icao"
	"github.com/nfcbridge/nfcbridge/icao/tlv"
	"github.com/nfcbridge/nfcbridge/pace"
)

// SpecimenMRZ is the TD3 specimen MRZ of ICAO Doc 9303 Part 4 (Anna Maria
// Eriksson of Utopia): not a real person, and what [Specimen] puts in DG1
// by default.
const SpecimenMRZ = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\n" +
	"L898902C36UTO7408122F1204159ZE184226B<<<<<10"

// Defaults of [SpecimenConfig].
const (
	DefaultDG2Size = 20_000 // bytes; face images average 13.6 KB, max 25.9 KB (BSI BioP II study, 2005)
	ldsVersion     = "0107" // LDS 1.7 (9303-10 §4.6.1)
	unicodeVersion = "040000"
	dsValidity     = 10 * 365 * 24 * time.Hour
)

// Tags of the data groups a specimen holds, for EF.COM (9303-10 Table 34).
const (
	tagDG1  tlv.Tag = 0x61
	tagDG2  tlv.Tag = 0x75
	tagDG14 tlv.Tag = 0x6E
	tagDG15 tlv.Tag = 0x6F
	tagSOD  tlv.Tag = 0x77
)

// SpecimenConfig describes a specimen passport. The zero value is the ICAO
// specimen with a 20 KB face.
type SpecimenConfig struct {
	// MRZ is the MRZ text for DG1, lines separated by newlines; it must
	// parse (its check digits must verify). "" means [SpecimenMRZ].
	MRZ string
	// DG2Size is the size DG2 should have, in bytes; the face JPEG is
	// tuned to land within about 1% of it. Zero means [DefaultDG2Size];
	// at least 4 000 and at most 4 000 000.
	DG2Size int
	// Seed selects the face image noise: the same seed and size give the
	// same DG2 bytes.
	Seed uint64
	// Hash is the hash algorithm of EF.SOD; zero means SHA-256.
	Hash crypto.Hash
	// IndefiniteSOD encodes the outer layers of EF.SOD (tag 77 and the
	// ContentInfo) with BER indefinite lengths, as US passports do
	// (RfidResearchGroup/proxmark3 PR #1145). The signature is unaffected.
	IndefiniteSOD bool
	// PACE lists the PACE protocols the specimen offers, in the order of
	// its EF.CardAccess (9303-11 §9.2.11; [ParsePACEInfo] reads them from
	// text); nil means a BAC-only specimen. Each must be
	// [pace.Info.Supported], and the CAM ones on one curve. With PACE the
	// specimen also gets DG14 holding the same PACEInfos, as 9303-11 §9.2
	// requires of PACE chips so that Passive Authentication covers what
	// the unsigned EF.CardAccess claims, plus, with a CAM protocol, the chip's
	// ChipAuthenticationPublicKeyInfo, against which a reader verifies
	// PACE-CAM (§4.4.3.5.2); DG14 is listed in EF.COM and hashed in EF.SOD.
	PACE []pace.Info
	// CAN is the Card Access Number the chip accepts as a PACE password
	// besides the MRZ: six digits, or "" for none.
	CAN string
	// ChipKey is the Chip Authentication key of a specimen with a CAM
	// protocol, on the same curve; nil means a new random key from Rand.
	ChipKey *ChipKey
	// ChipAuth, when set, gives the specimen Chip Authentication (9303-11
	// §6.2): a key whose ChipAuthenticationPublicKeyInfo, with its
	// ChipAuthenticationInfos, goes into DG14 (and EF.CardSecurity with
	// PACE). DG14 is then listed in EF.COM and hashed in EF.SOD.
	ChipAuth *ChipAuthSpec
	// ActiveAuth, when set, gives the specimen Active Authentication
	// (9303-11 §6.1): DG15 with the public key, listed in EF.COM and hashed
	// in EF.SOD, and for an EC key an ActiveAuthenticationInfo in DG14.
	ActiveAuth *ActiveAuthSpec
	// Now is the time the document signer certificate starts being valid
	// (it is valid for ten years); nil means time.Now.
	Now func() time.Time
	// Rand is the source for the document signer key and certificate;
	// nil means crypto/rand.
	Rand io.Reader
}

// ErrSpecimen is wrapped by the errors of [Specimen].
var ErrSpecimen = errors.New("vchip: cannot build specimen")

// DefaultSpecimen returns the ICAO specimen passport with a 20 KB face,
// built in memory: what `nfcbridge chip` serves without a dataset.
func DefaultSpecimen() (*Dataset, error) {
	return Specimen(SpecimenConfig{})
}

// Specimen builds a test passport: EF.COM listing DG1 and DG2, DG1 with
// the MRZ, DG2 with a synthetic face JPEG of the requested size (ISO/IEC
// 19794-5 record), and EF.SOD with their SHA-256 hashes signed by a fresh
// ECDSA P-256 document signer key under a self-signed certificate; with
// PACE offers also EF.CardAccess and DG14 (see [SpecimenConfig.PACE]), the
// CAN and the chip key. It is not a real document and carries no real
// person's data.
func Specimen(cfg SpecimenConfig) (*Dataset, error) {
	mrz := cfg.MRZ
	if mrz == "" {
		mrz = SpecimenMRZ
	}
	if _, err := icao.ParseMRZ(mrz); err != nil {
		return nil, fmt.Errorf("%w: MRZ: %w", ErrSpecimen, err)
	}
	sec, err := specimenPACE(cfg)
	if err != nil {
		return nil, err
	}
	auth, err := specimenAuth(cfg)
	if err != nil {
		return nil, err
	}
	dg1 := icao.EncodeDG1(mrz)
	dg2, err := specimenDG2(cfg.DG2Size, cfg.Seed)
	if err != nil {
		return nil, err
	}
	dgs, tags := map[int][]byte{1: dg1, 2: dg2}, []tlv.Tag{tagDG1, tagDG2}
	infos := append(sec.infos, auth.infos...)
	dg14Infos := infos
	if auth.aaInfo != nil {
		dg14Infos = append(slices.Clip(infos), auth.aaInfo)
	}
	if len(cfg.PACE) > 0 || len(dg14Infos) > 0 {
		dg14 := pace.EncodeSecurityInfos(cfg.PACE, dg14Infos...)
		dgs[14], tags = tlv.Encode(tagDG14, dg14), append(tags, tagDG14)
	}
	if auth.dg15 != nil {
		dgs[15], tags = auth.dg15, append(tags, tagDG15)
	}
	signer, err := newSigner(cfg)
	if err != nil {
		return nil, err
	}
	sod, err := specimenSOD(cfg, signer, dgs)
	if err != nil {
		return nil, err
	}
	ds := &Dataset{Files: map[string][]byte{
		NameCOM: icao.EncodeCOM(ldsVersion, unicodeVersion, tags),
		NameSOD: sod,
	}, CAN: cfg.CAN, ChipKey: sec.key, CAKey: auth.ca, AAKey: auth.aa, CSCA: signer.csca.Raw}
	for n, data := range dgs {
		ds.Files[fmt.Sprintf("DG%d", n)] = data
	}
	if sec.cardAccess != nil {
		ds.Files[NameCardAccess] = sec.cardAccess
		// EF.CardSecurity: the SecurityInfos of EF.CardAccess and the
		// chip's public keys, signed (9303-11 §9.2.11).
		cs, err := buildCardSecurity(pace.EncodeSecurityInfos(cfg.PACE, infos...), signer.cert, signer.key, cfg.Rand)
		if err != nil {
			return nil, err
		}
		ds.Files[NameCardSecurity] = cs
	}
	if ds.MasterList, ds.CRL, err = specimenTrust(cfg, signer); err != nil {
		return nil, err
	}
	return ds, nil
}

// crlPeriod is the time from a specimen CRL's thisUpdate to its
// nextUpdate: 9303-12 asks a CSCA to issue a CRL at least every 90 days.
const crlPeriod = 90 * 24 * time.Hour

// specimenTrust returns the specimen CSCA's master list and CRL: a CSCA
// master list (9303-12 §9) holding the CSCA certificate, signed by a
// master list signer the CSCA issued, and an empty CRL signed by the CSCA
// (RFC 5280 §5), which package pki's Store loads as a State's.
func specimenTrust(cfg SpecimenConfig, s signer) (ml, crl []byte, err error) {
	rnd, now := cfg.Rand, time.Now
	if rnd == nil {
		rnd = rand.Reader
	}
	if cfg.Now != nil {
		now = cfg.Now
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rnd)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: master list signer key: %w", ErrSpecimen, err)
	}
	cert, err := specimenCert(s.csca, s.cscaKey, &key.PublicKey, roleMLSigner, now(), rnd)
	if err != nil {
		return nil, nil, err
	}
	// CscaMasterList ::= SEQUENCE { version INTEGER (0), certList SET OF
	// Certificate }.
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1Int64(0)
		b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) { b.AddBytes(s.csca.Raw) })
	})
	list, err := b.Bytes()
	if err != nil {
		return nil, nil, fmt.Errorf("%w: master list: %w", ErrSpecimen, err)
	}
	if ml, err = signedData(oidCSCAMasterList, list, crypto.SHA256, cert, key, rnd); err != nil {
		return nil, nil, err
	}
	crl, err = x509.CreateRevocationList(rnd, &x509.RevocationList{
		Number:     big.NewInt(1),
		ThisUpdate: now().Add(-time.Hour).UTC().Truncate(time.Second),
		NextUpdate: now().Add(crlPeriod).UTC().Truncate(time.Second),
	}, s.csca, s.cscaKey)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: CRL: %w", ErrSpecimen, err)
	}
	return ml, crl, nil
}

// specimenDG2 builds DG2 of about size bytes around a synthetic face.
func specimenDG2(size int, seed uint64) ([]byte, error) {
	if size == 0 {
		size = DefaultDG2Size
	}
	if size < 2*minFaceJPEG || size > maxFaceJPEG {
		return nil, fmt.Errorf("%w: DG2 size %d out of range", ErrSpecimen, size)
	}
	// The DG2 templates around the image are a fixed overhead for a given
	// image size range; EncodeDG2 does not look at the image bytes.
	probe, err := icao.EncodeDG2([]icao.FaceImage{{Format: icao.ImageJPEG, Data: make([]byte, size)}})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSpecimen, err)
	}
	img, w, h, err := faceJPEG(size-(len(probe)-size), seed)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSpecimen, err)
	}
	dg2, err := icao.EncodeDG2([]icao.FaceImage{{Format: icao.ImageJPEG, Width: w, Height: h, Data: img}})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSpecimen, err)
	}
	return dg2, nil
}

// signer is a specimen's document signer, which signs EF.SOD and
// EF.CardSecurity.
type signer struct {
	key     *ecdsa.PrivateKey
	cert    *x509.Certificate
	csca    *x509.Certificate // the specimen CSCA that issued cert
	cscaKey *ecdsa.PrivateKey
}

// newSigner makes a fresh document signer key and certificate.
func newSigner(cfg SpecimenConfig) (signer, error) {
	rnd, now := cfg.Rand, time.Now
	if rnd == nil {
		rnd = rand.Reader
	}
	if cfg.Now != nil {
		now = cfg.Now
	}
	cscaKey, err := ecdsa.GenerateKey(elliptic.P256(), rnd)
	if err != nil {
		return signer{}, fmt.Errorf("%w: CSCA key: %w", ErrSpecimen, err)
	}
	csca, err := specimenCert(nil, cscaKey, &cscaKey.PublicKey, roleCSCA, now(), rnd)
	if err != nil {
		return signer{}, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rnd)
	if err != nil {
		return signer{}, fmt.Errorf("%w: document signer key: %w", ErrSpecimen, err)
	}
	cert, err := specimenCert(csca, cscaKey, &key.PublicKey, roleDS, now(), rnd)
	if err != nil {
		return signer{}, err
	}
	return signer{key: key, cert: cert, csca: csca, cscaKey: cscaKey}, nil
}

// specimenSOD signs the data group hashes with the document signer.
func specimenSOD(cfg SpecimenConfig, s signer, files map[int][]byte) ([]byte, error) {
	hash := cfg.Hash
	if hash == 0 {
		hash = crypto.SHA256
	}
	sod, err := buildSOD(hash, files, s.cert, s.key, cfg.Rand)
	if err != nil {
		return nil, err
	}
	if cfg.IndefiniteSOD {
		return indefiniteSOD(sod)
	}
	return sod, nil
}

// certRole is what a specimen certificate is for.
type certRole int

const (
	roleCSCA     certRole = iota // self-signed, signs certificates and CRLs
	roleDS                       // document signer: EF.SOD, EF.CardSecurity
	roleMLSigner                 // master list signer (9303-12 §9)
)

// oidMasterListSigning is id-icao-cscaMasterListSigningKey, the extended
// key usage of a master list signer certificate (9303-12 §9).
var oidMasterListSigning = asn1.ObjectIdentifier{2, 23, 136, 1, 1, 3}

// specimenCert returns the specimen CSCA certificate (parent nil) or a
// certificate of the role issued by parent, in the profiles of 9303-12
// §7.1.1 for the State of Utopia, which is not a real State.
func specimenCert(parent *x509.Certificate, parentKey *ecdsa.PrivateKey, pub *ecdsa.PublicKey, role certRole, start time.Time, rnd io.Reader) (*x509.Certificate, error) {
	serial, err := rand.Int(rnd, new(big.Int).Lsh(big.NewInt(1), 63))
	if err != nil {
		return nil, fmt.Errorf("%w: certificate serial: %w", ErrSpecimen, err)
	}
	name := func(cn string) pkix.Name {
		return pkix.Name{Country: []string{"UT"}, Organization: []string{"Utopia specimen (not a real State)"}, CommonName: cn}
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial.Add(serial, big.NewInt(1)),
		Subject:               name("nfcbridge specimen document signer"),
		NotBefore:             start.Add(-time.Hour).UTC().Truncate(time.Second),
		NotAfter:              start.Add(dsValidity).UTC().Truncate(time.Second),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
	}
	if role == roleMLSigner {
		tmpl.Subject = name("nfcbridge specimen master list signer")
		tmpl.UnknownExtKeyUsage = []asn1.ObjectIdentifier{oidMasterListSigning}
	}
	if role == roleCSCA {
		tmpl.Subject = name("nfcbridge specimen CSCA")
		tmpl.NotAfter = start.Add(2 * dsValidity).UTC().Truncate(time.Second)
		tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign
		tmpl.IsCA, tmpl.MaxPathLenZero = true, true
		parent = tmpl
	}
	der, err := x509.CreateCertificate(rnd, tmpl, parent, pub, parentKey)
	if err != nil {
		return nil, fmt.Errorf("%w: certificate: %w", ErrSpecimen, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("%w: certificate: %w", ErrSpecimen, err)
	}
	return cert, nil
}

// indefiniteSOD re-encodes tag 77 and the ContentInfo SEQUENCE inside it
// with indefinite lengths (ITU-T X.690 §8.1.3.6); the SignedData stays DER.
func indefiniteSOD(sod []byte) ([]byte, error) {
	outer, err := tlv.DecodeExpect(sod, tagSOD)
	if err != nil {
		return nil, fmt.Errorf("%w: EF.SOD: %w", ErrSpecimen, err)
	}
	ci, err := tlv.DecodeExpect(outer.Value, 0x30)
	if err != nil {
		return nil, fmt.Errorf("%w: EF.SOD: %w", ErrSpecimen, err)
	}
	inner := append([]byte{0x30, 0x80}, ci.Value...)
	inner = append(inner, 0, 0)
	b := append([]byte{byte(tagSOD), 0x80}, inner...)
	return append(b, 0, 0), nil
}
