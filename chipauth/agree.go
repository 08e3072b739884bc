package chipauth

import (
	"errors"
	"fmt"
	"io"
	"math/big"

	"github.com/nfcbridge/nfcbridge/group"
	"github.com/nfcbridge/nfcbridge/sm"
)

// errRandom wraps a failing or exhausted random source.
var errRandom = errors.New("chipauth: random source")

// ephemeral is the terminal's key pair of one run.
type ephemeral struct {
	sk  *big.Int
	pub []byte // what goes in DO'91' or DO'80'
}

// newEphemeral draws the terminal's ephemeral key pair on the key's domain
// parameters (9303-11 §6.2.1 step 2).
func (k Key) newEphemeral(r io.Reader) (ephemeral, error) {
	if k.curve != nil {
		pr := k.curve.Params()
		sk, err := randScalar(r, pr.N)
		if err != nil {
			return ephemeral{}, err
		}
		return ephemeral{sk: sk, pub: k.curve.Marshal(k.curve.ScalarBaseMult(sk))}, nil
	}
	sk, err := randScalar(r, k.dh.Q())
	if err != nil {
		return ephemeral{}, err
	}
	// The public value as an unsigned integer without leading zeros
	// (9303-11 §9.4.1).
	return ephemeral{sk: sk, pub: new(big.Int).Exp(k.dh.G(), sk, k.dh.P()).Bytes()}, nil
}

// sharedSecret computes K = KA(SK_IFD, PK_IC) (9303-11 §6.2.1 step 3): the
// x-coordinate of sk·PK_IC for ECDH (TR-03111 §4.3.1), PK_IC^sk mod p as an
// octet string of the length of p for DH (PKCS #3 §8.1).
func (k Key) sharedSecret(sk *big.Int) ([]byte, error) {
	if k.curve != nil {
		pt, err := k.curve.Unmarshal(k.pub)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalidKey, err)
		}
		z := k.curve.ScalarMult(pt, sk)
		if z.Infinity() {
			return nil, fmt.Errorf("%w: shared point is infinity", ErrInvalidKey)
		}
		return k.curve.FieldBytes(z.X), nil
	}
	y := new(big.Int).SetBytes(k.pub)
	return new(big.Int).Exp(y, sk, k.dh.P()).FillBytes(make([]byte, k.dh.Size())), nil
}

// SessionKeys derives KSenc = KDF(K, 1) and KSmac = KDF(K, 2) from the
// shared secret K for the protocol's cipher (9303-11 §9.7.1), for the
// terminal and the card side alike; the send sequence counter restarts at
// zero (§6.2.1 step 4, §9.8.6.3).
func SessionKeys(c Cipher, secret []byte) (sm.Keys, error) {
	enc, err := sm.DeriveKey(c.Suite(), c.KeyLength(), secret, sm.KeyEnc)
	if err != nil {
		return sm.Keys{}, err
	}
	mac, err := sm.DeriveKey(c.Suite(), c.KeyLength(), secret, sm.KeyMAC)
	if err != nil {
		return sm.Keys{}, err
	}
	return sm.Keys{Suite: c.Suite(), Enc: enc, MAC: mac}, nil
}

// randScalar is group.RandomScalar with this package's error.
func randScalar(r io.Reader, n *big.Int) (*big.Int, error) {
	k, err := group.RandomScalar(r, n)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errRandom, err)
	}
	return k, nil
}
