package pki

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"fmt"
	"strings"
)

// maxLDIFLine bounds one unfolded LDIF line; a master list in the ICAO
// PKD is a few megabytes of base64.
const maxLDIFLine = 64 << 20

// LDIF holds what a trust store takes from an ICAO PKD LDIF file
// (RFC 2849): certificates (userCertificate;binary — CSCAs, link and DS
// certificates), master lists (CscaMasterListData) and CRLs
// (certificateRevocationList;binary), each as DER in file order.
type LDIF struct {
	Certificates [][]byte
	MasterLists  [][]byte
	CRLs         [][]byte
}

// ParseLDIF reads an LDIF file: records of "attribute: value" or
// "attribute:: base64" lines separated by blank lines, a line starting
// with one space continuing the previous one, "#" starting a comment. It
// keeps the three attributes above and ignores the others; an attribute
// of those three that is not base64 is [ErrMalformed].
func ParseLDIF(b []byte) (*LDIF, error) {
	out := &LDIF{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 64<<10), maxLDIFLine)
	var line strings.Builder
	n, start := 0, 0
	flush := func() error {
		defer line.Reset()
		if line.Len() == 0 {
			return nil
		}
		return out.add(line.String(), start)
	}
	for sc.Scan() {
		n++
		text := strings.TrimSuffix(sc.Text(), "\r")
		if strings.HasPrefix(text, " ") {
			if line.Len() > 0 {
				if line.Len()+len(text) > maxLDIFLine {
					return nil, fmt.Errorf("%w: LDIF line %d too long", ErrMalformed, start)
				}
				line.WriteString(text[1:])
			}
			continue
		}
		if err := flush(); err != nil {
			return nil, err
		}
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		line.WriteString(text)
		start = n
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: LDIF: %v", ErrMalformed, err)
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return out, nil
}

// add keeps the value of one unfolded line when its attribute is one of
// LDIF's. A comment's continuation lines are part of the comment.
func (l *LDIF) add(line string, n int) error {
	if strings.HasPrefix(line, "#") {
		return nil
	}
	name, value, ok := strings.Cut(line, ":")
	if !ok {
		return fmt.Errorf("%w: LDIF line %d has no ':'", ErrMalformed, n)
	}
	var dst *[][]byte
	switch strings.ToLower(name) {
	case "usercertificate;binary", "usercertificate", "cacertificate;binary":
		dst = &l.Certificates
	case "cscamasterlistdata":
		dst = &l.MasterLists
	case "certificaterevocationlist;binary", "certificaterevocationlist":
		dst = &l.CRLs
	default:
		return nil
	}
	b64, ok := strings.CutPrefix(value, ":")
	if !ok {
		return fmt.Errorf("%w: LDIF line %d: %s is not base64", ErrMalformed, n, name)
	}
	der, err := base64.StdEncoding.DecodeString(strings.TrimSpace(b64))
	if err != nil {
		return fmt.Errorf("%w: LDIF line %d: base64 of %s", ErrMalformed, n, name)
	}
	*dst = append(*dst, der)
	return nil
}
