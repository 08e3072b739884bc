package kiosk

import (
	"embed"
	"io/fs"
	"net/http"
	"path"
)

// uiFiles is the reference kiosk page (serve --ui): plain HTML, CSS and
// JavaScript modules, no build step, no external requests.
//
//go:embed ui
var uiFiles embed.FS

// uiCSP allows the page its own scripts, styles and API calls and nothing
// else: no inline script, no other origin, no framing.
const uiCSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; " +
	"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// uiTypes are the content types of the page's files.
var uiTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
}

// serveUI answers GET / with the page and GET /ui/NAME with its files. They
// hold nothing secret: the page obtains the token by pairing.
func serveUI(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if name == "" {
		name = "index.html"
	}
	b, err := fs.ReadFile(uiFiles, "ui/"+name)
	typ, known := uiTypes[path.Ext(name)]
	if err != nil || !known || path.Base(name) != name {
		writeError(w, &Error{Code: CodeNotFound, Message: "no such page"})
		return
	}
	h := w.Header()
	h.Set("Content-Type", typ)
	h.Set("Content-Security-Policy", uiCSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-cache")
	w.Write(b)
}
