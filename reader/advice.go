package reader

import "errors"

// Advice says, in one sentence for a kiosk operator, what a PC/SC failure
// means and what to do; ok is false when err is of no kind of this
// package. The daemon's API messages and the command line both use it.
func Advice(err error) (advice string, ok bool) {
	switch {
	case errors.Is(err, ErrAccessDenied):
		return "PC/SC access denied by polkit: install the nfcbridge polkit rule (60-nfcbridge.rules), which allows org.debian.pcsc-lite.access_pcsc and access_card", true
	case errors.Is(err, ErrNoService):
		return "the smart card service (pcscd) is not running: start it (systemctl start pcscd.socket)", true
	case errors.Is(err, ErrNoReaders), errors.Is(err, ErrReaderGone):
		return "no card reader: plug the reader in and check its USB cable", true
	case errors.Is(err, ErrReaderBusy):
		return "another program holds the card on this reader", true
	case errors.Is(err, ErrCardRemoved), errors.Is(err, ErrNoCard):
		return "the document left the reader during the read: place it again and hold it still", true
	case errors.Is(err, ErrCommunication):
		return "communication with the chip failed: hold the document still on the reader and try again", true
	}
	return "", false
}
