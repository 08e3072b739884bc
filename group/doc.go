// Package group holds the standardized cryptographic groups of ICAO Doc
// 9303-11 §9.5.1 (table 12) and BSI TR-03110-3 §A.2.1.1, with the
// arithmetic that PACE, Chip Authentication, Active Authentication and the
// verification of document-signer and CSCA certificates need:
//
//   - the elliptic curves NIST P-192, P-224, P-256, P-384 and P-521
//     (FIPS 186-4 §D.1.2, SEC 2 §2) and brainpoolP192r1, P224r1, P256r1,
//     P320r1, P384r1 and P512r1 (RFC 5639 §3), by parameter ID
//     ([CurveByID]), named-curve OID ([CurveByOID]) or explicit domain
//     parameters ([MatchExplicit]);
//   - point encoding and validation (SEC 1 §2.3, BSI TR-03111 §3.2) and
//     scalar multiplication on them ([Curve]);
//   - ECDSA verification (SEC 1 §4.1.4, FIPS 186-4 §6.4) with signatures in
//     X9.62 DER or in the plain format of TR-03111 §5.2.1 ([PublicKey]);
//   - the RFC 5114 MODP groups with prime-order subgroups ([DH]).
//
// # Only standardized groups
//
// Explicit domain parameters from a chip or a certificate are matched to a
// standardized curve on every parameter (p, a, b, G, n and h) and are
// otherwise refused, never used: parameters chosen by whoever made the
// certificate would let a forger pick a curve where the signer's key is his
// (CVE-2020-0601, "CurveBall"), and 9303-11 §9.2.2 forbids parameters not
// known to be secure.
//
// # Not constant time
//
// The arithmetic (Jacobian coordinates over a Montgomery field of 64-bit
// limbs, math/big for the rest) works for any a, which crypto/ecdh and
// crypto/elliptic do not, but its running time depends on the scalar.
// Verifying signatures involves only public values; a caller that
// multiplies a secret scalar must weigh the side channel itself.
package group
