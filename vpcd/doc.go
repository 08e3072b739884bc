// Package vpcd is the card side of vsmartcard's virtual reader protocol: it
// plugs a [Card] implemented in Go into pcscd through the vpcd reader driver
// (Debian package vsmartcard-vpcd), so that PC/SC applications see a card in
// the reader "Virtual PCD 00 0n".
//
// # Protocol
//
// The vpcd driver listens on TCP, port 35963 for slot 0 and 35964 for
// slot 1 ([Addr]). A virtual card connects as a TCP client: connecting
// inserts the card, closing the connection removes it. Both directions carry
// frames of a 2-byte big-endian length followed by that many bytes, so a
// frame holds at most 65535 bytes. From the reader:
//
//   - a 1-byte frame is a control message: 0x00 power off, 0x01 power on,
//     0x02 reset, 0x04 get ATR. Only get ATR is answered, with one frame
//     holding the ATR. pcscd asks for the ATR every time it polls the slot
//     for card presence (about every 400 ms), which is also how it notices
//     that the card went away;
//   - a longer frame is a command APDU, answered with one frame holding the
//     response APDU (data followed by SW1 SW2).
//
// The driver only accepts the connection when pcscd next polls the slot, so
// a card is seen as present up to one poll period after [Insert] returns;
// [Insertion.Attached] reports when the reader first talked to the card.
//
// # Latency
//
// vpcd may write a frame's length and its body as two TCP segments. With
// Nagle's algorithm on the driver's side and delayed ACKs on ours, every
// APDU would then stall for the delayed-ACK timer (about 40 ms on Linux).
// On Linux the card side therefore sets TCP_QUICKACK before every read (the
// kernel clears it again after it fires) and keeps TCP_NODELAY for its own
// writes, which go out as one segment per frame.
package vpcd
