package vchip

import (
	"github.com/nfcbridge/nfcbridge/icao"
)

// Names of the files a [Dataset] holds, as `nfcbridge read --out` writes
// them: EF.COM, EF.SOD, DG1 … DG16 in the eMRTD application and
// EF.CardAccess in the master file.
const (
	NameCOM        = "EF.COM"
	NameSOD        = "EF.SOD"
	NameCardAccess = "EF.CardAccess"
	// NameCardSecurity is EF.CardSecurity (9303-11 §9.2.11), in the
	// master file, readable after PACE.
	NameCardSecurity = "EF.CardSecurity"
)

// nameATRInfo names EF.ATR/INFO inside the chip. It is no dataset file:
// [Config.ATRInfo] makes it.
const nameATRInfo = "EF.ATR/INFO"

// FileNames lists every file name a [Dataset] may hold, in reading order.
func FileNames() []string {
	names := []string{NameCardAccess, NameCardSecurity, NameCOM, NameSOD}
	for f := icao.EFDG1; f <= icao.EFDG16; f++ {
		names = append(names, f.String())
	}
	return names
}

// access is the access condition of a file.
type access int

const (
	accessAlways access = iota // EF.CardAccess: readable before BAC (9303-11 §4.4)
	accessBAC                  // LDS1 files, EF.CardSecurity: BAC (or PACE) and secure messaging
	accessEAC                  // DG3, DG4: terminal authentication, which this chip does not do
)

// dfID names a dedicated file.
type dfID int

const (
	dfMF dfID = iota
	dfLDS1
)

// file is one elementary file of the chip.
type file struct {
	name   string
	fid    uint16
	sfi    byte
	df     dfID
	access access
	data   []byte
}

// efOf returns the file a dataset name refers to, as [icao.EF]
// names it, or false for a name that is no dataset file.
func efOf(name string) (icao.EF, bool) {
	var ef icao.EF
	if ef.UnmarshalText([]byte(name)) != nil || ef == icao.EFATRInfo {
		return 0, false // EF.ATR/INFO is no dataset file: Config.ATRInfo makes it
	}
	return ef, true
}

// newFile describes the file a dataset name refers to (9303-10 Table 38),
// or returns false for a name that is no chip file.
func newFile(name string, data []byte) (*file, bool) {
	ef, ok := efOf(name)
	if !ok {
		return nil, false
	}
	f := &file{name: name, fid: ef.FID(), sfi: ef.SFI(), df: dfLDS1, access: accessBAC, data: data}
	switch {
	case ef == icao.EFCardSecurity:
		f.df = dfMF // under secure messaging only, like the LDS1 files
	case ef.InMF():
		f.df, f.access = dfMF, accessAlways
	case ef == icao.EFDG3 || ef == icao.EFDG4:
		f.access = accessEAC
	}
	return f, true
}

// fileSystem holds the files of one chip, indexed by DF.
type fileSystem struct {
	files []*file
}

func newFileSystem(files map[string][]byte, atrInfo []byte) *fileSystem {
	fsys := &fileSystem{}
	if atrInfo != nil {
		ef := icao.EFATRInfo
		fsys.files = append(fsys.files, &file{name: nameATRInfo, fid: ef.FID(), sfi: ef.SFI(), df: dfMF, access: accessAlways, data: atrInfo})
	}
	for _, name := range FileNames() {
		if data, ok := files[name]; ok {
			f, _ := newFile(name, data) // every name in FileNames is a file
			fsys.files = append(fsys.files, f)
		}
	}
	return fsys
}

// byFID returns the EF with identifier fid directly under df.
func (s *fileSystem) byFID(df dfID, fid uint16) *file {
	for _, f := range s.files {
		if f.df == df && f.fid == fid {
			return f
		}
	}
	return nil
}

// bySFI returns the EF with short identifier sfi directly under df.
func (s *fileSystem) bySFI(df dfID, sfi byte) *file {
	for _, f := range s.files {
		if f.df == df && f.sfi == sfi {
			return f
		}
	}
	return nil
}
