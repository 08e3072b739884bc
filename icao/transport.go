package icao

import (
	"context"
	"fmt"
)

// Transport sends one command APDU and returns the response APDU (data
// followed by SW1 SW2). reader.Card, a secure messaging session and the
// virtual chip all satisfy it. Implementations must honour ctx.
type Transport interface {
	Transmit(ctx context.Context, capdu []byte) ([]byte, error)
}

// LeLimiter is an optional capability of a [Transport]: a secure messaging
// session reports the largest Le whose protected response still fits a
// short response APDU (231 under 3DES, 223 under AES; see 9303-11 §9.8).
type LeLimiter interface {
	MaxShortLe() int
}

// Exchange marshals cmd, sends it over t and parses the response. A status
// word other than 9000 is returned as a [StatusWord] error together with the
// response, whose data may still hold bytes (for example with 6282). A 61xx
// answer is completed with GET RESPONSE ([Collect]).
func Exchange(ctx context.Context, t Transport, cmd Command) (Response, error) {
	raw, err := cmd.Marshal()
	if err != nil {
		return Response{}, err
	}
	out, err := Collect(ctx, t, raw)
	if err != nil {
		return Response{}, err
	}
	resp, err := ParseResponse(out)
	if err != nil {
		return Response{}, err
	}
	return resp, resp.Err()
}

// Collect sends capdu over t and, while the chip answers 61xx, fetches the
// rest with GET RESPONSE (ISO/IEC 7816-4 §5.3.4), in plain and on the
// command's logical channel. It returns the whole response APDU: every
// piece of data followed by the last status word. A secure messaging layer
// calls it with the protected command, since the pieces together are the
// protected response.
func Collect(ctx context.Context, t Transport, capdu []byte) ([]byte, error) {
	if len(capdu) < 4 {
		return nil, fmt.Errorf("%w: a command APDU of %d bytes", ErrMalformedAPDU, len(capdu))
	}
	resp, err := t.Transmit(ctx, capdu)
	if err != nil {
		return nil, err
	}
	var acc []byte
	for i := 0; len(resp) >= 2 && resp[len(resp)-2] == 0x61; i++ {
		acc = append(acc, resp[:len(resp)-2]...)
		if i == maxGetResponse || len(acc) > MaxExtendedNe {
			return nil, ErrTooManyResponses
		}
		ne := int(resp[len(resp)-1])
		if ne == 0 {
			ne = MaxShortNe
		}
		// GET RESPONSE is plain and unchained: drop the SM and chaining bits.
		gr, _ := Command{CLA: capdu[0] &^ 0x1C, INS: InsGetResponse, Ne: ne}.Marshal()
		if resp, err = t.Transmit(ctx, gr); err != nil {
			return nil, err
		}
	}
	if acc == nil {
		return resp, nil
	}
	if len(resp) < 2 {
		return nil, fmt.Errorf("%w: GET RESPONSE answered without a status word", ErrMalformedAPDU)
	}
	return append(acc, resp...), nil
}

// maxGetResponse bounds the GET RESPONSE loop so that a chip answering 61xx
// forever cannot hang a read.
const maxGetResponse = 256

// LeFitter is an optional capability of a [Transport]: a secure messaging
// session reports the largest Ne whose protected response carries at most
// n data bytes (DO'87', or DO'85' after an odd INS, DO'99' and DO'8E';
// 9303-11 §9.8.5), so that a READ BINARY fills the chip's stated response
// buffer and no more.
type LeFitter interface {
	FitLe(n int, odd bool) int
}
