package kiosk_test

// The reference page (serve --ui) in a real headless Chromium, driven
// through the DevTools protocol, against the daemon reading the virtual
// passport through pcscd + vpcd and uploading to the sandbox.

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfcbridge/nfcbridge/icao"
	"github.com/nfcbridge/nfcbridge/internal/pcsctest"
	"github.com/nfcbridge/nfcbridge/kiosk"
	"github.com/nfcbridge/nfcbridge/vchip"
	"github.com/nfcbridge/nfcbridge/vpcd"
)

// browser starts a headless Chromium (Debian's package) for the test. In CI
// a missing Chromium fails the test; elsewhere it skips.
func browser(t *testing.T) context.Context {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("CI") != "" {
			require.FailNow(t, "chromium is not installed (scripts/setup.sh installs it)")
		}
		t.Skip("chromium is not installed: apt-get install chromium")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox, // as root in CI
		chromedp.DisableGPU,
		chromedp.WindowSize(820, 720),
		chromedp.Flag("disable-quic", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	require.NoError(t, chromedp.Do(ctx), "starting chromium")
	return ctx
}

// withDOB is the specimen MRZ with another date of birth and correct check
// digits: a well-formed MRZ that the chip refuses.
func withDOB(t *testing.T, dob string) string {
	t.Helper()
	lines := strings.Split(vchip.SpecimenMRZ, "\n")
	b := []byte(lines[1])
	copy(b[13:19], dob)
	cd, err := icao.CheckDigit(dob)
	require.NoError(t, err)
	b[19] = cd
	composite := string(b[0:10]) + string(b[13:20]) + string(b[21:43])
	b[43], err = icao.CheckDigit(composite)
	require.NoError(t, err)
	return lines[0] + "\n" + string(b)
}

// clearField empties a form field as a user would, with an input event.
func clearField(id string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := chromedp.Evaluate[bool](`(() => { const e = document.getElementById("`+id+`"); e.value = ""; e.dispatchEvent(new Event("input")); return true })()`)(ctx, t)
		return err
	})
}

// screenshot takes a PNG of the page; with $NFCBRIDGE_SCREENSHOTS set to a
// directory it is kept there (the README's pictures come from it).
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png := run(t, ctx, chromedp.CaptureScreenshot())
	require.True(t, bytes.HasPrefix(png, []byte("\x89PNG")), "a PNG")
	if dir := os.Getenv("NFCBRIDGE_SCREENSHOTS"); dir != "" {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), png, 0o644))
	}
}

// run runs a value-returning action and fails the test on error.
func run[T any](t *testing.T, ctx context.Context, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	require.NoError(t, err)
	return v
}

func TestBrowserReferencePage(t *testing.T) {
	realStack(t)
	r := newRig(t, rigConfig{ui: true})
	// A little latency per APDU, so that the page can be seen mid-read.
	insert(t, vpcd.Addr(0), newChip(t, &vchip.Config{Latency: 15 * time.Millisecond}), nil)
	ctx := browser(t) // closed before the server: cleanups run in reverse

	var p kiosk.Pairing
	require.Equal(t, 201, r.do("POST", "/v1/pairings", nil, &p))
	session := uuid.NewString()
	lines := strings.Split(vchip.SpecimenMRZ, "\n")
	typo := lines[0] + "\n" + lines[1][:27] + "5" + lines[1][28:] // wrong expiry check digit

	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(r.url+"/#pair="+p.Code),
		chromedp.WaitVisible(chromedp.ID("start")),
		// The markup contract (README, "Integrate"): fields named sessionId,
		// mrz and can, the form's submit button, data-read-state.
		chromedp.SendKeys(chromedp.CSS(`input[name="sessionId"]`), session),
		chromedp.SendKeys(chromedp.CSS(`textarea[name="mrz"]`), typo),
		chromedp.WaitVisible(chromedp.CSS("#mrz-check li.bad")),
	))
	assert.Empty(t, run(t, ctx, chromedp.Evaluate[string]("location.hash")), "the pairing code leaves the address bar")
	assert.Equal(t, "dateOfExpiry", run(t, ctx, chromedp.AttributeValue(chromedp.CSS("#mrz-check li.bad"), "data-field")).Value,
		"live check-digit feedback names the field")
	assert.True(t, run(t, ctx, chromedp.JavascriptAttribute[bool](chromedp.ID("go"), "disabled")), "no read with a bad check digit")

	require.NoError(t, chromedp.Do(ctx,
		clearField("mrz"),
		chromedp.SendKeys(chromedp.ID("mrz"), vchip.SpecimenMRZ),
		chromedp.WaitEnabled(chromedp.ID("go")),
		chromedp.WaitVisible(`//p[@id="readers" and contains(., "document on the reader")]`),
	))
	assert.NotContains(t, run(t, ctx, chromedp.Text(chromedp.ID("mrz-check"))), "✗")
	assert.Contains(t, run(t, ctx, chromedp.Text(chromedp.ID("readers"))), pcsctest.ReaderName(0))
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`form button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-read-state="reading"]`)),
		chromedp.WaitVisible(`//p[@id="state" and contains(., "DG2")]`),
	))
	screenshot(t, ctx, "ui-reading.png")
	assert.Greater(t, run(t, ctx, chromedp.JavascriptAttribute[float64](chromedp.ID("bar"), "value")), 0.0, "the progress bar moves")
	require.NoError(t, chromedp.Do(ctx,
		chromedp.WaitVisible(chromedp.CSS(`#headline[data-read-state="done"]`)),
	))
	screenshot(t, ctx, "ui-done.png")
	assert.Equal(t, "Read and sent.", run(t, ctx, chromedp.Text(chromedp.ID("headline"))))
	verdicts := run(t, ctx, chromedp.Text(chromedp.ID("verdicts")))
	assert.Contains(t, verdicts, "Data integrity")
	assert.Contains(t, verdicts, "valid")
	assert.NotContains(t, verdicts, "INVALID")
	checkUpload(t, r.sandbox, session)

	// A well-formed MRZ the chip refuses: one operator message.
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Click(chromedp.ID("again")),
		chromedp.WaitVisible(chromedp.ID("start")),
		clearField("mrz"),
		chromedp.SendKeys(chromedp.ID("mrz"), withDOB(t, "750812")),
		chromedp.WaitEnabled(chromedp.ID("go")),
		chromedp.Click(chromedp.ID("go")),
		chromedp.WaitVisible(chromedp.ID("outcome")),
	))
	assert.Equal(t, "failed", run(t, ctx, chromedp.AttributeValue(chromedp.ID("headline"), "data-read-state")).Value)
	assert.Equal(t, "The chip did not accept the MRZ. Check the document number and the dates.",
		run(t, ctx, chromedp.Text(chromedp.ID("headline"))))
	assert.Contains(t, run(t, ctx, chromedp.Text(chromedp.ID("verdicts"))), "access_denied")

	// The client module, as an integrator would import it: the SSE parser
	// on chunks split mid-line and mid-CRLF, and TD1 check digits.
	sse := run(t, ctx, chromedp.Evaluate[[]map[string]any](`import("/ui/client.js").then((c) => {
			const p = new c.SSEParser();
			const out = [];
			for (const chunk of ["id: 7\r", "\nevent: state\r\ndata: {\"a\"", ":1}\r\n: keep-alive\r\n\r", "\ndata: x\ndata: y\n\n"])
				out.push(...p.push(chunk));
			return out;
		})`, chromedp.EvalAwaitPromise))
	assert.Equal(t, []map[string]any{
		{"id": "7", "event": "state", "data": `{"a":1}`},
		{"id": "7", "event": "message", "data": "x\ny"},
	}, sse)
	td1 := run(t, ctx, chromedp.Evaluate[map[string]any](`import("/ui/client.js").then((c) => c.checkMRZ(
			"I<UTOD231458907<<<<<<<<<<<<<<<\n7408122F1204159UTO<<<<<<<<<<<6\nERIKSSON<<ANNA<MARIA<<<<<<<<<<"))`,
		chromedp.EvalAwaitPromise))
	assert.Equal(t, "TD1", td1["format"])
	assert.Equal(t, true, td1["ok"], "the ICAO 9303-5 TD1 specimen: %v", td1)

	// Nothing personal or secret in the daemon's log.
	for _, secret := range []string{"ERIKSSON", "L898902C3", "740812", r.token, p.Code} {
		assert.NotContains(t, r.logs.String(), secret)
	}
}
