package mrtd

import (
	"context"
	"crypto"
	"errors"
	"fmt"

	"github.com/nfcbridge/nfcbridge/activeauth"
	"github.com/nfcbridge/nfcbridge/chipauth"
	"github.com/nfcbridge/nfcbridge/icao"
	"github.com/nfcbridge/nfcbridge/pace"
)

// caKey chooses the Chip Authentication key: the strongest of DG14, else
// of EF.CardSecurity (9303-11 §6.2). When there is none it returns the
// check to record instead: not offered, or unsupported when the chip has
// keys only on domain parameters chipauth does not run.
func (r *run) caKey() (chipauth.Key, ChipCheck, bool) {
	sources := []struct {
		f     icao.EF
		parse func([]byte) (*pace.SecurityInfos, error)
	}{{icao.EFDG14, pace.ParseDG14}, {icao.EFCardSecurity, cardSecurityInfos}}
	unusable := false
	for _, s := range sources {
		b, ok := r.doc.Files[s.f]
		if !ok {
			continue
		}
		infos, err := s.parse(b)
		if err != nil {
			continue
		}
		if key, err := chipauth.Choose(infos); err == nil {
			return key, ChipCheck{Method: MethodCA, Protocol: key.Protocol, KeyID: key.KeyID, Inferred: key.Inferred, Source: s.f}, true
		}
		unusable = unusable || len(infos.ChipKeys) > 0
	}
	if unusable {
		return chipauth.Key{}, ChipCheck{Outcome: Unsupported, KeyID: chipauth.NoKeyID, Reason: "no chip authentication key on standardized domain parameters"}, false
	}
	return chipauth.Key{}, ChipCheck{Outcome: NotOffered, KeyID: chipauth.NoKeyID}, false
}

// chipAuthDone reports whether the chip authentication step of the plan
// has nothing (more) to do: decided, or PACE-CAM, which [run.checkCAM]
// judges once the files are in.
func (r *run) chipAuthDone() bool {
	return r.cam != nil || r.doc.Authenticity.Chip.Outcome != ""
}

// chipAuth runs Chip Authentication once DG14 (or EF.CardSecurity) is in,
// before the other files, so that they travel under the new keys (9303-11
// §7.2, the inspection procedure, runs it right after access control).
// An error means the outcome is still open: the read re-authenticates and
// comes back here.
func (r *run) chipAuth(ctx context.Context) error {
	key, check, ok := r.caKey()
	if !ok {
		r.doc.Authenticity.Chip = check
		return nil
	}
	check, err := r.chipAuthenticate(ctx, key, check)
	if check.Outcome != "" {
		r.doc.Authenticity.Chip = check
	}
	return err
}

// chipAuthenticate runs CA with key and leaves a usable session: the new
// one, or after a failure a fresh access control without CA. When no
// answer verifies under the new keys it tries once more after a fresh
// access control, so that one corrupted frame does not read as a clone.
func (r *run) chipAuthenticate(ctx context.Context, key chipauth.Key, check ChipCheck) (ChipCheck, error) {
	for attempt := 1; ; attempt++ {
		got, lost, err := r.runCA(ctx, key, check)
		if err != nil {
			return ChipCheck{}, err
		}
		if !lost {
			return got, nil
		}
		if err := r.reopen(ctx); err != nil {
			return got, err
		}
		if got.Outcome != Failed || attempt == 2 {
			return got, nil
		}
	}
}

// runCA runs CA over the current session and switches to the new keys.
// The chip is authenticated by the first answer that verifies under them
// (9303-11 §6.2): a SELECT of the application, which every chip answers
// 9000 and which under secure messaging comes back protected. lost means
// the session is gone and access control must run again. An error leaves
// the outcome open.
func (r *run) runCA(ctx context.Context, key chipauth.Key, check ChipCheck) (ChipCheck, bool, error) {
	res, err := chipauth.Authenticate(ctx, r.session, key, &r.cfg.ChipAuth)
	switch {
	case errors.Is(err, icao.ErrReaderLimit):
		check.Outcome, check.Reason = Unsupported, "the reader cannot carry the extended-length APDUs chip authentication needs"
		return check, true, nil
	case err != nil && chipAnswered(err):
		// A chip whose signed DG14 offers CA and then refuses it cannot
		// be told from a clone that lacks the key.
		check.Outcome, check.Reason = Failed, fmt.Sprintf("the chip refused chip authentication (%v)", err)
		return check, false, nil
	case err != nil:
		return ChipCheck{}, false, err
	}
	r.session.Close()
	s, err := res.Session(r.card)
	if err != nil {
		return ChipCheck{}, true, err
	}
	r.session = s
	if r.fr != nil {
		r.fr.Transport = s
	}
	switch err := icao.SelectApplication(ctx, s); {
	case err == nil:
		check.Outcome = Passed
		return check, false, nil
	case errors.Is(err, icao.ErrSM) || isStatus(err):
		check.Outcome, check.Reason = Failed, "no answer verified under the chip authentication keys"
		return check, true, nil
	default:
		return ChipCheck{}, true, err
	}
}

// chipAnswered reports whether a chip authentication error is the chip's
// own answer (a status word or malformed data under intact secure
// messaging) rather than a broken session or transport.
func chipAnswered(err error) bool {
	return errors.Is(err, chipauth.ErrNotSupported) || errors.Is(err, chipauth.ErrMalformed) ||
		errors.Is(err, chipauth.ErrInvalidKey) || isStatus(err)
}

// isStatus reports a status word error other than a secure messaging one.
func isStatus(err error) bool {
	_, ok := errors.AsType[icao.StatusWord](err)
	return ok && !errors.Is(err, icao.ErrSM)
}

// reopen replaces a lost session with a fresh access control (and, when
// CA passed before, CA again).
func (r *run) reopen(ctx context.Context) error {
	if err := r.reset(ctx); err != nil {
		return err
	}
	if err := r.authenticate(ctx); err != nil {
		return err
	}
	if r.fr != nil {
		r.fr.Transport = r.session
	}
	return nil
}

// caAgain runs CA again after access control was repeated (a broken
// session, a card put back): the keys of a session that passed CA are
// gone with it (9303-11 §6.2). A chip that fails now is not the one that
// passed.
func (r *run) caAgain(ctx context.Context) error {
	c := r.doc.Authenticity.Chip
	if c.Outcome != Passed || c.Method != MethodCA {
		return nil
	}
	key, _, ok := r.caKey()
	if !ok {
		return nil
	}
	check, lost, err := r.runCA(ctx, key, c)
	if err != nil {
		return err
	}
	r.doc.Authenticity.Chip = check
	if lost {
		return r.reopen(ctx) // without CA: the outcome is no longer Passed
	}
	return nil
}

// activeAuth runs Active Authentication with the key of DG15 (9303-11
// §6.1), last, once every file is in: it does not change the session, and
// a reader that cannot carry its long response then costs no file. An
// error means the outcome is still open.
func (r *run) activeAuth(ctx context.Context) error {
	a := &r.doc.Authenticity.Active
	dg15, ok := r.doc.Files[icao.EFDG15]
	if !ok {
		*a = ActiveCheck{Outcome: NotOffered}
		return nil
	}
	pub, err := activeauth.ParseDG15(dg15)
	switch {
	case errors.Is(err, activeauth.ErrUnsupported):
		*a = ActiveCheck{Outcome: Unsupported, Reason: err.Error()}
		return nil
	case err != nil:
		*a = ActiveCheck{Outcome: Failed, Reason: err.Error()}
		return nil
	}
	res, err := activeauth.Authenticate(ctx, r.session, pub, r.aaHash(), &r.cfg.ActiveAuth)
	check := ActiveCheck{}
	if res != nil {
		check = ActiveCheck{Algorithm: res.Algorithm, Challenge: res.Challenge, Response: res.Response}
	}
	switch {
	case err == nil:
		check.Outcome = Passed
	case errors.Is(err, activeauth.ErrSignature) || errors.Is(err, activeauth.ErrMalformed) || isStatus(err):
		check.Outcome, check.Reason = Failed, err.Error()
	case errors.Is(err, activeauth.ErrUnsupported):
		check.Outcome, check.Reason = Unsupported, err.Error()
	case errors.Is(err, icao.ErrReaderLimit):
		check.Outcome, check.Reason = Unsupported, "the reader cannot carry the extended-length response active authentication needs"
	default:
		return err
	}
	*a = check
	return nil
}

// aaHash is the ECDSA hash DG14's ActiveAuthenticationInfo names, or 0
// (try each, activeauth.Verify) when it names none this reader knows.
func (r *run) aaHash() crypto.Hash {
	infos, err := pace.ParseDG14(r.doc.Files[icao.EFDG14])
	if err != nil || len(infos.ActiveAuth) == 0 {
		return 0
	}
	h, err := activeauth.HashForAlgorithm(infos.ActiveAuth[0].SignatureAlgorithm)
	if err != nil {
		return 0
	}
	return h
}
