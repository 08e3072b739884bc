package group

import "math/big"

// dhSpec holds the constants of one standardized MODP group as hex text.
type dhSpec struct {
	id      int
	name    string
	p, g, q string
}

// dhSpecs are the finite-field groups of 9303-11 §9.5.1 (table 12,
// parameter IDs 0–2): the RFC 5114 §2.1–2.3 MODP groups with prime-order
// subgroups, taken from OpenSSL's built-in copies. TestDHGroups checks that
// p and q are prime, q divides p−1 and g has order q.
var dhSpecs = [...]dhSpec{
	{
		id: 0, name: "MODP-1024-160",
		p: "b10b8f96a080e01dde92de5eae5d54ec52c99fbcfb06a3c69a6a9dca52d23b61" +
			"6073e28675a23d189838ef1e2ee652c013ecb4aea906112324975c3cd49b83bf" +
			"accbdd7d90c4bd7098488e9c219a73724effd6fae5644738faa31a4ff55bccc0" +
			"a151af5f0dc8b4bd45bf37df365c1a65e68cfda76d4da708df1fb2bc2e4a4371",
		g: "a4d1cbd5c3fd34126765a442efb99905f8104dd258ac507fd6406cff14266d31" +
			"266fea1e5c41564b777e690f5504f213160217b4b01b886a5e91547f9e2749f4" +
			"d7fbd7d3b9a92ee1909d0d2263f80a76a6a24c087a091f531dbf0a0169b6a28a" +
			"d662a4d18e73afa32d779d5918d08bc8858f4dcef97c2a24855e6eeb22b3b2e5",
		q: "f518aa8781a8df278aba4e7d64b7cb9d49462353",
	},
	{
		id: 1, name: "MODP-2048-224",
		p: "ad107e1e9123a9d0d660faa79559c51fa20d64e5683b9fd1b54b1597b61d0a75" +
			"e6fa141df95a56dbaf9a3c407ba1df15eb3d688a309c180e1de6b85a1274a0a6" +
			"6d3f8152ad6ac2129037c9edefda4df8d91e8fef55b7394b7ad5b7d0b6c12207" +
			"c9f98d11ed34dbf6c6ba0b2c8bbc27be6a00e0a0b9c49708b3bf8a3170918836" +
			"81286130bc8985db1602e714415d9330278273c7de31efdc7310f7121fd5a074" +
			"15987d9adc0a486dcdf93acc44328387315d75e198c641a480cd86a1b9e587e8" +
			"be60e69cc928b2b9c52172e413042e9b23f10b0e16e79763c9b53dcf4ba80a29" +
			"e3fb73c16b8e75b97ef363e2ffa31f71cf9de5384e71b81c0ac4dffe0c10e64f",
		g: "ac4032ef4f2d9ae39df30b5c8ffdac506cdebe7b89998caf74866a08cfe4ffe3" +
			"a6824a4e10b9a6f0dd921f01a70c4afaab739d7700c29f52c57db17c620a8652" +
			"be5e9001a8d66ad7c17669101999024af4d027275ac1348bb8a762d0521bc98a" +
			"e247150422ea1ed409939d54da7460cdb5f6c6b250717cbef180eb34118e98d1" +
			"19529a45d6f834566e3025e316a330efbb77a86f0c1ab15b051ae3d428c8f8ac" +
			"b70a8137150b8eeb10e183edd19963ddd9e263e4770589ef6aa21e7f5f2ff381" +
			"b539cce3409d13cd566afbb48d6c019181e1bcfe94b30269edfe72fe9b6aa4bd" +
			"7b5a0f1c71cfff4c19c418e1f6ec017981bc087f2a7065b384b890d3191f2bfa",
		q: "801c0d34c58d93fe997177101f80535a4738cebcbf389a99b36371eb",
	},
	{
		id: 2, name: "MODP-2048-256",
		p: "87a8e61db4b6663cffbbd19c651959998ceef608660dd0f25d2ceed4435e3b00" +
			"e00df8f1d61957d4faf7df4561b2aa3016c3d91134096faa3bf4296d830e9a7c" +
			"209e0c6497517abd5a8a9d306bcf67ed91f9e6725b4758c022e0b1ef4275bf7b" +
			"6c5bfc11d45f9088b941f54eb1e59bb8bc39a0bf12307f5c4fdb70c581b23f76" +
			"b63acae1caa6b7902d52526735488a0ef13c6d9a51bfa4ab3ad8347796524d8e" +
			"f6a167b5a41825d967e144e5140564251ccacb83e6b486f6b3ca3f7971506026" +
			"c0b857f689962856ded4010abd0be621c3a3960a54e710c375f26375d7014103" +
			"a4b54330c198af126116d2276e11715f693877fad7ef09cadb094ae91e1a1597",
		g: "3fb32c9b73134d0b2e77506660edbd484ca7b18f21ef205407f4793a1a0ba125" +
			"10dbc15077be463fff4fed4aac0bb555be3a6c1b0c6b47b1bc3773bf7e8c6f62" +
			"901228f8c28cbb18a55ae31341000a650196f931c77a57f2ddf463e5e9ec144b" +
			"777de62aaab8a8628ac376d282d6ed3864e67982428ebc831d14348f6f2f9193" +
			"b5045af2767164e1dfc967c1fb3f2e55a4bd1bffe83b9c80d052b985d182ea0a" +
			"db2a3b7313d3fe14c8484b1e052588b9b7d2bbd2df016199ecd06e1557cd0915" +
			"b3353bbb64e0ec377fd028370df92b52c7891428cdc67eb6184b523d1db246c3" +
			"2f63078490f00ef8d647d148d47954515e2327cfef98c582664b4c0f6cc41659",
		q: "8cf83642a709a097b447997640129da299b1a47d1eb3750ba308b0fe64f5fbd3",
	}}

// DH is a standardized prime-order subgroup of GF(p)* with generator g of
// order q (RFC 5114 §2), for PACE and Chip Authentication with DH (9303-11
// §4.4.3.1, §6.2; PKCS #3). A DH is immutable.
type DH struct {
	id      int
	name    string
	p, g, q *big.Int
}

// DHByID returns the group with the standardized domain parameter ID of
// 9303-11 §9.5.1, table 12 (0–2).
func DHByID(id int) (*DH, bool) {
	for i := range dhSpecs {
		if s := &dhSpecs[i]; s.id == id {
			return &DH{id: s.id, name: s.name, p: hexInt(s.p), g: hexInt(s.g), q: hexInt(s.q)}, true
		}
	}
	return nil, false
}

// MatchDH returns the standardized group whose explicit DomainParameters
// (ANSI X9.42, RFC 3279 §2.3.3) are exactly p, g and q; any other group is
// not found, since 9303-11 §9.2.2 forbids parameters not known to be
// secure.
func MatchDH(p, g, q *big.Int) (*DH, bool) {
	if p == nil || g == nil || q == nil {
		return nil, false
	}
	for i := range dhSpecs {
		d, _ := DHByID(dhSpecs[i].id)
		if d.p.Cmp(p) == 0 && d.g.Cmp(g) == 0 && d.q.Cmp(q) == 0 {
			return d, true
		}
	}
	return nil, false
}

// ID returns the standardized domain parameter ID of 9303-11 §9.5.1.
func (d *DH) ID() int { return d.id }

// Name returns the group's name, "MODP-1024-160" and so on.
func (d *DH) Name() string { return d.name }

// String returns the group's name.
func (d *DH) String() string { return d.name }

// P returns a copy of the prime modulus.
func (d *DH) P() *big.Int { return new(big.Int).Set(d.p) }

// G returns a copy of the generator.
func (d *DH) G() *big.Int { return new(big.Int).Set(d.g) }

// Q returns a copy of the order of the subgroup that G generates.
func (d *DH) Q() *big.Int { return new(big.Int).Set(d.q) }

// Size returns the length of p in bytes, that of a public value or shared
// secret (PKCS #3 §8.1).
func (d *DH) Size() int { return (d.p.BitLen() + 7) / 8 }
