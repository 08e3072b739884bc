package vchip

import (
	"bytes"
	"fmt"

	"github.com/nfcbridge/nfcbridge/pace"
)

// paceFiles are the PACE parts of a specimen: nil for a BAC-only one.
type paceFiles struct {
	cardAccess []byte
	infos      [][]byte // SecurityInfos for DG14 and EF.CardSecurity besides the PACEInfos
	key        *ChipKey
}

// specimenPACE checks the PACE offers of cfg and builds EF.CardAccess,
// DG14 and, for CAM, the chip key.
func specimenPACE(cfg SpecimenConfig) (paceFiles, error) {
	if len(cfg.PACE) == 0 {
		if cfg.CAN != "" || cfg.ChipKey != nil {
			return paceFiles{}, fmt.Errorf("%w: a CAN or chip key needs PACE offers", ErrSpecimen)
		}
		return paceFiles{}, nil
	}
	if cfg.CAN != "" {
		if _, err := pace.CAN(cfg.CAN); err != nil {
			return paceFiles{}, fmt.Errorf("%w: %w", ErrSpecimen, err)
		}
	}
	camID, err := camCurve(cfg.PACE)
	if err != nil {
		return paceFiles{}, err
	}
	key := cfg.ChipKey
	var extra [][]byte
	switch {
	case camID == pace.NoParameterID && key != nil:
		return paceFiles{}, fmt.Errorf("%w: a chip key needs a PACE-CAM offer", ErrSpecimen)
	case camID == pace.NoParameterID:
	case key == nil:
		if key, err = GenerateChipKey(camID, cfg.Rand); err != nil {
			return paceFiles{}, fmt.Errorf("%w: %w", ErrSpecimen, err)
		}
	case key.ParameterID != camID:
		return paceFiles{}, fmt.Errorf("%w: chip key on domain parameters %d, PACE-CAM on %d", ErrSpecimen, key.ParameterID, camID)
	default:
		key = &ChipKey{ParameterID: key.ParameterID, Private: bytes.Clone(key.Private)}
	}
	if key != nil {
		pki, err := key.PublicKeyInfo()
		if err != nil {
			return paceFiles{}, fmt.Errorf("%w: %w", ErrSpecimen, err)
		}
		extra = append(extra, pki)
	}
	return paceFiles{cardAccess: pace.EncodeCardAccess(cfg.PACE), infos: extra, key: key}, nil
}

// camCurve checks that every offer is supported and returns the curve of
// the CAM offers, which share the one chip key, or NoParameterID when
// there are none.
func camCurve(infos []pace.Info) (int, error) {
	id := pace.NoParameterID
	for _, i := range infos {
		switch {
		case !i.Supported():
			return 0, fmt.Errorf("%w: %s is not a PACE protocol package pace runs", ErrSpecimen, FormatPACEInfo(i))
		case i.Mapping() != pace.ChipAuthenticationMapping:
		case id != pace.NoParameterID && id != i.ParameterID:
			return 0, fmt.Errorf("%w: PACE-CAM offers on two curves need two chip keys", ErrSpecimen)
		default:
			id = i.ParameterID
		}
	}
	return id, nil
}
