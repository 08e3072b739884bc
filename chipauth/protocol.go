package chipauth

import (
	"encoding/asn1"
	"fmt"
	"slices"

	"github.com/nfcbridge/nfcbridge/sm"
)

// Object identifiers of 9303-11 §9.2.5 and §9.2.6 (BSI TR-03110-3 §A.1.1).
var (
	// oidCA is id-CA; a protocol is id-CA.{agreement}.{cipher}.
	oidCA = asn1.ObjectIdentifier{0, 4, 0, 127, 0, 7, 2, 2, 3}
	// oidPK is id-PK; a key is id-PK.{agreement}.
	oidPK = asn1.ObjectIdentifier{0, 4, 0, 127, 0, 7, 2, 2, 1}
)

// KeyAgreement is the Diffie-Hellman variant of a Chip Authentication
// protocol; its value is the OID arc after id-CA and id-PK.
type KeyAgreement int

// Key agreements (9303-11 §9.2.5).
const (
	DH   KeyAgreement = 1 // id-CA-DH, id-PK-DH (PKCS #3)
	ECDH KeyAgreement = 2 // id-CA-ECDH, id-PK-ECDH (BSI TR-03111 §4.3.1)
)

// String returns "DH" or "ECDH".
func (k KeyAgreement) String() string {
	switch k {
	case DH:
		return "DH"
	case ECDH:
		return "ECDH"
	}
	return fmt.Sprintf("KeyAgreement(%d)", int(k))
}

// MarshalText returns the name.
func (k KeyAgreement) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// Cipher is the secure messaging cipher and key length a protocol
// establishes; its value is the last arc of the protocol OID.
type Cipher int

// Ciphers (9303-11 §9.2.5).
const (
	TDES   Cipher = 1 // 3DES-CBC-CBC: 2-key 3DES, retail MAC
	AES128 Cipher = 2 // AES-CBC-CMAC-128
	AES192 Cipher = 3 // AES-CBC-CMAC-192
	AES256 Cipher = 4 // AES-CBC-CMAC-256
)

// Suite returns the secure messaging suite, or 0 for an unknown cipher.
func (c Cipher) Suite() sm.Suite {
	switch c {
	case TDES:
		return sm.TDES
	case AES128, AES192, AES256:
		return sm.AES
	}
	return 0
}

// KeyLength returns the length in bytes of each session key: 16 for 3DES
// and AES-128, 24 for AES-192, 32 for AES-256; 0 for an unknown cipher.
func (c Cipher) KeyLength() int {
	switch c {
	case TDES, AES128:
		return 16
	case AES192:
		return 24
	case AES256:
		return 32
	}
	return 0
}

// String returns "3DES", "AES-128", "AES-192" or "AES-256".
func (c Cipher) String() string {
	switch c {
	case TDES:
		return "3DES"
	case AES128, AES192, AES256:
		return fmt.Sprintf("AES-%d", c.KeyLength()*8)
	}
	return fmt.Sprintf("Cipher(%d)", int(c))
}

// MarshalText returns the name.
func (c Cipher) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// Protocol is a Chip Authentication protocol, id-CA-{DH,ECDH}-{3DES-CBC-CBC,
// AES-CBC-CMAC-128,-192,-256} (9303-11 §9.2.5).
type Protocol struct {
	KeyAgreement KeyAgreement
	Cipher       Cipher
}

// ProtocolByOID returns the protocol an id-CA-* OID names, or false.
func ProtocolByOID(oid asn1.ObjectIdentifier) (Protocol, bool) {
	if len(oid) != len(oidCA)+2 || !slices.Equal(oid[:len(oidCA)], oidCA) {
		return Protocol{}, false
	}
	p := Protocol{KeyAgreement: KeyAgreement(oid[len(oidCA)]), Cipher: Cipher(oid[len(oidCA)+1])}
	return p, p.valid()
}

func (p Protocol) valid() bool {
	return (p.KeyAgreement == DH || p.KeyAgreement == ECDH) && p.Cipher.Suite() != 0
}

// OID returns the protocol's object identifier, a new slice.
func (p Protocol) OID() asn1.ObjectIdentifier {
	return append(slices.Clone(oidCA), int(p.KeyAgreement), int(p.Cipher))
}

// String names the protocol as 9303-11 does without the "id-" prefix, for
// example "CA-ECDH-AES-CBC-CMAC-128" or "CA-DH-3DES-CBC-CBC".
func (p Protocol) String() string {
	if !p.valid() {
		return fmt.Sprintf("CA(%v, %v)", p.KeyAgreement, p.Cipher)
	}
	if p.Cipher == TDES {
		return fmt.Sprintf("CA-%v-3DES-CBC-CBC", p.KeyAgreement)
	}
	return fmt.Sprintf("CA-%v-AES-CBC-CMAC-%d", p.KeyAgreement, p.Cipher.KeyLength()*8)
}

// MarshalText returns the name.
func (p Protocol) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// UnmarshalText reads a name [Protocol.String] writes, so that a result
// stored as JSON reads back.
func (p *Protocol) UnmarshalText(b []byte) error {
	for _, ka := range []KeyAgreement{DH, ECDH} {
		for _, c := range []Cipher{TDES, AES128, AES192, AES256} {
			if q := (Protocol{KeyAgreement: ka, Cipher: c}); q.String() == string(b) {
				*p = q
				return nil
			}
		}
	}
	return fmt.Errorf("chipauth: %q is not a Chip Authentication protocol", b)
}

// Method is the command sequence that runs Chip Authentication.
type Method int

// Methods (TR-03110-3 §B.1; 9303-11 §6.2.4). The zero value picks by
// cipher: MSE:Set KAT for 3DES, which every 3DES chip implements (and the
// only form of CA version 1), and MSE:Set AT with GENERAL AUTHENTICATE for
// AES, for which Set KAT is not defined.
const (
	MethodAuto Method = iota
	// SetKAT is MSE:Set KAT (00 22 41 A6) carrying the ephemeral public
	// key in DO'91' and the key ID in DO'84'; 3DES only.
	SetKAT
	// SetAT is MSE:Set AT (00 22 41 A4) with the protocol OID in DO'80' and
	// the key ID in DO'84', then GENERAL AUTHENTICATE (00 86 00 00) with the
	// ephemeral public key in DO'7C' { DO'80' }.
	SetAT
)

// String returns "MSE:Set KAT", "MSE:Set AT+GA" or "auto".
func (m Method) String() string {
	switch m {
	case MethodAuto:
		return "auto"
	case SetKAT:
		return "MSE:Set KAT"
	case SetAT:
		return "MSE:Set AT+GA"
	}
	return fmt.Sprintf("Method(%d)", int(m))
}

// MarshalText returns the name.
func (m Method) MarshalText() ([]byte, error) { return []byte(m.String()), nil }

// resolve picks the method for a protocol.
func (m Method) resolve(p Protocol) (Method, error) {
	switch {
	case m == MethodAuto && p.Cipher == TDES:
		return SetKAT, nil
	case m == MethodAuto || m == SetAT:
		return SetAT, nil
	case m == SetKAT && p.Cipher == TDES:
		return SetKAT, nil
	}
	return 0, fmt.Errorf("%w: %v with %v", ErrNotSupported, p, m)
}
