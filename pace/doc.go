// Package pace implements PACE, Password Authenticated Connection
// Establishment (ICAO Doc 9303-11 §4.4 and §9; BSI TR-03110-2 §3.2 and
// TR-03110-3), the access control of eMRTDs issued since about 2014 and of
// most ID cards, some of which support nothing else.
//
// # Terminal side
//
// Read EF.CardAccess, parse it with [ParseCardAccess], pick a protocol with
// [Choose] and run [Open] with the MRZ password ([MRZ]) or the Card Access
// Number ([CAN]). Open returns an sm.Session, secure messaging with the new
// session keys, which is itself an icao.Transport for reading the LDS:
//
//	infos, err := pace.ParseCardAccess(cardAccess)
//	info, ok := pace.Choose(infos.PACE)
//	res, err := pace.Open(ctx, card, pace.MRZ(key.Information()), info, nil)
//	// read with res.Session
//
// [ErrNotSupported] means "try BAC (or another PACEInfo)"; [ErrAccessDenied]
// means a wrong password.
//
// # Supported protocols
//
// All 19 protocols of 9303-11 §4.4.3 tables 2 and 3: DH and ECDH with the
// Generic Mapping (GM, §4.4.3.3.1) and the Integrated Mapping (IM,
// §4.4.3.3.2 and Appendix B), ECDH with the Chip Authentication Mapping
// (CAM, §4.4.3.5), each with 3DES (not CAM) and AES-128, -192 and -256; on
// the standardized domain parameters of §9.5.1 (table 12): the RFC 5114
// MODP groups (IDs 0–2), NIST P-192, P-224, P-256, P-384, P-521 and
// brainpoolP192r1 to brainpoolP512r1 (IDs 8–18), except IM on P-224, which
// 9303 excludes. Explicit domain parameters (PACEDomainParameterInfo) are
// used only when they equal a standardized set, as §9.2.2 demands.
//
// The chip's public keys are validated (points on the curve and not the
// point at infinity, coordinates below p; DH values in (1, p−1) and in the
// order-q subgroup; different from the terminal's), tokens are compared in
// constant time, and errors never contain passwords, keys, nonces or
// tokens.
//
// # Elliptic curves
//
// crypto/ecdh and crypto/elliptic cannot do PACE: they lack P-192 and the
// brainpool curves (a ≠ −3), and the mapped generator G~ = s·G + H is not a
// curve's base point. The curves, the RFC 5114 groups and their arithmetic
// come from package group, which is not constant time. That is a
// deliberate trade-off: every scalar is an ephemeral key of a single run
// on the terminal, so a timing side channel would have to be measured on
// the terminal's CPU during that run; the password enters only through the
// random nonce. A run costs a few milliseconds of CPU (BenchmarkOpen).
//
// # Chip side
//
// [Card] answers the PACE commands as a chip does, for the virtual chip
// and for tests; [EncodeCardAccess] and [ChipKey] produce its
// EF.CardAccess and Chip Authentication key.
package pace
