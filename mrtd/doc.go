// Package mrtd reads an eMRTD (ePassport or eID card) from end to end: it
// reads EF.ATR/INFO and EF.CardAccess in plain, selects the LDS1
// application, performs access control (PACE, 9303-11 §4.4, when the chip
// offers it, else BAC, §4.3), reads EF.COM, EF.SOD, DG1 and DG2 under
// secure messaging with [icao.FileReader], re-authenticates and resumes when the secure messaging
// session dies mid-file, checks the data groups against the hashes in
// EF.SOD (9303-11 §5.1, passive authentication's integrity step), runs
// Chip Authentication (§6.2) after reading DG14 and Active Authentication
// (§6.1) after DG15, with their verdict in [Authenticity], and measures
// what it did (APDUs, bytes, time per file).
//
// It is the one place that knows the order of the steps; the protocol
// details live in icao, bac, pace and sm, and the PC/SC details in reader.
// What a read learned of a reader (Le, SFI support, buffer sizes) comes
// back as [Learned] for the next read on it.
package mrtd
