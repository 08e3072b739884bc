// Package sm implements ICAO 9303 secure messaging (9303-11 §9.8; ISO/IEC
// 7816-4 §10; BSI TR-03110-3 §F), the channel that protects every command
// and response after BAC or PACE.
//
// A [Session] is the terminal side. It is an icao.Transport that wraps
// another one, the way tls.Conn wraps a net.Conn: it takes a plain command
// APDU, sends the protected form and returns the plain response, so the
// reading code above it never knows whether secure messaging is on. A
// [Card] is the chip side of the same protocol, for emulators and tests.
//
// # Protected APDUs
//
// A command is protected as 9303-11 §9.8.4 describes: CLA |= 0x0C; the
// command data, padded with ISO/IEC 9797-1 method 2 and encrypted, goes in
// DO'87' (padding-content indicator 01 followed by the cryptogram), or in
// DO'85' (cryptogram only) when INS is odd, because odd-INS data is BER-TLV
// encoded (ISO/IEC 7816-4 §10.2, as JMRTD does for READ BINARY B1 with
// DO'54'); Le goes in DO'97' (one byte for Ne ≤ 256, 256 as 00; two bytes
// above, 65536 as 0000); DO'8E' carries the first 8 bytes of the MAC over
// SSC ‖ padded header ‖ DOs, padded. The protected APDU always carries Le
// (00, or 0000 in the extended form) because the protected response always
// holds DO'99' and DO'8E'; this is what 9303-11 Appendix D.4 prints, for a
// SELECT without Le too.
//
// The extended form is used when the protected body exceeds 255 bytes or
// when the protected response can exceed 256 bytes, that is when the plain
// Ne is larger than [Session.MaxShortLe].
//
// # Responses
//
// A protected response is an optional DO'87' (or DO'85', accepted whatever
// the INS; a [Card] answers an odd INS with DO'85'), a mandatory DO'99'
// holding the status word, and a mandatory DO'8E' (exactly 8E 08), in that
// order, and nothing else. The MAC is
// checked in constant time before anything is decrypted; then DO'99' must
// equal the outer status word and the padding must be well formed.
//
// Every failure is an SM error: it matches icao.ErrSM with errors.Is and one
// of [ErrMAC], [ErrMissing], [ErrMalformed], [ErrStatus] or [ErrDropped].
// Like crypto/tls's halfConn.err it is sticky: the session stores the first
// one, clears its keys and returns that error from every later Transmit.
// The caller has to authenticate again.
//
// # Unprotected answers
//
// Chips answer some commands without secure messaging, before they get to
// SM processing (for example 6700 when Le is too large or extended length is
// not supported, 6B00 for an offset beyond the file). A Session returns such
// a bare status word as a two-byte response, so icao.Exchange reports it as
// an icao.StatusWord, keeps the session and restores the send sequence
// counter (SSC) to its value before the command, on the assumption that the
// chip rejected the command before it counted it. If that guess is wrong the
// next response MAC fails, the session dies, and the caller authenticates
// again. Some bare answers are not like that: 6987 and 6988 mean the chip
// has dropped secure messaging ([ErrDropped]); a bare 9000 would let an
// attacker forge success ([ErrMissing]); a status byte outside 61–6F and
// 90–9F is not a status word ([ErrMalformed]). They end the session. A 61xx
// answer is completed with plain GET RESPONSE commands, as the transport
// layer does, and the pieces make up the protected response.
//
// # Suites
//
// [TDES] is 2-key 3DES in CBC mode with a zero IV, ISO/IEC 9797-1 MAC
// algorithm 3 and an 8-byte SSC (9303-11 §9.8.6.1, used by BAC). [AES] is
// AES-CBC with IV = E(KSenc, SSC), AES-CMAC (RFC 4493) truncated to 8 bytes
// and a 16-byte SSC (9303-11 §9.8.7, used by PACE). The SSC is incremented
// before every command and every response.
//
// # Secrets
//
// Keys are copied into fixed-size arrays and cleared by [Session.Close],
// after an SM error, and by the card on an error (best effort: the Go
// runtime may hold copies). Nothing here logs; [Keys], [Session] and [Card]
// have no String method and log and format (even with %v) as "redacted"; no
// error holds key, MAC or data bytes.
package sm
