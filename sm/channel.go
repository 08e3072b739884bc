package sm

import (
	"crypto/aes"
	"crypto/subtle"
	"fmt"
)

// channel is the state both ends of secure messaging share: the suite, the
// session keys and the send sequence counter, all in fixed-size arrays
// (like crypto/tls's halfConn seq) so that clear can wipe them. Ciphers are
// built per message from the arrays instead of being kept around.
type channel struct {
	suite  Suite
	keyLen int
	enc    [32]byte
	mac    [32]byte
	ssc    [16]byte
}

func newChannel(k Keys) (channel, error) {
	if err := k.check(); err != nil {
		return channel{}, err
	}
	if len(k.Enc) != len(k.MAC) {
		return channel{}, fmt.Errorf("sm: encryption key of %d bytes and MAC key of %d bytes", len(k.Enc), len(k.MAC))
	}
	c := channel{suite: k.Suite, keyLen: len(k.Enc)}
	copy(c.enc[:], k.Enc)
	copy(c.mac[:], k.MAC)
	copy(c.ssc[:], k.SSC)
	return c, nil
}

func (c *channel) bs() int            { return c.suite.BlockSize() }
func (c *channel) encKey() []byte     { return c.enc[:c.keyLen] }
func (c *channel) macKey() []byte     { return c.mac[:c.keyLen] }
func (c *channel) counter() []byte    { return c.ssc[:c.bs()] }
func (c *channel) wipe()              { *c = channel{} }
func (c *channel) save() [16]byte     { return c.ssc }
func (c *channel) restore(s [16]byte) { c.ssc = s }

// incSSC adds one to the SSC, big-endian, byte by byte. It wraps around
// modulo 2^64 or 2^128 like the chip's counter; a chip-chosen start value
// near the top cannot make it fail.
func (c *channel) incSSC() {
	s := c.counter()
	for i := len(s) - 1; i >= 0; i-- {
		s[i]++
		if s[i] != 0 {
			return
		}
	}
}

// iv returns the CBC IV for the current SSC: zero for 3DES, E(KSenc, SSC)
// for AES (9303-11 §9.8.7.1).
func (c *channel) iv() ([]byte, error) {
	if c.suite != AES {
		return nil, nil
	}
	b, err := aes.NewCipher(c.encKey())
	if err != nil {
		return nil, err
	}
	iv := make([]byte, aes.BlockSize)
	b.Encrypt(iv, c.counter())
	return iv, nil
}

// encrypt pads plain and encrypts it under KSenc with the current SSC.
func (c *channel) encrypt(plain []byte) ([]byte, error) {
	iv, err := c.iv()
	if err != nil {
		return nil, err
	}
	p := Pad(plain, c.bs())
	defer clear(p)
	return EncryptCBC(c.suite, c.encKey(), iv, p)
}

// decrypt decrypts ct under KSenc with the current SSC and strips the
// padding.
func (c *channel) decrypt(ct []byte) ([]byte, error) {
	iv, err := c.iv()
	if err != nil {
		return nil, err
	}
	p, err := DecryptCBC(c.suite, c.encKey(), iv, ct)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return Unpad(p, c.bs())
}

// checksum returns the 8-byte MAC over pad(SSC ‖ data).
func (c *channel) checksum(data []byte) ([]byte, error) {
	n := make([]byte, 0, c.bs()+len(data))
	n = append(n, c.counter()...)
	n = append(n, data...)
	return Checksum(c.suite, c.macKey(), n)
}

// verify checks cc against the MAC over pad(SSC ‖ data) in constant time.
func (c *channel) verify(data, cc []byte) error {
	want, err := c.checksum(data)
	if err != nil {
		return err
	}
	if subtle.ConstantTimeCompare(want, cc) != 1 {
		return ErrMAC
	}
	return nil
}
