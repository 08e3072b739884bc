package reader

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/ebfe/scard"
)

func TestClassify(t *testing.T) {
	all := []phase{phaseService, phaseConnect, phaseCard}
	tests := []struct {
		code   scard.Error
		phases []phase
		want   error // nil: left unclassified
	}{
		{scard.ErrNoService, all, ErrNoService},
		{scard.ErrServiceStopped, all, ErrNoService},
		{scard.ErrCommError, all, ErrNoService},
		{scard.ErrInvalidHandle, all, ErrNoService},
		{scard.ErrShutdown, all, ErrNoService},
		{scard.ErrSystemCancelled, all, ErrNoService},
		{scard.ErrSecurityViolation, all, ErrAccessDenied},
		{scard.ErrTimeout, all, ErrTimeout},
		{scard.ErrCancelled, all, ErrCanceled},
		{scard.ErrSharingViolation, all, ErrReaderBusy},
		{scard.ErrUnknownReader, all, ErrReaderGone},
		{scard.ErrReaderUnavailable, all, ErrReaderGone},
		{scard.ErrNoReadersAvailable, []phase{phaseService}, ErrNoReaders},
		{scard.ErrNoReadersAvailable, []phase{phaseConnect, phaseCard}, ErrReaderGone},
		{scard.ErrNoSmartcard, []phase{phaseConnect}, ErrNoCard},
		{scard.ErrNoSmartcard, []phase{phaseService, phaseCard}, ErrCardRemoved},
		{scard.ErrRemovedCard, all, ErrCardRemoved},
		{scard.ErrResetCard, all, ErrCardRemoved},
		{scard.ErrNotTransacted, all, ErrCommunication},
		{scard.ErrCommDataLost, all, ErrCommunication},
		{scard.ErrUnresponsiveCard, all, ErrCommunication},
		{scard.ErrUnpoweredCard, all, ErrCommunication},
		{scard.ErrUnsupportedCard, all, ErrCommunication},
		{scard.ErrCardUnsupported, all, ErrCommunication},
		{scard.ErrProtoMismatch, all, ErrCommunication},
		{scard.ErrInvalidAtr, all, ErrCommunication},
		{scard.ErrInvalidParameter, all, nil},
		{scard.ErrInvalidValue, all, nil},
		{scard.ErrInsufficientBuffer, all, nil},
		{scard.ErrInternalError, all, nil},
		{scard.ErrUnsupportedFeature, all, nil},
		{scard.Error(0x80100099), all, nil},
	}
	sentinels := []error{ErrNoService, ErrAccessDenied, ErrNoReaders, ErrReaderGone, ErrNoCard,
		ErrCardRemoved, ErrCommunication, ErrTimeout, ErrReaderBusy, ErrCanceled, ErrClosed}
	for _, tc := range tests {
		for _, ph := range tc.phases {
			t.Run(strings.ReplaceAll(tc.code.Error(), " ", "_")+"/"+[]string{"service", "connect", "card"}[ph], func(t *testing.T) {
				err := fail("transmit", ph, tc.code)
				for _, s := range sentinels {
					assert.Equal(t, s == tc.want, errors.Is(err, s), "errors.Is(%v, %v)", err, s)
				}
				var code scard.Error
				if assert.ErrorAs(t, err, &code) {
					assert.Equal(t, tc.code, code, "errors.As scard.Error")
				}
				assert.True(t, strings.HasPrefix(err.Error(), "reader: transmit: "), "message %q lacks the operation", err)
				assert.Contains(t, err.Error(), "[0x80", "message lacks the PC/SC code")
			})
		}
	}
}

func TestErrorMessages(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
		is   []error
	}{
		{
			name: "classified",
			err:  fail("transmit", phaseCard, scard.ErrRemovedCard),
			want: "reader: transmit: card removed: " + scard.ErrRemovedCard.Error() + " [0x80100069]",
			is:   []error{ErrCardRemoved, scard.ErrRemovedCard},
		},
		{
			name: "not a PC/SC error",
			err:  fail("transmit", phaseCard, errShortResponse),
			want: "reader: transmit: response shorter than a status word",
			is:   []error{errShortResponse},
		},
		{
			name: "canceled while no reader",
			err:  canceled("wait for card", context.DeadlineExceeded, ErrNoReaders, nil),
			want: "reader: wait for card: canceled: no readers: context deadline exceeded",
			is:   []error{ErrCanceled, ErrNoReaders, context.DeadlineExceeded},
		},
		{
			name: "kind with cause",
			err:  failKind("transmit", ErrCardRemoved, scard.ErrNotTransacted),
			want: "reader: transmit: card removed: " + scard.ErrNotTransacted.Error() + " [0x80100016]",
			is:   []error{ErrCardRemoved, scard.ErrNotTransacted},
		},
		{
			name: "closed",
			err:  failKind("connect", ErrClosed, nil),
			want: "reader: connect: use of closed connection",
			is:   []error{ErrClosed},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.EqualError(t, tc.err, tc.want)
			for _, target := range tc.is {
				assert.ErrorIs(t, tc.err, target)
			}
		})
	}
	assert.Contains(t, ErrAccessDenied.Error(), "polkit", "ErrAccessDenied wants a hint about polkit")
}

func TestStale(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{scard.ErrNoService, true},
		{scard.ErrInvalidHandle, true},
		{scard.ErrCommError, true},
		{scard.ErrRemovedCard, false},
		{errors.New("other"), false},
	} {
		assert.Equal(t, tc.want, stale(tc.err), "stale(%v)", tc.err)
	}
}
