// The reference kiosk page: pairs with the daemon, asks for the session id
// and the MRZ or CAN, follows the read and shows its verdicts or one
// operator message. Everything it needs of the API is in client.js.
import { Client, pair, checkMRZ, messageFor, finalStates } from "./client.js";

const $ = (id) => document.getElementById(id);
const tokenKey = "nfcbridge.token";
const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const stateText = {
  waiting_for_card: "Place the document on the reader.",
  authenticating: "Opening the chip…",
  reading: "Reading the chip. Keep the document still.",
  uploading: "Sending to the verification service…",
  queued: "Stored; it will be sent as soon as the service can be reached.",
};
const fieldNames = {
  documentNumber: "document number", dateOfBirth: "date of birth", dateOfExpiry: "date of expiry",
  optionalData: "optional data", composite: "whole line",
};

let client;
let current = null; // {id, abort}

function show(id) {
  for (const s of ["unpaired", "start", "reading", "outcome"]) $(s).hidden = s !== id;
}

async function token() {
  const m = /^#pair=([0-9a-f]+)$/i.exec(location.hash);
  if (m) {
    history.replaceState(null, "", location.pathname); // the code is used up either way
    try {
      const t = await pair(m[1]);
      sessionStorage.setItem(tokenKey, t);
      return t;
    } catch (e) {
      $("service").textContent = messageFor(e);
      return null;
    }
  }
  return sessionStorage.getItem(tokenKey);
}

function access() {
  return document.querySelector("input[name=access]:checked").value;
}

function validate() {
  const sessionOK = uuid.test($("session").value.trim());
  let accessOK;
  if (access() === "can") {
    accessOK = /^[0-9]{6}$/.test($("can").value);
  } else {
    const r = checkMRZ($("mrz").value);
    const list = $("mrz-check");
    list.replaceChildren();
    if ($("mrz").value.trim() === "") {
      // nothing typed yet
    } else if (!r.format) {
      const li = document.createElement("li");
      li.textContent = r.error;
      li.className = "muted";
      list.append(li);
    } else {
      for (const c of r.checks) {
        const li = document.createElement("li");
        li.textContent = (c.ok ? "✓ " : "✗ ") + fieldNames[c.field];
        li.className = c.ok ? "good" : "bad";
        li.dataset.field = c.field;
        list.append(li);
      }
    }
    accessOK = r.ok;
  }
  $("go").disabled = !(sessionOK && accessOK);
}

function request() {
  const req = { sessionId: $("session").value.trim(), upload: $("upload").checked };
  if (access() === "can") req.can = $("can").value;
  else req.mrz = $("mrz").value.trim().toUpperCase().split(/\s+/).join("\n");
  return req;
}

async function start(ev) {
  ev.preventDefault();
  $("go").disabled = true;
  let st;
  try {
    st = await client.startRead(request());
  } catch (e) {
    $("service").textContent = messageFor(e);
    $("go").disabled = false;
    return;
  }
  const abort = new AbortController();
  current = { id: st.id, abort };
  show("reading");
  progress(st);
  try {
    for await (const ev of client.follow(st.id, { signal: abort.signal })) {
      progress(ev.data);
      if (finalStates.has(ev.data.state)) return finish(ev.data);
    }
    finish(await client.read(st.id));
  } catch (e) {
    if (!abort.signal.aborted) finish({ state: "failed", error: { code: e.code || "communication_error" } });
  }
}

// readState publishes the read's state name in data-read-state, the
// page's contract for automation (README, "Integrate").
function readState(state) {
  for (const el of document.querySelectorAll("[data-read-state]")) el.dataset.readState = state;
}

function progress(st) {
  readState(st.state);
  $("prompt").textContent = stateText[st.state] || "";
  $("bar").value = st.progress ? st.progress.percent : 0;
  $("state").textContent = st.progress && st.progress.file ? `${st.progress.file} ${st.progress.percent} %` : "";
}

function finish(st) {
  current = null;
  readState(st.state);
  show("outcome");
  const dl = $("verdicts");
  dl.replaceChildren();
  const row = (k, v, cls) => {
    const dt = document.createElement("dt");
    dt.textContent = k;
    const dd = document.createElement("dd");
    dd.textContent = v;
    if (cls) dd.className = cls;
    dl.append(dt, dd);
  };
  $("headline").className = "headline " + (st.state === "done" ? "good" : "bad");
  if (st.state === "done") {
    const r = st.result || {};
    $("headline").textContent = st.upload ? "Read and sent." : "Read.";
    row("Access", r.accessControl || "");
    row("Data integrity", r.sodHashesValid ? "valid" : "INVALID", r.sodHashesValid ? "good" : "bad");
    if (r.sodSignature) row("Document signature", r.sodSignature, r.sodSignature === "valid" ? "good" : "bad");
    if (r.pace && r.pace.chipAuthentication) row("Chip authentication", r.pace.chipAuthentication);
    row("Files", Object.entries(r.files || {}).map(([k, v]) => `${k.toUpperCase()} ${v.size} B`).join(", "));
  } else if (st.state === "canceled") {
    $("headline").textContent = "Canceled.";
  } else {
    $("headline").textContent = messageFor(st.error);
    if (st.error && st.error.code) row("Code", st.error.code);
  }
}

async function watchReaders() {
  for (;;) {
    try {
      for await (const ev of client.readerEvents()) {
        const rs = (ev.data && ev.data.readers) || [];
        $("readers").textContent = rs.length === 0 ? "No reader connected."
          : rs.map((r) => `${r.name}: ${r.cardPresent ? "document on the reader" : "no document"}`).join(" · ");
      }
    } catch {
      // the daemon restarted or the stream broke: try again shortly
    }
    await new Promise((ok) => setTimeout(ok, 2000));
  }
}

async function main() {
  const t = await token();
  if (!t) return show("unpaired");
  client = new Client(t);
  try {
    const h = await client.health();
    $("service").textContent = `Reader service ${h.version ? h.version + " " : ""}up, smart-card service ${h.pcsc}.`;
    await client.readers(); // checks the token
  } catch (e) {
    if (e.code === "unauthorized") sessionStorage.removeItem(tokenKey);
    $("service").textContent = messageFor(e);
    return show(e.code === "unauthorized" ? "unpaired" : "start");
  }
  show("start");
  watchReaders();
}

$("start").addEventListener("submit", start);
for (const id of ["session", "mrz", "can", "upload"]) $(id).addEventListener("input", validate);
for (const r of document.querySelectorAll("input[name=access]")) {
  r.addEventListener("change", () => {
    $("mrz-box").hidden = access() !== "mrz";
    $("can-box").hidden = access() !== "can";
    validate();
  });
}
$("cancel").addEventListener("click", async () => {
  if (!current) return;
  try { await client.cancel(current.id); } catch (e) { $("state").textContent = messageFor(e); }
});
$("again").addEventListener("click", () => { readState(""); show("start"); validate(); });
main();
