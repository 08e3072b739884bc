package kiosk

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/nfcbridge/nfcbridge/icao"
	"github.com/nfcbridge/nfcbridge/mrtd"
	"github.com/nfcbridge/nfcbridge/upload"
)

// ReadRequest is the body of POST /v1/reads. It holds the MRZ, so it has no
// String method, and fmt and slog print only what is not personal.
type ReadRequest struct {
	// SessionID is the vendor session (a UUID) the document is uploaded to.
	SessionID string `json:"sessionId"`
	// Reader is the PC/SC reader name; "" means the first free reader with
	// a card, else the first free reader.
	Reader string `json:"reader,omitempty"`
	// MRZ opens the chip (BAC, or PACE with the MRZ).
	MRZ MRZ `json:"mrz"`
	// CAN is the card access number printed on ID cards, for PACE.
	CAN string `json:"can,omitempty"`
	// Upload says whether to upload the document; nil means true.
	Upload *bool `json:"upload,omitempty"`
}

// LogValue keeps the MRZ and the CAN out of logs.
func (r ReadRequest) LogValue() slog.Value {
	return slog.GroupValue(slog.String("sessionId", r.SessionID), slog.String("reader", r.Reader), slog.Bool("upload", r.uploads()))
}

// Format keeps the MRZ and the CAN out of fmt output.
func (r ReadRequest) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "{sessionId:%s reader:%q upload:%t mrz:redacted}", r.SessionID, r.Reader, r.uploads())
}

func (r ReadRequest) uploads() bool { return r.Upload == nil || *r.Upload }

// MRZ is the machine readable zone as a kiosk sends it: either the printed
// lines as one JSON string (lines separated by newlines or spaces), or the
// three fields an OCR engine or a person types in.
type MRZ struct {
	Lines          string `json:"-"`
	DocumentNumber string `json:"documentNumber"`
	DateOfBirth    string `json:"dateOfBirth"`  // YYMMDD
	DateOfExpiry   string `json:"dateOfExpiry"` // YYMMDD
}

// UnmarshalJSON accepts a string (the printed lines) or an object with
// documentNumber, dateOfBirth and dateOfExpiry. Errors never echo the
// value.
func (m *MRZ) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		*m = MRZ{}
		return json.Unmarshal(b, &m.Lines)
	}
	type fields MRZ
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	var f fields
	if err := d.Decode(&f); err != nil {
		return invalid("mrz", "mrz must be a string of MRZ lines or an object with documentNumber, dateOfBirth and dateOfExpiry")
	}
	*m = MRZ(f)
	return nil
}

// LogValue keeps the MRZ out of logs.
func (MRZ) LogValue() slog.Value { return slog.StringValue("redacted") }

// Format keeps the MRZ out of fmt output.
func (MRZ) Format(f fmt.State, _ rune) { io.WriteString(f, "redacted") }

// key derives the access key; errors name the field, never the value.
func (m MRZ) key() (icao.AccessKey, error) {
	if m.Lines != "" {
		parsed, err := icao.ParseMRZ(strings.Join(strings.Fields(m.Lines), "\n"))
		if err != nil {
			return icao.AccessKey{}, mrzInvalid("mrz", err)
		}
		return parsed.AccessKey(), nil
	}
	if m.DocumentNumber == "" && m.DateOfBirth == "" && m.DateOfExpiry == "" {
		return icao.AccessKey{}, invalid("mrz", "mrz is required (unless can is given): the printed MRZ lines, or documentNumber, dateOfBirth and dateOfExpiry")
	}
	k, err := icao.NewAccessKey(m.DocumentNumber, m.DateOfBirth, m.DateOfExpiry)
	if err != nil {
		return icao.AccessKey{}, mrzInvalid("mrz", err)
	}
	return k, nil
}

// mrzInvalid turns an *icao.MRZError into an invalid_request error that
// names the field: "mrz.documentNumber", "mrz.dateOfBirth" … The MRZ error
// never holds a value.
func mrzInvalid(field string, err error) *Error {
	e, ok := errors.AsType[*icao.MRZError](err)
	if !ok {
		return invalid(field, "the MRZ is not valid")
	}
	if name := mrzField(e.Field); name != "" {
		field += "." + name
	}
	msg := e.Reason
	if e.Field != "" {
		msg = string(e.Field) + ": " + e.Reason
	}
	return invalid(field, "MRZ %s", msg)
}

// mrzField maps an icao.MRZError field to the API's name, "" for fields
// the request does not have on their own.
func mrzField(f icao.MRZField) string {
	switch f {
	case icao.FieldDocumentNumber:
		return "documentNumber"
	case icao.FieldDateOfBirth:
		return "dateOfBirth"
	case icao.FieldDateOfExpiry:
		return "dateOfExpiry"
	}
	return ""
}

// validate checks everything about r that can be checked without a reader
// and returns the access key.
func (r ReadRequest) validate() (mrtd.Key, error) {
	if r.SessionID == "" {
		return mrtd.Key{}, invalid("sessionId", "sessionId is required: the vendor session's UUID")
	}
	if err := upload.CheckSessionID(r.SessionID); err != nil {
		return mrtd.Key{}, invalid("sessionId", "sessionId must be a UUID like 01234567-89ab-cdef-0123-456789abcdef")
	}
	if r.CAN != "" && !isCAN(r.CAN) {
		return mrtd.Key{}, invalid("can", "can must be the 6 digits of the card access number")
	}
	if len(r.Reader) > 256 || strings.ContainsFunc(r.Reader, func(c rune) bool { return c < ' ' }) {
		return mrtd.Key{}, invalid("reader", "reader must be a reader name as GET /v1/readers lists it")
	}
	if r.CAN != "" && r.MRZ == (MRZ{}) {
		return mrtd.Key{CAN: r.CAN}, nil // ID cards: PACE with the CAN alone
	}
	k, err := r.MRZ.key()
	if err != nil {
		return mrtd.Key{}, err
	}
	return mrtd.Key{MRZ: k, CAN: r.CAN}, nil
}

func isCAN(s string) bool {
	if len(s) != 6 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
