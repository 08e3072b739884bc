// Package kiosk is the daemon's core: a [Service] that reads passports on
// the card readers and uploads them, and the local HTTP API (v1) a kiosk UI
// drives it with ([NewHandler]), described by openapi.yaml next to this
// file.
//
// # Reads
//
// A read (POST /v1/reads) waits for a card on one reader (Config.CardTimeout,
// then card_timeout), authenticates with the MRZ or the CAN (PACE where
// the chip offers it, else BAC), reads EF.COM, EF.SOD, DG1 and DG2 (ICAO 9303-10 §4) under secure
// messaging, checks the data groups against EF.SOD (9303-11 §5.1) and uploads
// them. Its states are waiting_for_card, authenticating, reading, uploading,
// queued, done, failed and canceled. One read runs per reader; several readers
// read in parallel. A card taken off mid-read is waited for
// (Config.ReinsertTimeout) and the read resumes where it stopped, on a new
// connection, byte for byte (mrtd.Resume); otherwise card_removed. pcscd
// going away and coming back is waited out the same way.
//
// An upload that cannot be delivered right away (network down, timeouts,
// 5xx, 429) goes to the encrypted durable outbox (package outbox) and the read
// is queued until the outbox delivers it, drops it as permanently refused, or
// drops it after the retention time. Queued reads are listed again after a
// restart, with their IDs.
//
// The service keeps no file contents after the upload or the hand-over to the
// outbox, and no personal data in what it reports or logs: a read's status
// holds states, byte counts, file sizes, the integrity check, error codes and
// the vendor's media object; logs hold read IDs, session IDs, states, APDU
// counts, durations and error codes. Finished reads are forgotten after
// Config.KeepReads reads or Config.KeepFor.
//
// # The HTTP layer
//
// Handlers decode (bodies capped), call one method of the service, map errors
// to status codes in one function (statusOf) and encode JSON; they do no card
// I/O. In front of them: a TCP peer must be loopback, a TCP request's Host
// must name a loopback address with the daemon's port (DNS rebinding), an
// Origin must be allowed (CORS, with Private Network Access preflights), and
// every endpoint but GET /v1/health needs "Authorization: Bearer <token>".
package kiosk
