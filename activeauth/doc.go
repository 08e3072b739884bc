// Package activeauth implements the terminal side of Active Authentication
// (ICAO Doc 9303-11 §6.1): the chip signs a random challenge with the
// private key whose public key DG15 holds, which a copy of the chip's files
// cannot do.
//
// # Use
//
//	pub, err := activeauth.ParseDG15(dg15)
//	hash, err := activeauth.HashForAlgorithm(oid) // ECDSA: from DG14's ActiveAuthenticationInfo
//	res, err := activeauth.Authenticate(ctx, session, pub, hash, nil)
//
// [Verify] checks a stored challenge and response offline (the AA-challenge
// and AA-response files of a read). A verified signature means something
// only when Passive Authentication covers DG15 (and DG14).
//
// # Signatures
//
// RSA keys sign with ISO/IEC 9796-2 digital signature scheme 1 (9303-11
// §6.1.2): message recovery, M = M1 ‖ challenge, trailer BC (SHA-1,
// implicit) or the hash identifier of ISO/IEC 10118-3 followed by CC (33CC
// SHA-1, 34CC SHA-256, 35CC SHA-512, 36CC SHA-384, 38CC SHA-224). EC keys
// sign with ECDSA, in the plain format of BSI TR-03111 §5.2.1 (r ‖ s) or in
// X9.62 DER; the hash comes from the signatureAlgorithm of DG14's
// ActiveAuthenticationInfo, which 9303-11 requires with ECDSA.
//
// A chip that lacks that info leaves the hash open. Then [Verify] accepts
// a signature under any of SHA-1, SHA-224, SHA-256, SHA-384 and SHA-512
// and reports which: picking one (say SHA-256) would call a genuine chip
// that uses another hash a clone, while trying five costs a forger nothing
// he could use, since each check is a full ECDSA verification over the
// fresh challenge.
package activeauth
