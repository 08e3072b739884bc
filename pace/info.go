package pace

import (
	"encoding/asn1"
	"fmt"
	"slices"

	"github.com/nfcbridge/nfcbridge/sm"
)

// Object identifiers of 9303-11 §9.2 and BSI TR-03110-3 §A.1.
var (
	// oidPACE is id-PACE = bsi-de protocols(2) smartcard(2) 4; a PACE
	// protocol is id-PACE.{agreement+mapping}.{cipher}.
	oidPACE = asn1.ObjectIdentifier{0, 4, 0, 127, 0, 7, 2, 2, 4}
	// oidPK is id-PK, the prefix of id-PK-DH (.1) and id-PK-ECDH (.2).
	oidPK = asn1.ObjectIdentifier{0, 4, 0, 127, 0, 7, 2, 2, 1}
	// oidCA is id-CA, the prefix of the Chip Authentication protocols.
	oidCA = asn1.ObjectIdentifier{0, 4, 0, 127, 0, 7, 2, 2, 3}
	// oidStandardized is standardizedDomainParameters (9303-11 §9.5.1).
	oidStandardized = asn1.ObjectIdentifier{0, 4, 0, 127, 0, 7, 1, 2}
	// oidECPublicKey and oidDHPublicNumber name explicit domain parameters
	// (9303-11 §9.5.2).
	oidECPublicKey    = asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}
	oidDHPublicNumber = asn1.ObjectIdentifier{1, 2, 840, 10046, 2, 1}
	oidPrimeField     = asn1.ObjectIdentifier{1, 2, 840, 10045, 1, 1}
	// oidAA is id-icao-mrtd-security-aaProtocolObject, the protocol of an
	// ActiveAuthenticationInfo (9303-11 §9.2).
	oidAA = asn1.ObjectIdentifier{2, 23, 136, 1, 1, 5}
)

// OID returns id-PACE, 0.4.0.127.0.7.2.2.4 (9303-11 §9.2.3, BSI
// TR-03110-3 §A.1.1.1): a PACE protocol is id-PACE.{key agreement and
// mapping}.{cipher}, as [Info.Protocol] holds it. Each call returns a new
// slice, which the caller may append to.
func OID() asn1.ObjectIdentifier { return slices.Clone(oidPACE) }

// The fourth-from-last arc of a PACE OID: key agreement and mapping
// (9303-11 §9.2.3).
const (
	arcDHGM    = 1
	arcECDHGM  = 2
	arcDHIM    = 3
	arcECDHIM  = 4
	arcECDHCAM = 6
)

// NoParameterID marks an absent parameterId or keyId.
const NoParameterID = -1

// Mapping is the PACE mapping (9303-11 §4.4.3.3).
type Mapping int

// PACE mappings.
const (
	GenericMapping            Mapping = iota + 1 // GM, 9303-11 §4.4.3.3.1
	IntegratedMapping                            // IM, §4.4.3.3.2
	ChipAuthenticationMapping                    // CAM, §4.4.3.3.3 and §4.4.3.5
)

// String returns "GM", "IM" or "CAM".
func (m Mapping) String() string {
	switch m {
	case GenericMapping:
		return "GM"
	case IntegratedMapping:
		return "IM"
	case ChipAuthenticationMapping:
		return "CAM"
	}
	return fmt.Sprintf("Mapping(%d)", int(m))
}

// KeyAgreement is the PACE key agreement algorithm (9303-11 §4.4.3.1–2).
type KeyAgreement int

// Key agreement algorithms.
const (
	DH   KeyAgreement = iota + 1 // finite-field Diffie-Hellman (PKCS #3)
	ECDH                         // elliptic-curve Diffie-Hellman (TR-03111)
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

// Info is a PACEInfo from EF.CardAccess (9303-11 §9.2.1): a protocol the
// chip supports and its domain parameters.
type Info struct {
	// Protocol is one of the 19 id-PACE-* OIDs of 9303-11 §9.2.3, or
	// another OID under id-PACE that this package does not support.
	Protocol asn1.ObjectIdentifier
	// Version must be 2.
	Version int
	// ParameterID is the standardized domain parameter ID (0–2 DH, 8–18
	// ECDH; 9303-11 §9.5.1), the ID of explicit domain parameters (32 and
	// above), or NoParameterID when the chip gave none.
	ParameterID int
	// Domain holds the explicit domain parameters of a
	// PACEDomainParameterInfo that ParseCardAccess matched to this
	// PACEInfo; nil when ParameterID is standardized.
	Domain *Domain
}

// family returns the agreement-and-mapping arc and the cipher arc, or
// false when Protocol is not id-PACE.x.y.
func (i Info) family() (mapArc, cipherArc int, ok bool) {
	if len(i.Protocol) != len(oidPACE)+2 || !slices.Equal(i.Protocol[:len(oidPACE)], oidPACE) {
		return 0, 0, false
	}
	return i.Protocol[len(oidPACE)], i.Protocol[len(oidPACE)+1], true
}

// Mapping returns the mapping of the protocol, or 0 for an unknown one.
func (i Info) Mapping() Mapping {
	m, c, ok := i.family()
	switch {
	case !ok || c < 1 || c > 4:
		return 0
	case m == arcDHGM || m == arcECDHGM:
		return GenericMapping
	case m == arcDHIM || m == arcECDHIM:
		return IntegratedMapping
	case m == arcECDHCAM && c >= 2:
		return ChipAuthenticationMapping
	}
	return 0
}

// KeyAgreement returns DH or ECDH, or 0 for an unknown protocol.
func (i Info) KeyAgreement() KeyAgreement {
	m, _, _ := i.family()
	switch {
	case i.Mapping() == 0:
		return 0
	case m == arcDHGM || m == arcDHIM:
		return DH
	}
	return ECDH
}

// Cipher returns the secure messaging suite the protocol uses: sm.TDES
// (id-…-3DES-CBC-CBC) or sm.AES (id-…-AES-CBC-CMAC-*), or 0 for an unknown
// protocol.
func (i Info) Cipher() sm.Suite {
	_, c, _ := i.family()
	switch {
	case i.Mapping() == 0:
		return 0
	case c == 1:
		return sm.TDES
	}
	return sm.AES
}

// KeyLength returns the length in bytes of the cipher keys: 16 for 3DES
// (2-key, 112 bits) and AES-128, 24 for AES-192, 32 for AES-256; 0 for an
// unknown protocol.
func (i Info) KeyLength() int {
	_, c, _ := i.family()
	if i.Mapping() == 0 {
		return 0
	}
	return [...]int{1: 16, 2: 16, 3: 24, 4: 32}[c]
}

// String names the protocol as in 9303-11 without the OID noise, for
// example "PACE-ECDH-GM-AES-128" or "PACE-DH-IM-3DES"; an unknown protocol
// prints as "PACE(0.4.0.127.0.7.2.2.4.9.9)".
func (i Info) String() string {
	if i.Mapping() == 0 {
		return fmt.Sprintf("PACE(%v)", i.Protocol)
	}
	cipher := "3DES"
	if i.Cipher() == sm.AES {
		cipher = fmt.Sprintf("AES-%d", i.KeyLength()*8)
	}
	return fmt.Sprintf("PACE-%v-%v-%s", i.KeyAgreement(), i.Mapping(), cipher)
}

// DomainName names the domain parameters, for example "brainpoolP256r1"
// or "MODP-2048-224", or returns "" when they are none of the standardized
// ones of 9303-11 §9.5.1.
func (i Info) DomainName() string {
	g, err := i.group()
	if err != nil {
		return ""
	}
	return g.domainName()
}

// group resolves the domain parameters, checks that this package supports
// the whole combination and returns the group with its static generator.
func (i Info) group() (paceGroup, error) {
	if i.Mapping() == 0 {
		return nil, fmt.Errorf("%w: protocol %v", ErrNotSupported, i.Protocol)
	}
	if i.Version != 2 {
		return nil, fmt.Errorf("%w: %v version %d", ErrNotSupported, i, i.Version)
	}
	id := i.ParameterID
	if i.Domain != nil {
		id = i.Domain.ID
	}
	g, ok := standardGroup(id)
	if !ok {
		return nil, fmt.Errorf("%w: %v with domain parameters %d", ErrNotSupported, i, i.ParameterID)
	}
	_, isDH := g.(*dhGroup)
	if isDH != (i.KeyAgreement() == DH) {
		return nil, fmt.Errorf("%w: %v with domain parameters of the other kind (%s)", ErrNotSupported, i, g.domainName())
	}
	if e, ok := g.(*ecGroup); ok && i.Mapping() == IntegratedMapping && e.c.p.Bit(1) == 0 {
		return nil, fmt.Errorf("%w: %v on %s", ErrNotSupported, i, g.domainName())
	}
	return g, nil
}

// Supported reports whether [Open] can run this PACEInfo: a known protocol
// of version 2 on standardized domain parameters (or explicit ones equal to
// standardized ones) that fit the key agreement, and not the Integrated
// Mapping on P-224.
func (i Info) Supported() bool {
	_, err := i.group()
	return err == nil
}

// Choose returns the strongest supported PACEInfo, or false when none is
// supported. The order is, most significant first:
//
//  1. ECDH before DH: faster on the chip and in the terminal, and the DH
//     groups are 1024- or 2048-bit;
//  2. CAM before GM before IM: CAM authenticates the chip in the same four
//     commands (verify it with [CAM.Verify] after reading EF.CardSecurity or
//     DG14), GM is what every chip and reader implements, IM is the rarest;
//  3. AES-256 before AES-192 before AES-128 before 3DES;
//  4. the larger group;
//  5. the chip's own order.
func Choose(infos []Info) (Info, bool) {
	best, found := -1, false
	var bestRank [4]int
	for k, i := range infos {
		g, err := i.group()
		if err != nil {
			continue
		}
		r := [4]int{int(i.KeyAgreement()), mappingRank(i.Mapping()), i.KeyLength() + int(i.Cipher()), g.prime().BitLen()}
		if !found || slices.Compare(r[:], bestRank[:]) > 0 {
			best, bestRank, found = k, r, true
		}
	}
	if !found {
		return Info{}, false
	}
	return infos[best], true
}

func mappingRank(m Mapping) int {
	return [...]int{IntegratedMapping: 1, GenericMapping: 2, ChipAuthenticationMapping: 3}[m]
}
