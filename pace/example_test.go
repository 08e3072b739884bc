package pace_test

import (
	"context"
	"fmt"
	"log"

	"github.com/nfcbridge/nfcbridge/icao"
	"github.com/nfcbridge/nfcbridge/pace"
	"github.com/nfcbridge/nfcbridge/sm"
)

// chip is an icao.Transport in front of a pace.Card, the way a virtual chip
// uses it: PACE commands go to the Card; once it hands over the session
// keys, commands are unwrapped with an sm.Card (here every command is
// answered with 9000).
type chip struct {
	pace *pace.Card
	sm   *sm.Card
}

func (c *chip) Transmit(_ context.Context, capdu []byte) ([]byte, error) {
	if c.sm != nil {
		if _, err := c.sm.Unwrap(capdu); err != nil {
			return icao.Response{SW: sm.CardStatus(err)}.Marshal(), nil
		}
		return c.sm.Wrap([]byte{0x90, 0x00})
	}
	cmd, err := icao.ParseCommand(capdu)
	if err != nil {
		return icao.Response{SW: icao.StatusWrongLength}.Marshal(), nil
	}
	resp, keys, err := c.pace.Handle(cmd)
	if err != nil {
		return nil, err
	}
	if keys != nil {
		if c.sm, err = sm.NewCard(*keys); err != nil {
			return nil, err
		}
	}
	return resp.Marshal(), nil
}

func Example() {
	// The chip side: an ID card offering PACE with its CAN.
	can, err := pace.CAN("123456")
	if err != nil {
		log.Fatal(err)
	}
	card, err := pace.NewCard(pace.CardConfig{Passwords: []pace.Password{can}, Infos: []pace.Info{
		{Protocol: []int{0, 4, 0, 127, 0, 7, 2, 2, 4, 2, 2}, Version: 2, ParameterID: 13}, // ECDH-GM-AES-128, brainpoolP256r1
		{Protocol: []int{0, 4, 0, 127, 0, 7, 2, 2, 4, 4, 4}, Version: 2, ParameterID: 18}, // ECDH-IM-AES-256, P-521
	}})
	if err != nil {
		log.Fatal(err)
	}
	cardAccess := pace.EncodeCardAccess([]pace.Info{
		{Protocol: []int{0, 4, 0, 127, 0, 7, 2, 2, 4, 2, 2}, Version: 2, ParameterID: 13},
		{Protocol: []int{0, 4, 0, 127, 0, 7, 2, 2, 4, 4, 4}, Version: 2, ParameterID: 18},
	})

	// The terminal side: parse EF.CardAccess, choose, run PACE.
	infos, err := pace.ParseCardAccess(cardAccess)
	if err != nil {
		log.Fatal(err)
	}
	info, ok := pace.Choose(infos.PACE)
	if !ok {
		log.Fatal("no supported PACE protocol: try BAC")
	}
	res, err := pace.Open(context.Background(), &chip{pace: card}, can, info, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer res.Session.Close()
	fmt.Println(res.Info, res.Domain)
	// Output: PACE-ECDH-GM-AES-128 brainpoolP256r1
}
