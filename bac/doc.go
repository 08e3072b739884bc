// Package bac implements Basic Access Control (9303-11 §4.3 and Appendix D):
// the document basic access keys from the MRZ, the mutual authentication
// with GET CHALLENGE and EXTERNAL AUTHENTICATE, and the session keys and
// send sequence counter that start 3DES secure messaging (package sm).
//
// [Open] is the terminal side: it returns an *sm.Session that wraps the
// transport. [Card] is the chip side, for the virtual chip and tests.
//
// BAC takes MRZ_information, the concatenation of the document number,
// date of birth and date of expiry with their check digits (9303-11
// §4.3.2); icao.AccessKey builds it from an MRZ.
//
// Documents issued after 2018 may support PACE only: [Open] returns
// [ErrNotSupported] when GET CHALLENGE is refused. A wrong MRZ gives
// [ErrAccessDenied]; chips may throttle failed attempts, so callers should
// not retry with the same key in a loop.
//
// Nothing here logs, and errors never hold MRZ text, challenges or keys.
package bac
