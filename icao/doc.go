// Package icao reads the logical data structure (LDS) of an ICAO 9303
// eMRTD: command and response APDUs (ISO/IEC 7816-4), status words as typed
// errors, the machine readable zone (9303-3/4/5/6), the reading strategy for
// elementary files (9303-10 §3.5, 9303-11 §9.8), and the LDS files EF.COM,
// EF.SOD, DG1 and DG2 (9303-10 §4).
//
// Everything in this package talks to the chip through [Transport], a single
// method that carries raw APDU bytes. Secure messaging is a [Transport] that
// wraps another one, so the reading code never knows whether it is on.
//
// Nothing in this package logs, and no error it returns holds MRZ text, file
// contents or key material.
package icao
