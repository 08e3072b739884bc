module github.com/nfcbridge/nfcbridge

go 1.26.8

require (
	github.com/coreos/go-systemd/v22 v22.7.0 // sd_notify, watchdog, socket activation
	github.com/ebfe/scard v0.0.0-20241214075232-7af069cabc25 // PC/SC; the only version the proxy serves
	github.com/google/uuid v1.6.0
	github.com/prometheus/client_golang v1.25.0 // /metrics
	golang.org/x/crypto v0.59.0 // cryptobyte: strict DER for certificates and signatures (group, pki)
)

// Tests only.
require (
	github.com/stretchr/testify v1.12.1
	go.yaml.in/yaml/v3 v3.0.5 // reads kiosk/openapi.yaml to check it against the server
)

require (
	github.com/beorn7/perks v1.0.1 // indirect
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/chromedp/cdproto v0.160.1 // indirect
	github.com/chromedp/chromedp v0.23.1 // indirect
	github.com/getkin/kin-openapi v0.153.0 // indirect
	github.com/go-json-experiment/json v0.0.0-20260213210345-44df1a37e875 // indirect
	github.com/go-openapi/jsonpointer v0.22.5 // indirect
	github.com/go-openapi/swag/jsonname v0.25.5 // indirect
	github.com/munnerz/goautoneg v0.0.0-20191010083416-a7dc8b61c822 // indirect
	github.com/prometheus/client_model v0.6.3 // indirect
	github.com/prometheus/common v0.72.0 // indirect
	github.com/prometheus/procfs v0.22.0 // indirect
	github.com/santhosh-tekuri/jsonschema/v6 v6.0.3 // indirect
	go.yaml.in/yaml/v4 v4.0.0 // indirect
	golang.org/x/sys v0.50.0 // indirect
	golang.org/x/text v0.44.0 // indirect
	google.golang.org/protobuf v1.36.12 // indirect
)
