package vchip

import (
	"crypto"
	"crypto/x509"
	"io"
)

// buildCardSecurity returns EF.CardSecurity (9303-11 §9.2.11): a
// ContentInfo with a SignedData whose encapsulated content, of type
// id-SecurityObject, is the DER SecurityInfos, signed with SHA-256 by the
// document signer key whose certificate is included, as EF.SOD is.
func buildCardSecurity(infos []byte, cert *x509.Certificate, key crypto.Signer, rnd io.Reader) ([]byte, error) {
	return signedData(oidSecurityObject, infos, crypto.SHA256, cert, key, rnd)
}
