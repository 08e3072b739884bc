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
// Once [Outbox.Put] has returned, the item is lost by no crash, restart or
// power failure (given a disk that honours fsync): it is delivered, dropped
// as permanently failed or expired, or quarantined, and each of these is
// reported.
//
// After a delivery succeeds, a "done" marker holding the result is made
// durable before anything else happens; only then is the entry deleted. An
// entry with a done marker is never sent again, whatever happens next: on
// the next [Open] it is deleted and its [Delivered] event is reported again.
// Delivered events are therefore at least once (deduplicate by
// [Event.ReadID]); Retrying, Failed, Expired and Quarantined events are
// reported once and may be lost in a crash, which the next Open does not
// replay (the entry itself is either still queued or gone).
//
// # The window
//
// The vendor's endpoint has no idempotency key, so exactly-once delivery is
// impossible. One window remains, and there delivery is at least once: the
// vendor has stored the upload, but its 2xx answer has not reached us (the
// connection broke, the process crashed, the machine lost power) or the done
// marker is not yet on disk. The entry is then sent again, and the session
// gets a duplicate media entry, which is preferred to a lost read. Package
// upload has the same window for its own retries of network errors.
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
