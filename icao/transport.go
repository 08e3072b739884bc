package icao

import "context"

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
// answer is completed with GET RESPONSE.
func Exchange(ctx context.Context, t Transport, cmd Command) (Response, error) {
	raw, err := cmd.Marshal()
	if err != nil {
		return Response{}, err
	}
	var data []byte
	for range maxGetResponse {
		out, err := t.Transmit(ctx, raw)
		if err != nil {
			return Response{}, err
		}
		resp, err := ParseResponse(out)
		if err != nil {
			return Response{}, err
		}
		if resp.SW>>8 != 0x61 {
			if data != nil {
				resp.Data = append(data, resp.Data...)
			}
			return resp, resp.Err()
		}
		data = append(data, resp.Data...)
		ne := int(resp.SW & 0xff)
		if ne == 0 {
			ne = MaxShortNe
		}
		raw, _ = Command{CLA: cmd.CLA &^ 0x10, INS: InsGetResponse, Ne: ne}.Marshal()
	}
	return Response{}, ErrTooManyResponses
}

// maxGetResponse bounds the GET RESPONSE loop so that a chip answering 61xx
// forever cannot hang a read.
const maxGetResponse = 256
