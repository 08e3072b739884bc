// Package reader talks to contact and contactless smart card readers through
// the PC/SC resource manager (pcsc-lite's pcscd on Linux, PC/SC
// specification part 5, "ICC Resource Manager Definition"), using
// github.com/ebfe/scard. A [Card] satisfies icao.Transport without importing
// icao.
//
// # Usage
//
//	p, err := reader.Open()
//	…
//	defer p.Close()
//	name, err := p.WaitForCard(ctx, "") // the first reader that holds a card
//	card, err := p.Connect(ctx, name)   // exclusive: nobody else can talk to the chip
//	defer card.Close()                  // resets the chip: its session keys are gone
//	resp, err := card.Transmit(ctx, capdu)
//
// # Errors
//
// Failures match the sentinels below with errors.Is and keep the PC/SC code
// (a github.com/ebfe/scard Error) in the chain for logs; messages read
// "reader: transmit: card removed: scard: Card was removed. [0x80100069]".
// A context that ends makes a call return an error that matches both
// [ErrCanceled] and ctx.Err().
//
// # pcscd restarts
//
// pcscd may stop and start again: systemd's socket-activated pcscd runs with
// --auto-exit and quits when idle. Every [PCSC] method that finds its PC/SC
// context stale (SCARD_E_NO_SERVICE, SCARD_E_INVALID_HANDLE …) drops it and
// establishes a new one. A [Card] belongs to the pcscd that connected it:
// after a restart it reports [ErrNoService] and must be connected again.
//
// # Access control
//
// pcsc-lite built with polkit (Ubuntu 24.04, Fedora, Arch; not Debian 12's
// 1.9.9) refuses clients outside an active local session: a system service
// gets [ErrAccessDenied] until a polkit rule allows its user both
// org.debian.pcsc-lite.access_pcsc and org.debian.pcsc-lite.access_card.
//
// # Concurrency
//
// PCSC methods are safe for concurrent use; each wait uses a PC/SC context
// of its own, because pcsc-lite serialises the calls on one context and a
// blocked SCardGetStatusChange would hold up everything else. A Card is safe
// for concurrent use too, but its exchanges are serialised, and an ICAO
// session must be driven by one goroutine anyway because secure messaging
// counts the APDUs.
package reader
