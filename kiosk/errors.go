package kiosk

import (
	"context"
	"errors"
	"fmt"

	"github.com/nfcbridge/nfcbridge/mrtd"
	"github.com/nfcbridge/nfcbridge/outbox"
	"github.com/nfcbridge/nfcbridge/reader"
	"github.com/nfcbridge/nfcbridge/upload"
)

// Code is the stable, machine-readable name of a failure, for kiosk UIs to
// branch on. Codes are never renamed; new ones may be added.
type Code string

// Codes of request errors (answered at once) and read failures (in a read's
// "error" once it has failed).
const (
	CodeInvalidRequest    Code = "invalid_request"    // malformed JSON, bad UUID, MRZ check digits, impossible dates
	CodeUnsupportedMedia  Code = "unsupported_media"  // a body that is not application/json
	CodeUnauthorized      Code = "unauthorized"       // missing or wrong bearer token
	CodeForbidden         Code = "forbidden"          // foreign Host, foreign Origin, non-loopback peer
	CodeNotFound          Code = "not_found"          // no read with that id, or no such endpoint
	CodeNotCancelable     Code = "not_cancelable"     // the read is queued and will be delivered
	CodeReaderBusy        Code = "reader_busy"        // the reader is reading another document
	CodeReaderNotFound    Code = "reader_not_found"   // no reader of that name, or none at all
	CodePCSCUnavailable   Code = "pcsc_unavailable"   // pcscd not running
	CodePCSCDenied        Code = "pcsc_access_denied" // polkit refused the daemon's user
	CodeUploadUnavailable Code = "upload_unavailable" // the daemon has no API credentials
	CodeShuttingDown      Code = "shutting_down"      // the daemon is stopping

	CodeCardTimeout        Code = "card_timeout"         // no card was presented in time
	CodeCardRemoved        Code = "card_removed"         // the card left and did not come back in time
	CodeReadTimeout        Code = "read_timeout"         // the chip took too long
	CodeAccessDenied       Code = "access_denied"        // the chip refused the MRZ: wrong MRZ
	CodeNeedsPACE          Code = "needs_pace"           // the document does not do BAC
	CodeNeedsMRZ           Code = "needs_mrz"            // a CAN was given, the document has no PACE
	CodeReaderUnable       Code = "reader_unable"        // the reader cannot carry the APDUs the document needs
	CodeUnsupported        Code = "protocol_unsupported" // the document refused PACE, no MRZ for BAC
	CodeNotAPassport       Code = "not_a_passport"       // the card has no eMRTD application
	CodeCommunication      Code = "communication_error"  // the reader or the chip's radio link failed
	CodeChipError          Code = "chip_error"           // unexpected answer from the chip
	CodeIntegrity          Code = "integrity_error"      // data groups do not match EF.SOD
	CodeNotAuthentic       Code = "not_authentic"        // forged or cloned: bad signature, revoked, other State, failed chip or active authentication
	CodeUploadRejected     Code = "upload_rejected"      // the vendor refused the data (400, 413, local checks)
	CodeUploadUnauthorized Code = "upload_unauthorized"  // the vendor refused the API key or signature
	CodeSessionNotFound    Code = "session_not_found"    // the vendor does not know the session
	CodeSessionSubmitted   Code = "session_submitted"    // the session was submitted before the upload
	CodeUploadUnconfirmed  Code = "upload_unconfirmed"   // a 2xx whose response could not be verified, or the daemon died while sending
	CodeUploadFailed       Code = "upload_failed"        // the vendor could not be reached, nothing stored
	CodeUploadExpired      Code = "upload_expired"       // queued too long: dropped by the outbox
	CodeCanceled           Code = "canceled"             // canceled by DELETE or by the daemon stopping
	CodeInterrupted        Code = "interrupted"          // the daemon stopped (crash, kill) before the chip read was complete
	CodeInternal           Code = "internal_error"
)

// Error is a failure as the API reports it: a stable code, a message an
// operator can act on, the request field at fault (for invalid_request) and
// whether trying again may help. Messages never hold MRZ data, keys or
// secrets.
type Error struct {
	Code      Code   `json:"code"`
	Message   string `json:"message"`
	Field     string `json:"field,omitempty"`
	Retryable bool   `json:"retryable"`
}

// Error reads like "kiosk: reader_busy: the reader is busy …".
func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("kiosk: %s: %s: %s", e.Code, e.Field, e.Message)
	}
	return fmt.Sprintf("kiosk: %s: %s", e.Code, e.Message)
}

// Is reports whether target is an *Error with the same code, so that
// errors.Is(err, kiosk.ErrReaderBusy) matches any reader_busy error.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// Errors the service returns for requests; match them with errors.Is.
var (
	ErrInvalidRequest    = &Error{Code: CodeInvalidRequest, Message: "invalid request"}
	ErrNotFound          = &Error{Code: CodeNotFound, Message: "no read with this id"}
	ErrNotCancelable     = &Error{Code: CodeNotCancelable, Message: "the read is stored for a later upload and will be delivered; it can no longer be canceled"}
	ErrReaderBusy        = &Error{Code: CodeReaderBusy, Message: "the reader is busy with another read; wait for it to finish or cancel it", Retryable: true}
	ErrReaderNotFound    = &Error{Code: CodeReaderNotFound, Message: "no such card reader is connected", Retryable: true}
	ErrPCSCUnavailable   = &Error{Code: CodePCSCUnavailable, Message: "the smart card service (pcscd) is not running", Retryable: true}
	ErrPCSCDenied        = &Error{Code: CodePCSCDenied, Message: "the smart card service refused the daemon: a polkit rule must allow its user org.debian.pcsc-lite.access_pcsc and access_card"}
	ErrUploadUnavailable = &Error{Code: CodeUploadUnavailable, Message: "the daemon has no API credentials: start it with the API key and secret, or read with \"upload\": false"}
	ErrShuttingDown      = &Error{Code: CodeShuttingDown, Message: "the daemon is stopping", Retryable: true}
)

// invalid returns an invalid_request error naming field.
func invalid(field, format string, a ...any) *Error {
	return &Error{Code: CodeInvalidRequest, Field: field, Message: fmt.Sprintf(format, a...)}
}

// readFailure describes why a read failed, from the error of the card
// phase. The cases are ordered from the most specific cause.
func readFailure(err error) *Error {
	switch {
	case errors.Is(err, errCardTimeout):
		return &Error{Code: CodeCardTimeout, Message: "no passport was placed on the reader in time", Retryable: true}
	case errors.Is(err, errNotBack):
		return &Error{Code: CodeCardRemoved, Message: "the passport was taken off the reader during the read and not put back in time", Retryable: true}
	case errors.Is(err, errReadTimeout):
		return &Error{Code: CodeReadTimeout, Message: "the chip did not finish in time; hold the passport still on the reader and try again", Retryable: true}
	}
	code, retryable, ok := failureCode(err)
	if !ok {
		return &Error{Code: CodeInternal, Message: "the read failed unexpectedly; see the daemon log", Retryable: true}
	}
	msg, _ := mrtd.Advice(err)
	if m, ok := reader.Advice(err); ok && msg == "" {
		msg = m
	}
	return &Error{Code: code, Message: msg, Retryable: retryable}
}

// failureCode maps a read failure of mrtd or reader to its API code; the
// words are theirs ([mrtd.Advice], [reader.Advice]).
func failureCode(err error) (Code, bool, bool) {
	switch {
	case errors.Is(err, mrtd.ErrAccessDenied):
		return CodeAccessDenied, false, true
	case errors.Is(err, mrtd.ErrNeedsPACE):
		return CodeNeedsPACE, false, true
	case errors.Is(err, mrtd.ErrReaderUnable):
		return CodeReaderUnable, false, true
	case errors.Is(err, mrtd.ErrNeedsMRZ):
		return CodeNeedsMRZ, false, true
	case errors.Is(err, mrtd.ErrUnsupported):
		return CodeUnsupported, false, true
	case errors.Is(err, mrtd.ErrNoApplication):
		return CodeNotAPassport, false, true
	case errors.Is(err, reader.ErrNoService):
		return CodePCSCUnavailable, true, true
	case errors.Is(err, reader.ErrAccessDenied):
		return CodePCSCDenied, false, true
	case errors.Is(err, reader.ErrReaderBusy):
		return CodeReaderBusy, true, true
	case errors.Is(err, reader.ErrReaderGone), errors.Is(err, reader.ErrNoReaders):
		return CodeReaderNotFound, true, true
	case errors.Is(err, reader.ErrCardRemoved), errors.Is(err, reader.ErrNoCard):
		return CodeCardRemoved, true, true
	case errors.Is(err, reader.ErrCommunication), errors.Is(err, mrtd.ErrSecureMessaging):
		return CodeCommunication, true, true
	case errors.Is(err, mrtd.ErrChip):
		return CodeChipError, true, true
	}
	return "", false, false
}

// integrityFailure is the failure of a read whose data groups do not match
// EF.SOD.
func integrityFailure() *Error {
	return &Error{Code: CodeIntegrity, Message: "the data read does not match the document's security object (EF.SOD); read it again, and if it fails again treat the document as suspect", Retryable: true}
}

// notAuthentic is the error of a read whose checks prove the document
// forged or cloned (strict policy): nothing was uploaded.
func notAuthentic(p *mrtd.AuthenticityError) *Error {
	if p.Check == "passive" && p.Reason == mrtd.ReasonHashes {
		return integrityFailure()
	}
	msg, _ := mrtd.Advice(p)
	return &Error{Code: CodeNotAuthentic, Message: msg + "; nothing was uploaded", Retryable: false}
}

// interrupted is the error of a read that was under way when the daemon
// stopped without a chance to finish it (a crash, SIGKILL, power loss).
func interrupted() *Error {
	return &Error{Code: CodeInterrupted, Message: "the daemon stopped before the chip was read completely; nothing of the document was kept: read it again", Retryable: true}
}

// canceled is the error of a canceled read.
func canceled(cause error) *Error {
	if errors.Is(cause, errShutdown) {
		return &Error{Code: CodeCanceled, Message: "the daemon stopped during the read", Retryable: true}
	}
	return &Error{Code: CodeCanceled, Message: "the read was canceled", Retryable: true}
}

// uploadFailure describes a failed upload. The caller has ruled out
// retryable failures it could queue.
func uploadFailure(err error) *Error {
	var size *upload.SizeError
	switch {
	case errors.Is(err, upload.ErrUnauthorized):
		return &Error{Code: CodeUploadUnauthorized, Message: "the vendor refused the daemon's API key or signature: check its credentials"}
	case errors.Is(err, upload.ErrSessionNotFound):
		return &Error{Code: CodeSessionNotFound, Message: "the vendor does not know this session"}
	case errors.Is(err, upload.ErrSessionSubmitted):
		return &Error{Code: CodeSessionSubmitted, Message: "the session was already submitted; start a new session"}
	case errors.Is(err, outbox.ErrUnconfirmed):
		return &Error{Code: CodeUploadUnconfirmed, Message: "the daemon stopped while the upload was being sent, so whether the vendor stored it is unknown; it is not sent twice: check the session, and read the document again if the upload is missing"}
	case errors.Is(err, upload.ErrResponseSignature), errors.Is(err, upload.ErrMalformedResponse):
		return &Error{Code: CodeUploadUnconfirmed, Message: "the vendor accepted the upload but its answer could not be verified; check the session before uploading again"}
	case errors.As(err, &size):
		return &Error{Code: CodeUploadRejected, Message: fmt.Sprintf("the document data is larger than the vendor accepts (%d of %d bytes)", size.Size, size.Limit)}
	case errors.Is(err, upload.ErrRejected), errors.Is(err, upload.ErrNFCFormat), isPermanentAPIError(err):
		return &Error{Code: CodeUploadRejected, Message: "the vendor rejected the document data: " + apiMessage(err)}
	case errors.Is(err, errUploadExpired):
		return &Error{Code: CodeUploadExpired, Message: "the upload could not be delivered before its retention time ran out and was dropped"}
	}
	return &Error{Code: CodeUploadFailed, Message: "the vendor could not be reached; nothing was stored, read the document again", Retryable: true}
}

// deliverable reports whether an upload error may go away by itself
// (network errors, timeouts, 5xx, 429), so the upload is worth queueing.
// Checks of the request and answers of the vendor that will not change are
// not; neither is a response after which the vendor may have stored the
// data.
func deliverable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	if e, ok := errors.AsType[*upload.APIError](err); ok {
		return e.Retryable
	}
	for _, permanent := range []error{
		upload.ErrResponseSignature, upload.ErrMalformedResponse, upload.ErrNFCFormat,
		upload.ErrInvalidSessionID, upload.ErrNoCredentials, upload.ErrConfig, upload.ErrInsecureURL,
	} {
		if errors.Is(err, permanent) {
			return false
		}
	}
	_, tooBig := errors.AsType[*upload.SizeError](err)
	return !tooBig
}

func isPermanentAPIError(err error) bool {
	e, ok := errors.AsType[*upload.APIError](err)
	return ok && !e.Retryable
}

// apiMessage is the vendor's own explanation, which names fields and never
// holds the uploaded data.
func apiMessage(err error) string {
	if e, ok := errors.AsType[*upload.APIError](err); ok {
		return e.Error()
	}
	return "the files did not pass the local checks"
}

// Internal causes of read failures.
var (
	errCardTimeout   = errors.New("no card in time")
	errNotBack       = errors.New("card not put back in time")
	errReadTimeout   = errors.New("read took too long")
	errShutdown      = errors.New("daemon shutting down")
	errUserCancel    = errors.New("canceled by the client")
	errUploadExpired = errors.New("upload expired in the outbox")
)
