package pki

import (
	"encoding/asn1"
	"fmt"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// parseExtensions reads Extensions and decodes those a trust store needs.
// Other extensions, critical or not, are kept in c.Extensions for the
// caller: the eMRTD PKI defines private ones (9303-12 §7.1.1.3, document
// type list), which a verifier may judge.
func (c *Certificate) parseExtensions(s cryptobyte.String) error {
	var seq cryptobyte.String
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) || !s.Empty() {
		return fmt.Errorf("%w: extensions", ErrMalformed)
	}
	seen := map[string]bool{}
	for !seq.Empty() {
		var ext cryptobyte.String
		var e Extension
		var value []byte
		if !seq.ReadASN1(&ext, cbasn1.SEQUENCE) || !ext.ReadASN1ObjectIdentifier(&e.ID) ||
			!readOptionalBoolean(&ext, &e.Critical) ||
			!ext.ReadASN1Bytes(&value, cbasn1.OCTET_STRING) || !ext.Empty() {
			return fmt.Errorf("%w: extension", ErrMalformed)
		}
		e.Value = value
		if seen[e.ID.String()] {
			return fmt.Errorf("%w: extension %v twice", ErrMalformed, e.ID)
		}
		seen[e.ID.String()] = true
		if err := c.applyExtension(e); err != nil {
			return err
		}
		c.Extensions = append(c.Extensions, e)
	}
	return nil
}

func (c *Certificate) applyExtension(e Extension) error {
	v := cryptobyte.String(e.Value)
	switch {
	case e.ID.Equal(oidSubjectKeyID):
		var id []byte
		if !v.ReadASN1Bytes(&id, cbasn1.OCTET_STRING) || !v.Empty() {
			// A Lithuanian CSCA puts the 20 bytes of its key identifier in
			// extnValue without the OCTET STRING around them.
			if len(e.Value) == 0 || len(e.Value) > maxKeyID {
				return fmt.Errorf("%w: subjectKeyIdentifier", ErrMalformed)
			}
			id = e.Value
		}
		c.SubjectKeyID = id
	case e.ID.Equal(oidAuthorityKeyID):
		var seq, id cryptobyte.String
		var present bool
		if !v.ReadASN1(&seq, cbasn1.SEQUENCE) || !v.Empty() ||
			!seq.ReadOptionalASN1(&id, &present, cbasn1.Tag(0).ContextSpecific()) {
			return fmt.Errorf("%w: authorityKeyIdentifier", ErrMalformed)
		}
		if present {
			c.AuthorityKeyID = id
		}
		// authorityCertIssuer and authorityCertSerialNumber are not used:
		// 9303-12 §7.1.1.2 matches by keyIdentifier.
	case e.ID.Equal(oidBasicConstraints):
		var seq cryptobyte.String
		if !v.ReadASN1(&seq, cbasn1.SEQUENCE) || !v.Empty() ||
			!readOptionalBoolean(&seq, &c.IsCA) {
			return fmt.Errorf("%w: basicConstraints", ErrMalformed)
		}
		if !seq.Empty() {
			var n int64
			if !seq.ReadASN1Int64WithTag(&n, cbasn1.INTEGER) || !seq.Empty() || n < 0 || n > 1<<16 {
				return fmt.Errorf("%w: pathLenConstraint", ErrMalformed)
			}
			c.MaxPathLen = int(n)
		}
		c.BasicConstraintsValid = true
	case e.ID.Equal(oidKeyUsage):
		var bits asn1.BitString
		if !v.ReadASN1BitString(&bits) || !v.Empty() {
			return fmt.Errorf("%w: keyUsage", ErrMalformed)
		}
		for i := range 9 {
			if bits.At(i) != 0 {
				c.KeyUsage |= 1 << i
			}
		}
	}
	return nil
}

// maxKeyID bounds a key identifier taken without its OCTET STRING: a
// SHA-512 hash is the longest seen.
const maxKeyID = 64

// readOptionalBoolean reads a BOOLEAN DEFAULT FALSE. (cryptobyte's
// ReadOptionalASN1Boolean is for an explicitly tagged BOOLEAN.) Any
// non-zero octet is TRUE, as BER has it (X.690 §8.2.2): Ukrainian CSCAs
// encode cA as 01, where DER wants FF.
func readOptionalBoolean(s *cryptobyte.String, out *bool) bool {
	*out = false
	if !s.PeekASN1Tag(cbasn1.BOOLEAN) {
		return true
	}
	var b cryptobyte.String
	if !s.ReadASN1(&b, cbasn1.BOOLEAN) || len(b) != 1 {
		return false
	}
	*out = b[0] != 0
	return true
}
