// The back-office console: customer service finds an invoice, reads its timeline, resends it,
// starts a correction, and works the inquiry log. It calls the invoices API with the agent's
// token (role support); every value is put in the page as text, never as HTML.

let token = null;
const $ = (id) => document.getElementById(id);
const local = (iso) => new Date(iso).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short", timeZone: "UTC" }) + " UTC";

function cell(text) { const td = document.createElement("td"); td.textContent = text ?? ""; return td; }
function say(where, text, alert = false) {
  const node = $(where);
  node.replaceChildren();
  const span = document.createElement("span");
  if (alert) span.setAttribute("role", "alert");
  span.textContent = text;
  node.append(span);
}
function requestId() { return crypto.randomUUID().replaceAll("-", ""); }

async function api(path, body) {
  const init = { headers: { Authorization: `Bearer ${token}` } };
  if (body !== undefined) { init.method = "POST"; init.headers["Content-Type"] = "application/json"; init.body = JSON.stringify(body); }
  const response = await fetch(path, init);
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(data.message || data.error || `${response.status}`);
  return data;
}

$("sign-in").addEventListener("submit", async (event) => {
  event.preventDefault();
  const [role, sub] = $("agent").value.split(":");
  const answer = await fetch(`/local/token?${new URLSearchParams({ sub, role })}`);
  if (!answer.ok) { say("who", "Sign-in failed", true); return; }
  token = (await answer.json()).token;
  $("who").textContent = `Signed in as ${sub}`;
  $("log-month").value = new Date().toISOString().slice(0, 7);
});

for (const button of document.querySelectorAll("nav button")) {
  button.addEventListener("click", () => {
    for (const other of document.querySelectorAll("nav button")) other.setAttribute("aria-pressed", String(other === button));
    for (const view of ["invoices", "inquiries", "operations"]) $(view).hidden = button.dataset.view !== view;
    if (button.dataset.view === "inquiries") loadLog();
    if (button.dataset.view === "operations") loadOperations();
  });
}

// --- invoices ---------------------------------------------------------------------------------
let current = null;

$("find").addEventListener("submit", async (event) => {
  event.preventDefault();
  const query = new URLSearchParams({ [$("find-by").value]: $("find-value").value.trim() });
  try {
    const found = await api(`/support/invoices?${query}`);
    const body = $("found").querySelector("tbody");
    body.replaceChildren();
    for (const invoice of found) {
      const row = document.createElement("tr");
      row.tabIndex = 0;
      row.append(cell(invoice.invoice_number), cell(invoice.kind), cell(invoice.order_id),
        cell(`${invoice.grand_total} ${invoice.currency}`), cell(invoice.payment_state || invoice.payment_status), cell(local(invoice.issued_at)));
      const open = () => openInvoice(invoice.invoice_number);
      row.addEventListener("click", open);
      row.addEventListener("keydown", (e) => { if (e.key === "Enter") open(); });
      body.append(row);
    }
    $("found").hidden = found.length === 0;
    say("find-message", found.length ? `${found.length} found.` : "Nothing found.");
  } catch (error) { say("find-message", error.message, true); }
});

async function openInvoice(number) {
  try {
    const timeline = await api(`/support/invoices/${encodeURIComponent(number)}/timeline`);
    current = timeline.invoice;
    $("invoice").hidden = false;
    $("invoice-heading").textContent = `${current.kind === "CREDIT_NOTE" ? "Credit note" : "Invoice"} ${current.invoice_number}`;
    const chain = [current.replaces && `replaces ${current.replaces}`, current.replaced_by && `replaced by ${current.replaced_by}`,
      ...(current.credit_notes || []).map((n) => `credited by ${n}`)].filter(Boolean).join(", ");
    $("invoice-summary").textContent = `Order ${current.order_id} · ${current.grand_total} ${current.currency} · ` +
      `${current.payment_state || current.payment_status} · delivery ${current.delivery_status || "pending"}${chain ? ` · ${chain}` : ""}`;
    const list = $("timeline");
    list.replaceChildren();
    for (const entry of timeline.entries) {
      const item = document.createElement("li");
      const at = document.createElement("time");
      at.dateTime = entry.at; at.textContent = local(entry.at);
      item.append(at, entry.text);
      list.append(item);
    }
    say("invoice-message", "");
  } catch (error) { say("find-message", error.message, true); }
}

$("resend").addEventListener("submit", async (event) => {
  event.preventDefault();
  const body = { request_id: requestId(), reason: $("resend-reason").value };
  if ($("resend-email").value) body.email = $("resend-email").value;
  try {
    const answer = await api(`/support/invoices/${encodeURIComponent(current.invoice_number)}/resend`, body);
    say("invoice-message", `Resend ${answer.request_id} ${answer.status.toLowerCase()}, to ${answer.to}.`);
  } catch (error) { say("invoice-message", error.message, true); }
});

$("correct").addEventListener("submit", async (event) => {
  event.preventDefault();
  const amount = $("correct-amount").value.trim();
  const body = { reason: $("correct-reason").value, mode: amount ? "explicit" : "rederive" };
  if (amount) body.credit_amount = amount;
  if ($("correct-inquiry").value.trim()) body.inquiry_id = $("correct-inquiry").value.trim();
  try {
    const answer = await api(`/invoices/${encodeURIComponent(current.invoice_number)}/corrections`, body);
    if (answer.outcome === "unchanged") { say("invoice-message", "Nothing the invoice bills differs from the order: unchanged."); return; }
    const revised = answer.revised_invoice_number ? ` and revised invoice ${answer.revised_invoice_number}` : "";
    say("invoice-message", `Corrected: credit note ${answer.credit_note_number}${revised}. Correction id ${answer.correction_id}.`);
  } catch (error) { say("invoice-message", error.message, true); }
});

// --- inquiry log -----------------------------------------------------------------------------
let inquiry = null;

$("log-filter").addEventListener("submit", (event) => { event.preventDefault(); loadLog(); });

async function loadLog() {
  if (!token) return;
  const query = new URLSearchParams();
  if ($("log-month").value) query.set("month", $("log-month").value);
  if ($("log-status").value) query.set("status", $("log-status").value);
  try {
    const page = await api(`/support/inquiries?${query}`);
    const body = $("log").querySelector("tbody");
    body.replaceChildren();
    for (const item of page.items) {
      const row = document.createElement("tr");
      row.tabIndex = 0;
      row.append(cell(item.inquiry_id), cell(item.invoice_number), cell(item.category), cell(item.status),
        cell(String(item.tier)), cell(item.owner || "—"), cell(local(item.opened_at)));
      const open = () => openInquiry(item.inquiry_id);
      row.addEventListener("click", open);
      row.addEventListener("keydown", (e) => { if (e.key === "Enter") open(); });
      body.append(row);
    }
    const counts = Object.entries(page.counts).map(([k, v]) => `${k} ${v}`).join(", ");
    say("log-counts", `${page.items.length} inquiries${counts ? ` (${counts})` : ""}.`);
  } catch (error) { say("log-counts", error.message, true); }
}

async function openInquiry(id) {
  try {
    const view = await api(`/support/inquiries/${encodeURIComponent(id)}`);
    inquiry = view.inquiry;
    $("inquiry").hidden = false;
    $("inquiry-heading").textContent = `${inquiry.inquiry_id}: ${inquiry.category} on ${inquiry.invoice_number}`;
    $("inquiry-summary").textContent = `${inquiry.status}, tier ${inquiry.tier}, owner ${inquiry.owner || "none"}. “${inquiry.description}”`;
    const trail = $("trail");
    trail.replaceChildren();
    for (const line of view.actions) {
      const item = document.createElement("li");
      const at = document.createElement("time");
      at.dateTime = line.at; at.textContent = local(line.at);
      item.append(at, `${line.by} (${line.role}) ${line.action}: ${line.detail}`);
      trail.append(item);
    }
  } catch (error) { say("log-counts", error.message, true); }
}

$("act").addEventListener("submit", async (event) => {
  event.preventDefault();
  const action = $("act-action").value;
  const body = { action };
  if ($("act-owner").value) body.owner = $("act-owner").value;
  if ($("act-note").value && action !== "resolved") body.note = $("act-note").value;
  if (action === "resolved") {
    const kind = $("act-resolution").value;
    body.resolution = { kind, note: $("act-note").value || kind };
    if (kind === "corrected") body.resolution.correction_id = $("act-link").value;
    if (kind === "resent") body.resolution.resend_request_id = $("act-link").value;
  }
  try {
    await api(`/support/inquiries/${encodeURIComponent(inquiry.inquiry_id)}/actions`, body);
    await openInquiry(inquiry.inquiry_id);
    await loadLog();
    say("inquiry-message", `Recorded: ${action}.`);
  } catch (error) { say("inquiry-message", error.message, true); }
});

// --- operations and finance ------------------------------------------------------------------
function rows(table, items, cells) {
  const body = $(table).querySelector("tbody");
  body.replaceChildren();
  for (const item of items) {
    const row = document.createElement("tr");
    for (const value of cells(item)) row.append(value instanceof Node ? value : cell(value));
    body.append(row);
  }
}

async function loadOperations() {
  if (!token) return;
  try {
    const view = await api("/operations/overview");
    $("ops-week").textContent = view.week;
    rows("ops-figures", view.week_figures, (f) => {
      const status = cell(f.status || "—");
      if (f.status) status.className = f.status === "deviation" ? "deviation" : f.status === "ok" ? "ok" : "";
      return [f.label, f.shown, f.target || "—", status];
    });
    const peak = Math.max(1, ...view.daily_issued.map(([, n]) => n));
    const bars = $("ops-daily");
    bars.replaceChildren();
    for (const [day, count] of view.daily_issued) {
      const column = document.createElement("div");
      const bar = document.createElement("span");
      bar.className = "bar";
      bar.style.height = `${(80 * count) / peak}%`;
      column.append(String(count), bar, day.slice(5));
      bars.append(column);
    }
    $("ops-risk").textContent = `${view.at_risk} invoices unsent 20 hours or more after their order completed.`;
    rows("ops-backlog", view.backlog.filter((b) => b.count), (b) => [b.kind, String(b.count), b.oldest_since ? local(b.oldest_since) : "—"]);
    rows("ops-failures", view.validation_failures, (f) => [f.order_id, local(f.since), String(f.attempts)]);
    rows("ops-unmatched", view.unmatched_payments, (p) => [p.event_id, p.kind, `${p.amount} ${p.currency}`, local(p.recorded_at), p.reasons.join(", ")]);
    say("ops-message", `As of ${local(view.generated_at)}.`);
  } catch (error) { say("ops-message", error.message, true); }
}
