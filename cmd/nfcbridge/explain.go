package main

import (
	"context"
	"errors"

	"github.com/nfcbridge/nfcbridge/icao"
	"github.com/nfcbridge/nfcbridge/mrtd"
	"github.com/nfcbridge/nfcbridge/reader"
)

// explain turns an error into the one line a kiosk operator reads: what
// happened and what to do (the advice of mrtd, reader and upload, written
// there once), with the technical cause in parentheses.
func explain(err error) string {
	for _, advise := range []func(error) (string, bool){mrtd.Advice, reader.Advice, uploadAdvice, localAdvice} {
		if text, ok := advise(err); ok {
			return text + " (" + err.Error() + ")"
		}
	}
	return err.Error()
}

// localAdvice covers what the command line itself can run into.
func localAdvice(err error) (string, bool) {
	switch {
	case errors.Is(err, icao.ErrMRZ):
		return "the MRZ is not valid", true
	case errors.Is(err, context.DeadlineExceeded):
		return "timed out: no document was presented and read in time", true
	case errors.Is(err, context.Canceled):
		return "canceled", true
	}
	return "", false
}
