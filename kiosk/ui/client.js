// nfcbridge browser client: a small module with no dependencies that a kiosk
// page can copy as it is. It holds:
//   - Client: the daemon's local API, with the token in the Authorization
//     header (never in a URL), and pair() to obtain the token;
//   - SSEParser and readEvents: server-sent events over fetch(), since
//     EventSource cannot send an Authorization header (WHATWG HTML §9.2);
//   - messages and messageFor: one operator message per error code;
//   - checkMRZ: the check digits of printed MRZ lines (ICAO 9303-3 §4.9),
//     for live feedback while a person or an OCR scanner types them.

/** An error answer of the API: {code, message, field?, retryable?}. */
export class APIError extends Error {
  constructor(status, body) {
    const e = (body && body.error) || {};
    super(e.message || `HTTP ${status}`);
    this.status = status;
    this.code = e.code || "internal_error";
    this.field = e.field;
    this.retryable = !!e.retryable;
  }
}

/** The states after which a read changes no more. */
export const finalStates = new Set(["done", "failed", "canceled"]);

/** Trades a one-time pairing code (from `nfcbridge ui-url`) for the API token. */
export async function pair(code, base = "") {
  const r = await fetch(base + "/v1/pair", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ code }),
  });
  const body = await r.json().catch(() => null);
  if (!r.ok) throw new APIError(r.status, body);
  return body.token;
}

/** The daemon's API (see kiosk/openapi.yaml). */
export class Client {
  constructor(token, base = "") {
    this.token = token;
    this.base = base;
  }

  async request(method, path, body, extra = {}) {
    const headers = { Authorization: "Bearer " + this.token, ...(extra.headers || {}) };
    const init = { method, headers, signal: extra.signal };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const r = await fetch(this.base + path, init);
    if (extra.raw) {
      if (!r.ok && r.status !== 204) throw new APIError(r.status, await r.json().catch(() => null));
      return r;
    }
    const parsed = r.status === 204 ? null : await r.json().catch(() => null);
    if (!r.ok) throw new APIError(r.status, parsed);
    return parsed;
  }

  health() { return this.request("GET", "/v1/health"); }
  readers() { return this.request("GET", "/v1/readers").then((b) => b.readers); }
  /** req: {sessionId, mrz (lines) or can, reader?, upload?}; answers the new read's status. */
  startRead(req) { return this.request("POST", "/v1/reads", req); }
  read(id) { return this.request("GET", "/v1/reads/" + encodeURIComponent(id)); }
  cancel(id) { return this.request("DELETE", "/v1/reads/" + encodeURIComponent(id)); }

  /**
   * Yields a read's events ({id, event, data}) until its final state,
   * reconnecting with Last-Event-ID when the stream breaks.
   */
  async *follow(id, { signal, retries = 5 } = {}) {
    let last = "";
    for (let attempt = 0; ; ) {
      let r;
      try {
        r = await this.request("GET", `/v1/reads/${encodeURIComponent(id)}/events`, undefined,
          { raw: true, signal, headers: last ? { "Last-Event-ID": last } : {} });
      } catch (e) {
        if (e instanceof APIError || signal?.aborted || ++attempt > retries) throw e;
        await sleep(500 * attempt);
        continue;
      }
      if (r.status === 204) return; // the final event was already delivered
      try {
        for await (const ev of readEvents(r)) {
          if (ev.id) last = ev.id;
          attempt = 0;
          yield ev;
          if (ev.data && finalStates.has(ev.data.state)) return;
        }
      } catch (e) {
        if (signal?.aborted || ++attempt > retries) throw e;
      }
      await sleep(500 * Math.max(attempt, 1));
    }
  }

  /** Yields {event: "readers", data: {readers: [...]}} whenever a reader or card comes or goes. */
  async *readerEvents({ signal } = {}) {
    const r = await this.request("GET", "/v1/readers/events", undefined, { raw: true, signal });
    yield* readEvents(r);
  }
}

function sleep(ms) { return new Promise((ok) => setTimeout(ok, ms)); }

/**
 * SSEParser turns text chunks into events as WHATWG HTML §9.2.6 says:
 * lines end with CRLF, LF or CR; "data" lines are joined with LF; a blank
 * line dispatches; lines starting with ":" are comments.
 */
export class SSEParser {
  constructor() {
    this.buf = "";
    this.reset();
    this.lastId = "";
  }

  reset() {
    this.data = [];
    this.event = "";
  }

  /** push(text) returns the events completed by text. */
  push(text) {
    this.buf += text;
    const out = [];
    for (;;) {
      const m = /\r\n|\r|\n/.exec(this.buf);
      if (!m) break;
      // A lone CR at the end may be the first half of a CRLF: wait.
      if (m[0] === "\r" && m.index === this.buf.length - 1) break;
      const line = this.buf.slice(0, m.index);
      this.buf = this.buf.slice(m.index + m[0].length);
      const ev = this.line(line);
      if (ev) out.push(ev);
    }
    return out;
  }

  line(line) {
    if (line === "") {
      if (this.data.length === 0) { this.reset(); return null; }
      const ev = { id: this.lastId, event: this.event || "message", data: this.data.join("\n") };
      this.reset();
      return ev;
    }
    if (line[0] === ":") return null;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value[0] === " ") value = value.slice(1);
    if (field === "data") this.data.push(value);
    else if (field === "event") this.event = value;
    else if (field === "id" && !value.includes("\0")) this.lastId = value;
    return null;
  }
}

/** Yields the events of a fetch() Response holding text/event-stream, with data parsed as JSON. */
export async function* readEvents(response) {
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  const parser = new SSEParser();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      for (const ev of parser.push(value)) {
        let data = ev.data;
        try { data = JSON.parse(ev.data); } catch { /* not JSON: keep the text */ }
        yield { ...ev, data };
      }
    }
  } finally {
    reader.releaseLock();
  }
}

/**
 * messages: what to tell the operator for each error code of the API. The
 * daemon's own message (error.message) says the same in more detail; a UI
 * may translate these.
 */
export const messages = {
  invalid_request: "Check what was entered: a field is missing or not valid.",
  unsupported_media: "The page sent a request the service does not understand. Reload the page.",
  unauthorized: "This page is not paired with the reader service. Restart the kiosk browser.",
  forbidden: "The reader service refused this page. Ask support to check the kiosk setup.",
  not_found: "The service does not know this read any more. Start again.",
  not_cancelable: "The read is stored and will be sent; it can no longer be canceled.",
  reader_busy: "The reader is busy with another document. Wait a moment and try again.",
  reader_not_found: "No passport reader found. Check that the reader is plugged in.",
  pcsc_unavailable: "The smart-card service is not running. Ask support to restart it.",
  pcsc_access_denied: "The reader service may not use the reader. Ask support to check the setup.",
  upload_unavailable: "Uploads are not configured on this kiosk. Ask support.",
  shutting_down: "The reader service is restarting. Try again in a moment.",
  card_timeout: "No document was placed on the reader. Try again.",
  card_removed: "The document was taken off the reader too early. Place it again and keep it still.",
  read_timeout: "The chip took too long to answer. Place the document again and keep it still.",
  access_denied: "The chip did not accept the MRZ. Check the document number and the dates.",
  needs_pace: "This document needs a newer reader protocol. Ask support.",
  needs_mrz: "This document has no CAN access: enter the MRZ instead.",
  reader_unable: "This reader cannot read this document. Try another reader.",
  protocol_unsupported: "The document refused the access method. Enter the MRZ and try again.",
  not_a_passport: "This card is not an electronic passport or ID card.",
  communication_error: "The connection to the chip was lost. Place the document again and keep it still.",
  chip_error: "The chip answered unexpectedly. Try again; if it happens again, check the document manually.",
  integrity_error: "The chip's data failed its integrity check. Check the document manually.",
  not_authentic: "The document failed its authenticity checks and was not sent. Check it by hand.",
  upload_rejected: "The verification service refused the data. Ask support.",
  upload_unauthorized: "The kiosk's credentials were refused by the verification service. Ask support.",
  session_not_found: "The verification session is unknown. Start a new session.",
  session_submitted: "The verification session was already submitted. Start a new session.",
  upload_unconfirmed: "The upload could not be confirmed. Ask support before trying again.",
  upload_failed: "The verification service could not be reached. Try again later.",
  upload_expired: "The read could not be sent in time and was dropped. Read the document again.",
  canceled: "The read was canceled.",
  interrupted: "The reader service restarted during the read. Read the document again.",
  internal_error: "Something went wrong in the reader service. Try again; if it repeats, ask support.",
};

/** The operator message for an API error (or any Error). */
export function messageFor(err) {
  return (err && messages[err.code]) || messages.internal_error;
}

const weights = [7, 3, 1];

/** The ICAO 9303-3 §4.9 check digit of s: digits, A-Z as 10-35, "<" as 0. */
export function checkDigit(s) {
  let sum = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let v;
    if (c >= 48 && c <= 57) v = c - 48;
    else if (c >= 65 && c <= 90) v = c - 55;
    else if (c === 60) v = 0;
    else return -1;
    sum += v * weights[i % 3];
  }
  return sum % 10;
}

function digitOK(field, digit) {
  return /^[0-9]$/.test(digit) && checkDigit(field) === Number(digit);
}

/**
 * checkMRZ checks printed MRZ lines (TD1: 3×30, TD2: 2×36, TD3: 2×44;
 * separated by newlines or spaces). It answers {format, checks: [{field,
 * ok}], ok}, or {format: null, error} when the text is not an MRZ yet.
 */
export function checkMRZ(text) {
  const lines = text.toUpperCase().split(/[\s]+/).filter(Boolean);
  const lens = lines.map((l) => l.length).join(",");
  const bad = lines.find((l) => /[^A-Z0-9<]/.test(l));
  if (bad) return { format: null, ok: false, error: "only A–Z, 0–9 and < may appear" };
  const checks = [];
  const add = (field, value, digit) => checks.push({ field, ok: digitOK(value, digit) });
  let format;
  if (lens === "30,30,30") {
    format = "TD1";
    const [a, b] = lines;
    let num = a.slice(5, 14), numCD = a[14];
    if (numCD === "<") { // long document number continues in the optional data (9303-5 §4.2.4)
      const rest = a.slice(15).replace(/<+$/, "");
      num += rest.slice(0, -1);
      numCD = rest.slice(-1);
    }
    add("documentNumber", num, numCD);
    add("dateOfBirth", b.slice(0, 6), b[6]);
    add("dateOfExpiry", b.slice(8, 14), b[14]);
    add("composite", a.slice(5, 30) + b.slice(0, 7) + b.slice(8, 15) + b.slice(18, 29), b[29]);
  } else if (lens === "36,36" || lens === "44,44") {
    format = lens === "36,36" ? "TD2" : "TD3";
    const b = lines[1];
    const end = b.length - 1;
    add("documentNumber", b.slice(0, 9), b[9]);
    add("dateOfBirth", b.slice(13, 19), b[19]);
    add("dateOfExpiry", b.slice(21, 27), b[27]);
    if (format === "TD3") add("optionalData", b.slice(28, 42), b[42]);
    add("composite", b.slice(0, 10) + b.slice(13, 20) + b.slice(21, end), b[end]);
  } else {
    return { format: null, ok: false, error: "an MRZ has 3 lines of 30, or 2 lines of 36 or 44 characters" };
  }
  if (format === "TD3" && /^<+$/.test(lines[1].slice(28, 42)) && lines[1][42] === "<") {
    checks.find((c) => c.field === "optionalData").ok = true; // empty optional data: "<" or 0 (9303-4 §4.2.2)
  }
  return { format, checks, ok: checks.every((c) => c.ok) };
}
