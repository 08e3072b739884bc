package mrtd

import (
	"errors"
	"fmt"

	"github.com/nfcbridge/nfcbridge/icao"
)

// Outcomes of the EF.SOD signature check, in [Document.SODSignature].
const (
	// SignatureValid: the signature verifies with the document signer
	// certificate inside EF.SOD. Whether that certificate chains to a
	// trusted CSCA (passive authentication, 9303-11 §5.1) is not checked.
	SignatureValid = "valid"
	// SignatureInvalid: the signature does not verify; the data may have
	// been altered.
	SignatureInvalid = "invalid"
	// SignatureUnchecked: the algorithm or curve (brainpool, explicit
	// parameters) is not supported here, or EF.SOD holds no certificate.
	SignatureUnchecked = "not checked"
)

// parse decodes the files read and checks the data groups against EF.SOD.
// The raw bytes stay in Files whatever happens here: a read is never lost
// because a file does not parse.
func (d *Document) parse() error {
	var err error
	if b, ok := d.Files[icao.EFCOM]; ok {
		if d.COM, err = icao.ParseCOM(b); err != nil {
			return &Error{Class: ErrChip, Step: "parse EF.COM", File: icao.EFCOM, Err: err}
		}
	}
	if b, ok := d.Files[icao.EFDG1]; ok {
		if d.DG1, err = icao.ParseDG1(b); err != nil {
			return &Error{Class: ErrChip, Step: "parse DG1", File: icao.EFDG1, Err: err}
		}
	}
	if b, ok := d.Files[icao.EFDG2]; ok {
		if d.DG2, err = icao.ParseDG2(b); err != nil {
			return &Error{Class: ErrChip, Step: "parse DG2", File: icao.EFDG2, Err: err}
		}
	}
	b, ok := d.Files[icao.EFSOD]
	if !ok {
		return nil
	}
	if d.SOD, err = icao.ParseSOD(b); err != nil {
		return &Error{Class: ErrChip, Step: "parse EF.SOD", File: icao.EFSOD, Err: err}
	}
	d.SODSignature = SignatureValid
	if _, err := d.SOD.VerifySignature(); errors.Is(err, icao.ErrSignature) {
		d.SODSignature = SignatureInvalid
	} else if err != nil {
		d.SODSignature = SignatureUnchecked
	}
	d.HashCheck = map[icao.EF]error{}
	for f, content := range d.Files {
		if n := f.DataGroup(); n != 0 {
			if err := d.SOD.Check(n, content); err != nil {
				d.HashCheck[f] = fmt.Errorf("%v: %w", f, err)
			} else {
				d.HashCheck[f] = nil
			}
		}
	}
	return nil
}
