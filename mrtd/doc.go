// Package mrtd reads an eMRTD (ePassport or eID card) from end to end: it
// selects the LDS1 application, performs access control (BAC, 9303-11 §4.3),
// reads EF.COM, EF.SOD, DG1 and DG2 under secure messaging with
// [icao.FileReader], re-authenticates and resumes when the secure messaging
// session dies mid-file, checks the data groups against the hashes in
// EF.SOD (9303-11 §5.1, passive authentication's integrity step) and
// measures what it did (APDUs, bytes, time per file).
//
// It is the one place that knows the order of the steps; the protocol
// details live in icao, bac and sm, and the PC/SC details in reader.
package mrtd
