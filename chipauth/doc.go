// Package chipauth implements the terminal side of Chip Authentication
// (ICAO Doc 9303-11 §6.2; BSI TR-03110-1 §3.4 and TR-03110-3 §B.1): an
// ephemeral-static Diffie-Hellman key agreement with the chip's static key
// from DG14 or EF.CardSecurity, which yields new secure messaging keys. Only
// the chip that holds the private key can derive them, so a chip that
// answers correctly under the new keys is the chip the signed data
// describes, not a copy of its files.
//
// # Use
//
// Parse DG14 (pace.ParseDG14) or EF.CardSecurity's signed SecurityInfos
// (pace.ParseSecurityInfos), pick a key with [Choose], run [Authenticate]
// over the current secure messaging session and continue on a new session
// over the base transport:
//
//	infos, err := pace.ParseDG14(dg14)
//	key, err := chipauth.Choose(infos)
//	res, err := chipauth.Authenticate(ctx, session, key, nil)
//	session.Close()
//	session, err = res.Session(card) // SSC 0, perhaps another cipher
//
// # Implicit authentication
//
// The chip's answer to MSE:Set KAT or GENERAL AUTHENTICATE proves nothing:
// a clone answers 9000 too. The chip is authenticated by the first response
// that verifies under the new keys (9303-11 §6.2); a clone cannot compute
// them, so its answer fails the MAC check and the new session reports an
// error matching icao.ErrSM. The result counts only when Passive
// Authentication covers the file the key came from.
//
// # Protocols
//
// DH and ECDH on the standardized domain parameters of 9303-11 §9.5.1 (or
// explicit parameters equal to them), with 3DES or AES-128, -192 and -256
// secure messaging; keys derived with the KDF of 9303-11 §9.7.1. With 3DES
// the default command is MSE:Set KAT (CA version 1); with AES it is
// MSE:Set AT followed by GENERAL AUTHENTICATE ([Method]). A key without a
// ChipAuthenticationInfo is run with id-CA-DH-3DES-CBC-CBC or
// id-CA-ECDH-3DES-CBC-CBC, by the key's type, as 9303-11 §6.2 and §9.2.5
// let a chip that offers only CA with 3DES omit the info.
//
// The ephemeral key is drawn anew for every run. The arithmetic of package
// group is not constant time; the scalar is used once, as in package pace.
package chipauth
