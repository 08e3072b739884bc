// Package outbox is a durable, encrypted queue of NFC uploads that could not
// be delivered yet: the network is down, the vendor answers 5xx or 429.
//
// An [Outbox] lives in a directory of the daemon's state directory (such as
// $STATE_DIRECTORY/outbox, mode 0700). [Outbox.Put] stores an [Item] (the
// four files of 9303-10 §4 read from the chip, the read and session IDs) and
// returns only once it is on disk. [Outbox.Run] delivers the entries, oldest
// first, through a [Deliver] function (usually [Uploader]); it retries
// failures with exponential backoff that survives restarts, and drops an
// entry when it was delivered, when the error is permanent (a 4xx, see
// [Permanent]) or when it is older than the retention limit (24 h by
// default). Every outcome is reported as an [Event].
//
// [Outbox.Store] stores an item whose first attempt the caller makes with
// [Outbox.Send] (an upload right after a read): the read is durable before
// any byte goes to the vendor, and Run takes over if the attempt fails.
// [Outbox.SaveRecord] keeps a caller's small record per read (the kiosk
// service's status and result summary, no personal data) sealed in the same
// directory, so that a read can be found again after a restart.
//
// # At rest
//
// Each entry is one file named by a random, opaque ID; nothing about the
// read or the holder is in a file name. Its content is sealed with
// AES-256-GCM under a 32-byte key kept apart from the data: a 0600 file
// ([LoadKey]) or a systemd credential ([KeyFromCredentials]). The additional
// data binds each file to its ID and to its kind, so files cannot be swapped
// or renamed undetected. A file that does not open (wrong key, truncation,
// bit flip) is quarantined: renamed to *.bad, reported as a [Quarantined]
// event, never deleted silently. Quarantined files are restored when a later
// [Open] can read them (the right key is back) and are deleted, with an
// [Expired] event, once older than the retention limit.
//
// Files are written to a temporary file, fsynced, renamed into place, and
// the directory is fsynced. A lock on the directory keeps a second process
// (another daemon, a CLI) from delivering the same entries.
//
// # Guarantees
//
// Once [Outbox.Put] or [Outbox.Store] has returned, the item is lost by no
// crash, restart or power failure (given a disk that honours fsync): it is
// delivered, dropped as permanently failed, unconfirmed or expired, or
// quarantined, and each of these is reported. Failed and Expired events are
// reported before the entry's files go, so a crash in between reports them
// again.
//
// After a delivery succeeds, a "done" marker holding the result is made
// durable before anything else happens; only then is the entry deleted. An
// entry with a done marker is never sent again, whatever happens next: on
// the next [Open] it is deleted and its [Delivered] event is reported again.
// Delivered events are therefore at least once (deduplicate by
// [Event.ReadID]); Retrying and Quarantined events are reported once and
// may be lost in a crash, which the next Open does not replay (the entry
// itself is either still queued or set aside).
//
// # The window
//
// The vendor's endpoint has no idempotency key, so a second upload of the
// same read would store it twice. One window remains: the vendor has stored
// the upload but the outcome is not on disk yet. An attempt therefore marks
// its entry as sending, durably, as soon as its HTTP request has a
// connection (httptrace GotConn) and before any byte of it is written.
// Within one process a failed attempt clears the mark and the entry is
// retried (a network error after the request was written is ambiguous, and
// package upload retries those itself too). After a crash, an entry still
// marked is not sent again: the next Run reports it [Failed] with
// [ErrUnconfirmed], so the read is never delivered twice and never silently
// lost; the operator checks the session. An entry whose attempts never got
// a connection (the vendor down) is sent again after a crash.
//
// If the done marker cannot be written (disk full, I/O error), the entry file
// is deleted instead, which also prevents a resend; if that fails too, this
// process never resends the entry, but a crash before the deletion succeeds
// would.
//
// # Privacy
//
// Nothing in this package logs. Errors, [Status], [Event] and the
// LogValue/Format of [Item] carry IDs, counters, times and errors only,
// never the files, the MRZ or the key.
package outbox
