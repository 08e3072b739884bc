// Package vchip is a virtual ePassport chip: an eMRTD with the LDS1
// application (ICAO Doc 9303-10), Basic Access Control, PACE and secure
// messaging (9303-11 §4.3, §4.4, §9.8), answering ISO/IEC 7816-4 command
// APDUs the way real chips do, quirks included.
//
// A [Passport] serves one [Dataset]: EF.COM, EF.SOD, DG1–DG16 and
// optionally EF.CardAccess, loaded from a directory in the layout
// `nfcbridge read --out` writes ([LoadDir]) or built by [Specimen] around
// the ICAO specimen MRZ and a synthetic face. Its Transmit method makes it
// an icao.Transport for in-process tests and a vpcd.Card, so that [Serve]
// can put it into the vsmartcard virtual reader, where PC/SC applications
// see it like a passport on a reader.
//
// # Behaviour
//
// The chip starts with the master file selected and access rights for
// EF.CardAccess only. SELECT of the LDS1 application (by DF name, P2 0C or
// 00, Le present or absent), BAC (GET CHALLENGE, EXTERNAL AUTHENTICATE)
// and, when the dataset has EF.CardAccess, PACE (MSE:Set AT and four
// GENERAL AUTHENTICATE commands, chained with CLA 10; 9303-11 §4.4.4) are
// allowed; every other LDS read answers 6982, as real chips do
// (gmrtd#226). PACE runs every protocol of EF.CardAccess that package pace
// supports (DH and ECDH; GM, IM and CAM; 3DES and AES) with the MRZ
// password and the CAN of the [Dataset]; its session is 3DES or AES
// secure messaging with the same access rights as after BAC. A wrong
// password gets 6300 and no session. After BAC or PACE every command must
// be protected: a plain command
// aborts secure messaging (9303-11 §9.8.6.1) and an SM error aborts it too,
// answered with 6987 or 6988 without secure messaging. Files are selected
// by FID (P1 02 or 00) or read by short EF identifier; READ BINARY B0
// takes a 15-bit offset and B1 a DO'54' offset of up to three bytes, so
// files of 32 KB and more can be read (9303-10 §3.5.2). Responses hold
// exactly min(Ne, remaining) bytes.
//
// [Config] switches on what real documents do differently: no extended
// length, a Le cap with its various refusals, no short EF identifiers,
// 6282 at the end of a file, SELECT MF refusals, Le refused on SELECT and
// MSE, PACE-only chips, PACE refused mid-way, 6985 instead of 6300 for a
// wrong key, latency and removal mid-read, and a clone whose keys do not
// match its files. Chip Authentication (MSE:Set KAT, MSE:Set AT and
// GENERAL AUTHENTICATE under secure messaging, then SSC 0 with the new
// keys; 9303-11 §6.2) runs the protocols DG14 offers with [Dataset.CAKey];
// INTERNAL AUTHENTICATE (§6.1) signs with [Dataset.AAKey]. Each
// switch documents the public field report it reproduces.
//
// The package never logs, and its errors carry no MRZ, key or file bytes.
package vchip
