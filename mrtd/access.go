package mrtd

import (
	"context"
	"errors"
	"fmt"

	"github.com/nfcbridge/nfcbridge/bac"
	"github.com/nfcbridge/nfcbridge/chipauth"
	"github.com/nfcbridge/nfcbridge/icao"
	"github.com/nfcbridge/nfcbridge/pace"
	"github.com/nfcbridge/nfcbridge/sm"
)

// Access selects the access control protocol.
type Access int

// Access control policies. AccessAuto follows the chip access procedure
// of 9303-11 §4.2: PACE when EF.CardAccess offers it, else BAC; when PACE
// fails for a reason other than a wrong password, reset and use BAC.
const (
	AccessAuto Access = iota
	AccessBAC
	AccessPACE
)

// PACEDetails say how PACE was run, for summaries and logs.
type PACEDetails struct {
	Protocol  string `json:"protocol"`  // e.g. "PACE-ECDH-GM-AES-128"
	Mapping   string `json:"mapping"`   // "GM", "IM" or "CAM"
	Cipher    string `json:"cipher"`    // "AES" or "3DES"
	KeyLength int    `json:"keyLength"` // bits
	Domain    string `json:"domain"`    // e.g. "brainpoolP256r1"
	Password  string `json:"password"`  // "MRZ" or "CAN"
	// ChipAuthentication is the outcome of the CAM check against DG14:
	// CAMVerified, CAMFailed or CAMUnchecked; empty unless the mapping is
	// CAM.
	ChipAuthentication string `json:"chipAuthentication,omitempty"`
}

// authenticate performs access control, and Chip Authentication again
// when it passed before, and leaves r.session open on the selected eMRTD
// application.
func (r *run) authenticate(ctx context.Context) error {
	if err := r.accessControl(ctx); err != nil {
		return err
	}
	return r.caAgain(ctx)
}

// accessControl performs BAC or PACE and leaves r.session open on the
// selected eMRTD application.
func (r *run) accessControl(ctx context.Context) error {
	r.step(Authenticating)
	r.discoverATRInfo(ctx)
	if r.cfg.Access != AccessBAC {
		r.discoverPACE(ctx)
	}
	var paceErr error
	switch {
	case len(r.pace) > 0 && !r.paceFailed:
		paceErr = r.openPACE(ctx)
		if paceErr == nil || !r.fallBackToBAC(paceErr) {
			return paceErr
		}
		r.paceFailed = true
		r.doc.FallbackReason = fmt.Sprintf("PACE failed (%v)", paceErr)
		if err := r.reset(ctx); err != nil {
			return err
		}
	case r.cfg.Access == AccessPACE:
		return r.retryWithCardAccess(ctx, &Error{Class: ErrNeedsPACE, Step: "PACE", Err: errors.New("the chip offers no PACE protocol this reader supports")})
	case r.key.MRZ == (icao.AccessKey{}):
		return &Error{Class: ErrNeedsMRZ, Step: "BAC", Err: errors.New("the chip offers no PACE, and BAC needs the MRZ")}
	}
	err := r.openBAC(ctx)
	if paceErr != nil && errors.Is(err, ErrNeedsPACE) {
		return paceErr // no BAC to fall back to: what failed is PACE
	}
	if errors.Is(err, ErrNeedsPACE) || errors.Is(err, ErrAccessDenied) {
		return r.retryWithCardAccess(ctx, err)
	}
	return err
}

// retryWithCardAccess runs access control again when EF.CardAccess, in
// doubt after a 6A82 by short EF identifier, is there by file identifier;
// otherwise it returns failed, the error that made it look.
func (r *run) retryWithCardAccess(ctx context.Context, failed error) error {
	if !r.cardAccessDoubt {
		return failed
	}
	found, err := r.lookUpCardAccess(ctx)
	switch {
	case err != nil:
		return err
	case found:
		return r.accessControl(ctx)
	}
	return failed
}

// discoverPACE reads EF.CardAccess in plain, once per read. A chip
// without it (6A82) or that refuses it supports BAC only.
func (r *run) discoverPACE(ctx context.Context) {
	if r.cardAccessRead {
		return
	}
	r.cardAccessRead = true
	b, err := r.readCardAccess(ctx, false)
	if err != nil {
		r.cardAccessDoubt = errors.Is(err, icao.ErrNotFound) && r.mf.SFI != icao.SupportWorks && !r.doc.Chip.ShortEF()
		return
	}
	r.takeCardAccess(b)
}

// lookUpCardAccess looks for EF.CardAccess by file identifier on a chip
// that answered 6A82 to it by short EF identifier without being known to
// take them, once BAC was refused or the chip refused an SFI after all.
// Looking only then spares the SELECT on every BAC-only chip, the common
// case, while a chip that answers 6A82 to every SFI still gets PACE. The
// chip is reset first, which selects the master file where EF.CardAccess
// lives: some chips refuse SELECT MF (AndyQ/NFCPassportReader#106, #219).
func (r *run) lookUpCardAccess(ctx context.Context) (bool, error) {
	r.cardAccessDoubt = false
	if err := r.reset(ctx); err != nil {
		return false, err
	}
	b, err := r.readCardAccess(ctx, true)
	switch {
	case err != nil && isChipStatus(err):
		return false, nil // absent both ways: the BAC error stands
	case err != nil:
		return false, r.fail("read EF.CardAccess", icao.EFCardAccess, err)
	}
	r.takeCardAccess(b)
	return len(r.pace) > 0, nil
}

// readCardAccess reads EF.CardAccess in plain from the master file, by
// file identifier when byFID, and keeps what the reading learned.
func (r *run) readCardAccess(ctx context.Context, byFID bool) ([]byte, error) {
	fr := icao.NewFileReader(r.card, &icao.ReadConfig{Extended: icao.ExtendedNever, MaxFileSize: 64 << 10, Chip: r.doc.Chip, NoShortEF: byFID, Learned: r.mf})
	b, err := fr.Read(ctx, icao.EFCardAccess, nil)
	r.mf = fr.Learned()
	return b, err
}

// takeCardAccess keeps EF.CardAccess and its supported PACE offers.
func (r *run) takeCardAccess(b []byte) {
	infos, err := pace.ParseCardAccess(b)
	if err != nil {
		return
	}
	r.doc.Files[icao.EFCardAccess] = b
	for _, in := range infos.PACE {
		if in.Supported() {
			r.pace = append(r.pace, in)
		}
	}
}

// openPACE runs PACE with the strongest offer and selects the application
// under the new session.
func (r *run) openPACE(ctx context.Context) error {
	info, _ := pace.Choose(r.pace)
	pw, name, err := r.password()
	if err != nil {
		return &Error{Class: ErrAccessDenied, Step: "PACE", Err: err}
	}
	res, err := pace.Open(ctx, r.card, pw, info, &r.cfg.PACE)
	if err != nil {
		return &Error{Class: classifyPACE(err), Step: "PACE", Err: err}
	}
	r.session = res.Session
	r.cam = res.CAM
	r.doc.AccessControl = "PACE"
	r.doc.PACE = &PACEDetails{
		Protocol: info.String(), Mapping: info.Mapping().String(), Cipher: cipherName(info.Cipher()),
		KeyLength: info.KeyLength(), Domain: res.Domain, Password: name,
	}
	if err := r.readCardSecurity(ctx); err != nil {
		return r.fail("read EF.CardSecurity", icao.EFCardSecurity, err)
	}
	if err := icao.SelectApplication(ctx, r.session); err != nil {
		return r.fail("select application", 0, err)
	}
	return nil
}

// readCardSecurity reads EF.CardSecurity from the master file after PACE
// and before the application is selected (9303-11 §9.2.11: the PACE
// session grants access to it), once per read. Absent or refused is
// normal: only chips with PACE-CAM (or terminal authentication) must have
// it. Only a broken session is an error.
func (r *run) readCardSecurity(ctx context.Context) error {
	f := icao.EFCardSecurity
	if r.doc.Files[f] != nil || r.doc.absent[f] {
		return nil
	}
	fr := icao.NewFileReader(r.session, &icao.ReadConfig{Extended: icao.ExtendedNever, MaxFileSize: 64 << 10, Learned: r.mf})
	data, err := r.readFile(ctx, fr, f, r.doc.partial[f])
	switch {
	case err == nil:
		r.doc.Files[f] = data
		delete(r.doc.partial, f)
	case retryable(err) || !isChipStatus(err):
		r.doc.partial[f] = data
		return err
	default:
		r.doc.absent[f] = true
		delete(r.doc.partial, f)
	}
	return nil
}

// password returns the CAN when given, else the MRZ password.
func (r *run) password() (pace.Password, string, error) {
	if r.key.CAN != "" {
		pw, err := pace.CAN(r.key.CAN)
		return pw, "CAN", err
	}
	info := r.key.MRZ.Information()
	defer clear(info)
	return pace.MRZ(info), "MRZ", nil
}

// fallBackToBAC says whether a PACE failure lets BAC be tried: not after a
// wrong password (chips throttle; ICAO forbids looping), not when the card
// is gone, and only when there is an MRZ key for BAC.
func (r *run) fallBackToBAC(err error) bool {
	if r.cfg.Access == AccessPACE || r.key.MRZ == (icao.AccessKey{}) {
		return false
	}
	if errors.Is(err, ErrAccessDenied) {
		// 6300/63Cx, or a chip token that does not verify, is a wrong
		// password. Other refusals of the last step (6A80, 6982, 6985)
		// have come from chips whose MRZ was right (dmrtd#33, #36): one
		// BAC attempt settles it, and a wrong MRZ fails there too.
		sw, ok := errors.AsType[icao.StatusWord](err)
		return ok && !errors.Is(sw, icao.ErrAuthFailed)
	}
	return isChipStatus(err) || isPACEProtocol(err) || errors.Is(err, icao.ErrReaderLimit)
}

func isPACEProtocol(err error) bool {
	for _, e := range []error{pace.ErrNotSupported, pace.ErrMalformed, pace.ErrInvalidKey, pace.ErrCAM} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// reset ends whatever state the chip is in before another protocol: a
// card reset where the card can, else the next SELECT does it.
func (r *run) reset(ctx context.Context) error {
	r.closeSession()
	if rc, ok := r.raw.(Reconnector); ok {
		if err := rc.Reconnect(ctx); err != nil {
			return r.fail("reset", 0, err)
		}
	}
	return nil
}

// openBAC selects the application and performs BAC.
func (r *run) openBAC(ctx context.Context) error {
	if err := icao.SelectApplication(ctx, r.card); err != nil {
		if errors.Is(err, icao.ErrNotFound) {
			return &Error{Class: ErrNoApplication, Step: "select application", Err: err}
		}
		return r.fail("select application", 0, err)
	}
	info := r.key.MRZ.Information()
	defer clear(info)
	s, err := bac.Open(ctx, r.card, info, &r.cfg.BAC)
	if err != nil {
		return &Error{Class: classifyBAC(err), Step: "BAC", Err: err}
	}
	r.session = s
	r.doc.AccessControl = "BAC"
	return nil
}

func classifyPACE(err error) error {
	switch {
	case errors.Is(err, icao.ErrReaderLimit):
		return ErrReaderUnable
	case errors.Is(err, pace.ErrAccessDenied):
		return ErrAccessDenied
	case errors.Is(err, pace.ErrNotSupported):
		return ErrUnsupported
	case errors.Is(err, icao.ErrSM):
		return ErrSecureMessaging
	case isChipStatus(err) || isPACEProtocol(err):
		return ErrChip
	}
	return nil
}

func cipherName(s sm.Suite) string {
	if s == sm.TDES {
		return "3DES"
	}
	return "AES"
}

// checkCAM verifies the chip authentication data of PACE-CAM against the
// public key in DG14 (9303-11 §4.4.3.5.2), which [run.files] adds to the
// files read after PACE-CAM. The
// result counts only when DG14 is covered by EF.SOD: its hash must match
// and the EF.SOD signature must verify, or a clone could bring a DG14 of
// its own. It runs after the files are parsed and checked.
func (r *run) checkCAM() {
	d := r.doc
	if r.cam == nil || d.PACE == nil {
		return
	}
	c := r.camCheck()
	d.Authenticity.Chip = c
	d.PACE.ChipAuthentication = CAMUnchecked
	switch {
	case c.Outcome == Failed:
		d.PACE.ChipAuthentication = CAMFailed
	case c.Outcome != Passed || c.Source != icao.EFDG14:
	case !d.Authenticity.Passive.covers(icao.EFDG14):
		// The key matches a DG14 that EF.SOD does not vouch for.
	default:
		d.PACE.ChipAuthentication = CAMVerified
	}
}

// camCheck checks the PACE-CAM data against the chip's key in DG14, else
// in EF.CardSecurity (9303-11 §4.4.3.5.2).
func (r *run) camCheck() ChipCheck {
	c := ChipCheck{Method: MethodPACECAM, Outcome: NotRun, KeyID: chipauth.NoKeyID, Reason: "no PACE-CAM key in DG14 or EF.CardSecurity"}
	for _, f := range []icao.EF{icao.EFDG14, icao.EFCardSecurity} {
		b, ok := r.doc.Files[f]
		if !ok {
			continue
		}
		var infos *pace.SecurityInfos
		var err error
		if f == icao.EFDG14 {
			infos, err = pace.ParseDG14(b)
		} else {
			infos, err = cardSecurityInfos(b)
		}
		if err != nil {
			continue
		}
		switch err := r.cam.Verify(infos); {
		case errors.Is(err, pace.ErrCAM):
			c.Outcome, c.Source, c.Reason = Failed, f, "the PACE-CAM data does not match the chip's key"
			return c
		case err == nil:
			c.Outcome, c.Source, c.Reason = Passed, f, ""
			return c
		}
	}
	return c
}

// Outcomes of the PACE-CAM chip authentication, in
// [PACEDetails.ChipAuthentication].
const (
	CAMVerified  = "verified"    // the chip holds the key of a DG14 that EF.SOD signs
	CAMFailed    = "failed"      // the chip does not hold the DG14 key: a clone
	CAMUnchecked = "not checked" // no DG14, or DG14 not covered by a valid EF.SOD
)
