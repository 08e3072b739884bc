// Package pki parses and verifies the X.509 certificates of the eMRTD
// public key infrastructure (ICAO Doc 9303-12 §7): Country Signing CA
// (CSCA) certificates, link certificates and Document Signer (DS)
// certificates, and the SubjectPublicKeyInfo of DG15 (9303-11 §6.1).
//
// # Why not crypto/x509
//
// crypto/x509 refuses certificates that States do issue (9303-12 §7.1,
// and the deviations ICAO lists in Doc 9303-12 Appendix and the PKD):
// elliptic-curve keys with explicit domain parameters (RFC 3279 §2.3.5;
// about a third of the States' CSCAs), brainpool curves (RFC 5639), zero
// or negative serial numbers, and RSA keys whose AlgorithmIdentifier lacks
// the NULL parameters. This package is a small parser on
// golang.org/x/crypto/cryptobyte that accepts those, and nothing looser:
// explicit parameters must equal a standardized curve on every value
// (package group, [group.MatchExplicit]); anything else is
// [ErrUnsupported], never used.
//
// # Signatures
//
// [VerifySignature] checks RSASSA-PKCS1-v1_5 and RSASSA-PSS (RFC 8017 §8,
// RFC 4055 §3) with crypto/rsa, and ECDSA with SHA-1 to SHA-512 in X9.62
// DER (RFC 5758 §3.2) or in the plain format of BSI TR-03111 §5.2.1 with
// package group. [Certificate.CheckSignatureFrom] applies it to a
// certificate and its issuer.
//
// # Passive authentication
//
// [ParseSignedData] reads CMS SignedData (RFC 5652) in DER or BER — EF.SOD
// (9303-10 §4.6.2), EF.CardSecurity, CSCA master lists (9303-12 §9) — and
// [SignedData.Verify] checks its signer. [Store] holds the trust anchors:
// CSCA and link certificates from certificate files, master lists
// ([ParseMasterList]) and ICAO PKD LDIF files ([ParseLDIF]), and the CRLs
// ([ParseCRL]) their CSCAs signed; [Store.LoadPath] reports per file what
// it gave ([LoadReport]). [Store.VerifyDS] chains a DS certificate to a
// self-signed CSCA and [VerifySOD] runs passive authentication up to the
// data group hashes, which the caller compares ([DataGroupHashes]). The
// outcome is a [Status] with a reason.
package pki
