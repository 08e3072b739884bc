// Package upload is a client of the identity-verification vendor's session
// media endpoint, POST {api-url}/v1/sessions/{sessionId}/media, for the NFC
// data of an eMRTD (EF.COM, EF.SOD, DG1, DG2 as read from the chip, ICAO
// 9303-10 §4) and for images.
//
// # The contract
//
// Every request carries X-AUTH-CLIENT (the API key), Content-Type
// application/json and X-HMAC-SIGNATURE, the lower-case hex HMAC-SHA256 of
// the uncompressed JSON body keyed with the shared secret. The body is then
// compressed as [Client.Compression] says (gzip by default; "deflate" is the
// zlib format of RFC 1950, as HTTP defines it in RFC 9110 §8.4.1.2) and sent
// with exactly one Content-Encoding value. The signature is always computed
// over the uncompressed bytes, and the same bytes are compressed.
//
// Everything that can be checked locally is checked before any network I/O:
// the API URL (https, or plain http to a loopback address), the session ID
// (a UUID), the credentials, the files (all four present, each starting with
// its LDS tag), the combined base64 size of the NFC data (500,000 bytes by
// default, see [SizeError]) and, for images, the format, the base64 size and
// the longer side.
//
// # Retries and duplicates
//
// The endpoint has no idempotency key. The client therefore never resends
// after a 2xx response, even if that response is unreadable or badly signed
// (it reports [ErrMalformedResponse] or [ErrResponseSignature] instead), and
// never retries a 4xx other than 429. It retries network errors, attempt
// timeouts and 5xx responses with exponential backoff and jitter, bounded by
// [RetryPolicy]. A network error after the request was written is
// ambiguous: the vendor may have stored the media and lost the answer. The
// vendor's contract says to retry network errors, and the client does; the
// worst case is a duplicate media entry on the session, which is preferred to
// a lost upload (a session is submitted by the operator, after the upload).
//
// # Response signatures
//
// The vendor signs its responses with X-HMAC-SIGNATURE over the response
// body. The client verifies the header whenever it is present, against
// [Credentials.Secret] and then [Credentials.NextSecret] (a secret rotation).
// A response without the header is accepted unless
// [Client.RequireResponseSignature] is set; that option applies to 2xx
// responses only, because gateways answer 502/503 without one. An error
// response whose signature fails is reported as both its [*APIError] (a 401
// after a wrong secret cannot verify) and [ErrResponseSignature], and is
// not retried: nothing is decided on an unverified answer.
//
// The current secret signs requests; the next secret is only accepted on
// responses, so a rotation on the vendor's side does not break uploads.
//
// # Secrets
//
// Nothing in this package logs. No error, String, LogValue or JSON form of a
// value of this package contains the API key, the secrets, a signature or
// any of the uploaded bytes. Vendor error messages are kept, truncated and
// quoted, in [APIError].
//
// The package [github.com/nfcbridge/nfcbridge/upload/uploadtest] is a strict
// implementation of the endpoint for tests and a local sandbox.
package upload
