package vchip

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/nfcbridge/nfcbridge/pace"
)

// ErrPACEInfo is wrapped by the errors of [ParsePACEInfo].
var ErrPACEInfo = errors.New("vchip: invalid PACE protocol")

// paceArcs returns the arcs under id-PACE (9303-11 §9.2.3): the mappings
// DH-GM, ECDH-GM, DH-IM, ECDH-IM, ECDH-CAM and the ciphers 3DES, AES-128,
// AES-192, AES-256.
func paceArcs() (mappings, ciphers []int) { return []int{1, 2, 3, 4, 6}, []int{1, 2, 3, 4} }

// maxParameterID is the largest standardized domain parameter ID (9303-11
// §9.5.1, table 12: 0–2 MODP, 8–18 elliptic curves).
const maxParameterID = 18

// ParsePACEInfo parses a PACE protocol offer written as
// PROTOCOL/DOMAIN, for example "ECDH-GM-AES-128/brainpoolP256r1" or
// "DH-GM-AES-128/2": PROTOCOL is [pace.Info.String] with or without its
// "PACE-" prefix (ECDH-GM, ECDH-IM, ECDH-CAM, DH-GM, DH-IM with 3DES,
// AES-128, AES-192 or AES-256), DOMAIN a standardized domain parameter ID
// (0–2, 8–18; 9303-11 §9.5.1) or its [pace.Info.DomainName], such as
// "P-256", "brainpoolP384r1" or "MODP-2048-224". Case does not matter.
// The combination must be one package pace runs ([pace.Info.Supported]).
// [FormatPACEInfo] writes the same form.
func ParsePACEInfo(s string) (pace.Info, error) {
	proto, domain, ok := strings.Cut(strings.TrimSpace(s), "/")
	if !ok {
		return pace.Info{}, fmt.Errorf("%w: %q: want PROTOCOL/DOMAIN, such as ECDH-GM-AES-128/brainpoolP256r1", ErrPACEInfo, s)
	}
	info, ok := paceProtocol(proto)
	if !ok {
		return pace.Info{}, fmt.Errorf("%w: %q: unknown protocol (ECDH-GM, ECDH-IM, ECDH-CAM, DH-GM or DH-IM with 3DES, AES-128, AES-192 or AES-256)", ErrPACEInfo, s)
	}
	if info.ParameterID, ok = paceDomain(info, domain); !ok {
		return pace.Info{}, fmt.Errorf("%w: %q: unknown domain parameters for %s", ErrPACEInfo, s, info)
	}
	if !info.Supported() {
		return pace.Info{}, fmt.Errorf("%w: %q: not a combination PACE runs", ErrPACEInfo, s)
	}
	return info, nil
}

// ParsePACEInfos parses a comma-separated list of [ParsePACEInfo] offers.
func ParsePACEInfos(list string) ([]pace.Info, error) {
	var infos []pace.Info
	for item := range strings.SplitSeq(list, ",") {
		info, err := ParsePACEInfo(item)
		if err != nil {
			return nil, err
		}
		infos = append(infos, info)
	}
	return infos, nil
}

// FormatPACEInfo writes info as [ParsePACEInfo] reads it, for example
// "ECDH-GM-AES-128/brainpoolP256r1"; the domain is the parameter ID when
// it has no standardized name.
func FormatPACEInfo(info pace.Info) string {
	domain := info.DomainName()
	if domain == "" {
		domain = strconv.Itoa(info.ParameterID)
	}
	return strings.TrimPrefix(info.String(), "PACE-") + "/" + domain
}

// paceProtocol finds the version 2 PACEInfo whose name is proto.
func paceProtocol(proto string) (pace.Info, bool) {
	want := "PACE-" + strings.TrimPrefix(strings.ToUpper(strings.TrimSpace(proto)), "PACE-")
	mappings, ciphers := paceArcs()
	for _, m := range mappings {
		for _, c := range ciphers {
			oid := append(pace.OID(), m, c)
			info := pace.Info{Protocol: oid, Version: 2, ParameterID: pace.NoParameterID}
			if info.Mapping() != 0 && strings.EqualFold(info.String(), want) {
				return info, true
			}
		}
	}
	return pace.Info{}, false
}

// paceDomain resolves a parameter ID or domain name for info.
func paceDomain(info pace.Info, domain string) (int, bool) {
	domain = strings.TrimSpace(domain)
	if id, err := strconv.Atoi(domain); err == nil {
		return id, id >= 0 && id <= maxParameterID
	}
	for id := range maxParameterID + 1 {
		info.ParameterID = id
		if name := info.DomainName(); name != "" && strings.EqualFold(name, domain) {
			return id, true
		}
	}
	return 0, false
}
