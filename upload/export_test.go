package upload

// Internals for the external tests and benchmarks of package upload_test.

// NFCBody returns the JSON body of an NFC upload.
func NFCBody(n NFC) ([]byte, error) { return n.body() }

// SignAndCompress signs body and compresses it, as every upload does.
func SignAndCompress(body, secret []byte, c Compression) (wire []byte, signature string, err error) {
	p, err := newPayload(body, secret, c)
	return p.wire, p.signature, err
}
