package pki

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"math/big"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/nfcbridge/nfcbridge/group"
)

// This file builds certificates by hand, for what crypto/x509 cannot make:
// explicit EC parameters, brainpool and P-192 keys, odd serial numbers,
// RSA keys without NULL parameters.

// signer makes signatures for test certificates.
type signer interface {
	spki() []byte
	sign(t testing.TB, alg AlgorithmIdentifier, msg []byte) []byte
}

// ecSigner is an ECDSA key on a group curve, encoded with named or
// explicit parameters.
type ecSigner struct {
	c        *group.Curve
	d        *big.Int
	explicit bool
}

func newECSigner(t testing.TB, c *group.Curve, explicit bool) *ecSigner {
	t.Helper()
	n := c.Params().N
	d, err := rand.Int(rand.Reader, new(big.Int).Sub(n, big.NewInt(1)))
	require.NoError(t, err)
	return &ecSigner{c: c, d: d.Add(d, big.NewInt(1)), explicit: explicit}
}

func (k *ecSigner) spki() []byte {
	var params []byte
	if k.explicit {
		params = explicitParams(k.c.Params(), k.c)
	} else {
		params, _ = asn1.Marshal(k.c.OID())
	}
	pub := k.c.Marshal(k.c.ScalarBaseMult(k.d))
	return spkiDER(oidECPublicKey, params, pub)
}

// explicitParams encodes SpecifiedECDomain (SEC 1 §C.2) with a seed and a
// cofactor, as States write them.
func explicitParams(p group.Params, c *group.Curve) []byte {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1Int64(1)
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(oidPrimeField)
			b.AddASN1BigInt(p.P)
		})
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1OctetString(p.A.FillBytes(make([]byte, c.Size())))
			b.AddASN1OctetString(p.B.FillBytes(make([]byte, c.Size())))
			b.AddASN1BitString([]byte("a seed that is ignored"))
		})
		b.AddASN1OctetString(c.Marshal(p.G))
		b.AddASN1BigInt(p.N)
		b.AddASN1BigInt(p.H)
	})
	return b.BytesOrPanic()
}

func (k *ecSigner) sign(t testing.TB, alg AlgorithmIdentifier, msg []byte) []byte {
	t.Helper()
	sch, hash, _, err := resolve(alg)
	require.NoError(t, err, "ecSigner cannot sign %v", alg)
	require.True(t, sch == ecdsaDER || sch == ecdsaPlain, "ecSigner cannot sign %v", alg)
	h := hash.New()
	h.Write(msg)
	r, s := ecdsaSign(t, k.c, k.d, h.Sum(nil))
	if sch == ecdsaPlain {
		l := (k.c.Params().N.BitLen() + 7) / 8
		return append(r.FillBytes(make([]byte, l)), s.FillBytes(make([]byte, l))...)
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1BigInt(r)
		b.AddASN1BigInt(s)
	})
	return b.BytesOrPanic()
}

// ecdsaSign is textbook ECDSA signing (SEC 1 §4.1.3), for tests only.
func ecdsaSign(t testing.TB, c *group.Curve, d *big.Int, digest []byte) (r, s *big.Int) {
	n := c.Params().N
	e := new(big.Int).SetBytes(digest)
	if excess := len(digest)*8 - n.BitLen(); excess > 0 {
		e.Rsh(e, uint(excess))
	}
	for {
		k, err := rand.Int(rand.Reader, n)
		require.NoError(t, err)
		if k.Sign() == 0 {
			continue
		}
		r = new(big.Int).Mod(c.ScalarBaseMult(k).X, n)
		if r.Sign() == 0 {
			continue
		}
		s = new(big.Int).Mul(r, d)
		s.Add(s, e)
		s.Mul(s, new(big.Int).ModInverse(k, n))
		s.Mod(s, n)
		if s.Sign() != 0 {
			return r, s
		}
	}
}

// rsaSigner is an RSA key whose SPKI has NULL or absent parameters.
type rsaSigner struct {
	key    *rsa.PrivateKey
	noNULL bool
}

func (k *rsaSigner) spki() []byte {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1BigInt(k.key.N)
		b.AddASN1Int64(int64(k.key.E))
	})
	var params []byte
	if !k.noNULL {
		params = []byte{5, 0}
	}
	return spkiDER(oidRSAEncryption, params, b.BytesOrPanic())
}

func (k *rsaSigner) sign(t testing.TB, alg AlgorithmIdentifier, msg []byte) []byte {
	t.Helper()
	sch, hash, opts, err := resolve(alg)
	require.NoError(t, err)
	h := hash.New()
	h.Write(msg)
	var sig []byte
	switch sch {
	case pkcs1v15:
		sig, err = rsa.SignPKCS1v15(rand.Reader, k.key, hash, h.Sum(nil))
	case pss:
		sig, err = rsa.SignPSS(rand.Reader, k.key, hash, h.Sum(nil), opts)
	default:
		t.Fatalf("rsaSigner cannot sign %v", alg)
	}
	require.NoError(t, err)
	return sig
}

func spkiDER(alg asn1.ObjectIdentifier, params, key []byte) []byte {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(alg)
			if params != nil {
				b.AddBytes(params)
			}
		})
		b.AddASN1BitString(key)
	})
	return b.BytesOrPanic()
}

// algorithm returns the AlgorithmIdentifier of a signature algorithm by
// name, without parameters, or RSASSA-PSS with the hash and salt length.
func algorithm(t testing.TB, name string) AlgorithmIdentifier {
	t.Helper()
	for _, s := range sigAlgorithms {
		if s.name == name {
			return mustAlg(t, s.oid, nil)
		}
	}
	t.Fatalf("no algorithm %s", name)
	return AlgorithmIdentifier{}
}

func mustAlg(t testing.TB, oid asn1.ObjectIdentifier, params []byte) AlgorithmIdentifier {
	t.Helper()
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(oid)
		if params != nil {
			b.AddBytes(params)
		}
	})
	a, err := ParseAlgorithmIdentifier(b.BytesOrPanic())
	require.NoError(t, err)
	return a
}

// pssAlgorithm encodes RSASSA-PSS-params with the hash for the message and
// for MGF1, and the salt length.
func pssAlgorithm(t testing.TB, hash, mgfHash crypto.Hash, salt int) AlgorithmIdentifier {
	t.Helper()
	hashOID := func(h crypto.Hash) asn1.ObjectIdentifier {
		for _, o := range hashOIDs {
			if o.hash == h {
				return o.oid
			}
		}
		t.Fatalf("no OID for %v", h)
		return nil
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1ObjectIdentifier(hashOID(hash))
				b.AddASN1NULL()
			})
		})
		b.AddASN1(cbasn1.Tag(1).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1ObjectIdentifier(oidMGF1)
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					b.AddASN1ObjectIdentifier(hashOID(mgfHash))
					b.AddASN1NULL()
				})
			})
		})
		b.AddASN1(cbasn1.Tag(2).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
			b.AddASN1Int64(int64(salt))
		})
	})
	return mustAlg(t, oidRSASSAPSS, b.BytesOrPanic())
}

// certSpec describes a test certificate.
type certSpec struct {
	serial         []byte // the INTEGER's content octets
	issuer         pkix.Name
	subject        pkix.Name
	notBefore      time.Time
	notAfter       time.Time
	ski, aki       []byte
	ca             bool
	keyUsage       KeyUsage
	noExtensions   bool
	alg            AlgorithmIdentifier
	outerAlg       *AlgorithmIdentifier // another signatureAlgorithm outside the TBS
	subjectKey     signer
	issuerKey      signer
	corruptSigByte bool
}

func nameDER(t testing.TB, n pkix.Name) []byte {
	t.Helper()
	b, err := asn1.Marshal(n.ToRDNSequence())
	require.NoError(t, err)
	return b
}

// build returns the DER certificate.
func (s certSpec) build(t testing.TB) []byte {
	t.Helper()
	if s.serial == nil {
		s.serial = []byte{0x01, 0x23}
	}
	if s.notBefore.IsZero() {
		s.notBefore = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
		s.notAfter = time.Date(2034, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	var tb cryptobyte.Builder
	tb.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) { b.AddASN1Int64(2) })
		b.AddASN1(cbasn1.INTEGER, func(b *cryptobyte.Builder) { b.AddBytes(s.serial) })
		b.AddBytes(s.alg.Raw)
		b.AddBytes(nameDER(t, s.issuer))
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1UTCTime(s.notBefore)
			b.AddASN1GeneralizedTime(s.notAfter)
		})
		b.AddBytes(nameDER(t, s.subject))
		b.AddBytes(s.subjectKey.spki())
		if s.noExtensions {
			return
		}
		b.AddASN1(cbasn1.Tag(3).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { s.addExtensions(b) })
		})
	})
	tbs := tb.BytesOrPanic()
	sig := s.issuerKey.sign(t, s.alg, tbs)
	if s.corruptSigByte {
		sig[len(sig)/2] ^= 0x40
	}
	outer := s.alg
	if s.outerAlg != nil {
		outer = *s.outerAlg
	}
	var cb cryptobyte.Builder
	cb.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddBytes(tbs)
		b.AddBytes(outer.Raw)
		b.AddASN1BitString(sig)
	})
	return cb.BytesOrPanic()
}

func (s certSpec) addExtensions(b *cryptobyte.Builder) {
	ext := func(oid asn1.ObjectIdentifier, critical bool, value func(b *cryptobyte.Builder)) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(oid)
			if critical {
				b.AddASN1Boolean(true)
			}
			b.AddASN1(cbasn1.OCTET_STRING, value)
		})
	}
	if s.aki != nil {
		ext(oidAuthorityKeyID, false, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.Tag(0).ContextSpecific(), func(b *cryptobyte.Builder) { b.AddBytes(s.aki) })
			})
		})
	}
	if s.ski != nil {
		ext(oidSubjectKeyID, false, func(b *cryptobyte.Builder) { b.AddASN1OctetString(s.ski) })
	}
	if s.keyUsage != 0 {
		ext(oidKeyUsage, true, func(b *cryptobyte.Builder) {
			var bits [2]byte
			for i := range 9 {
				if s.keyUsage&(1<<i) != 0 {
					bits[i/8] |= 0x80 >> (i % 8)
				}
			}
			if bits[1] == 0 {
				b.AddASN1BitString(bits[:1])
			} else {
				b.AddASN1BitString(bits[:])
			}
		})
	}
	if s.ca {
		ext(oidBasicConstraints, true, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1Boolean(true)
				b.AddASN1Int64(0)
			})
		})
	}
}

// csca returns the spec of a self-signed CSCA of Utopia with the key.
func cscaSpec(t testing.TB, key signer, alg string) certSpec {
	return certSpec{
		issuer:     pkix.Name{Country: []string{"UT"}, CommonName: "CSCA Utopia"},
		subject:    pkix.Name{Country: []string{"UT"}, CommonName: "CSCA Utopia"},
		ski:        []byte{1, 2, 3, 4},
		aki:        []byte{1, 2, 3, 4},
		ca:         true,
		keyUsage:   KeyUsageCertSign | KeyUsageCRLSign,
		alg:        algorithm(t, alg),
		subjectKey: key,
		issuerKey:  key,
	}
}

// dsSpec returns the spec of a DS certificate issued by the CSCA key.
func dsSpec(t testing.TB, issuerKey, key signer, alg string) certSpec {
	return certSpec{
		issuer:     pkix.Name{Country: []string{"UT"}, CommonName: "CSCA Utopia"},
		subject:    pkix.Name{Country: []string{"UT"}, CommonName: "DS Utopia"},
		ski:        []byte{5, 6, 7, 8},
		aki:        []byte{1, 2, 3, 4},
		keyUsage:   KeyUsageDigitalSignature,
		alg:        algorithm(t, alg),
		subjectKey: key,
		issuerKey:  issuerKey,
	}
}

func mustParse(t testing.TB, der []byte) *Certificate {
	t.Helper()
	c, err := ParseCertificate(der)
	require.NoError(t, err, "ParseCertificate")
	return c
}

func cryptobyteString(b []byte) cryptobyte.String { return cryptobyte.String(b) }

// ParseAlgorithmIdentifier parses the DER of an AlgorithmIdentifier, as
// CMS SignerInfo carries it (RFC 5652 §5.3).
func ParseAlgorithmIdentifier(der []byte) (AlgorithmIdentifier, error) {
	s := cryptobyte.String(der)
	a, err := readAlgorithm(&s)
	if err != nil {
		return AlgorithmIdentifier{}, err
	}
	if !s.Empty() {
		return AlgorithmIdentifier{}, fmt.Errorf("%w: data after the AlgorithmIdentifier", ErrMalformed)
	}
	return a, nil
}

// allCurves returns the standardized curves of 9303-11 §9.5.1 (IDs 8–18).
func allCurves() []*group.Curve {
	var cs []*group.Curve
	for id := 8; id <= 18; id++ {
		if c, ok := group.CurveByID(id); ok {
			cs = append(cs, c)
		}
	}
	return cs
}
