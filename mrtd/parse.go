package mrtd

import (
	"github.com/nfcbridge/nfcbridge/icao"
)

// parse decodes the files read ([CheckPassive] checks them against
// EF.SOD). The raw bytes stay in Files whatever happens here: a read is never lost
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
	return nil
}
