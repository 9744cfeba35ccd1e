// The back-office console: customer service finds an invoice, reads its timeline, resends it,
// starts a correction, and works the inquiry log; operations and finance see the SLA picture and
// the past reports with their charts. Whoever signs in (the configured issuer, ../sign-in/oidc.js)
// calls the invoices API with their own token, whose role the API checks on every route; every
// value is put in the page as text, never as HTML.

import { session, signIn, signOut } from "../sign-in/oidc.js";

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
  if (response.status === 401) { signOut(); token = null; showSignedIn(null); throw new Error("Your session has ended: sign in again."); }
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(data.message || data.error || `${response.status}`);
  return data;
}

// --- sign-in (../sign-in/oidc.js: the configured OpenID Connect issuer, PKCE) -------------------
const CONSOLE_ROLES = { support: "invoices", operations: "operations", finance: "operations" };

function showSignedIn(signedIn) {
  $("sign-in").hidden = Boolean(signedIn);
  $("sign-out").hidden = !signedIn;
  $("who").textContent = signedIn ? `Signed in as ${signedIn.name} (${signedIn.role})` : "Not signed in";
}

$("sign-in").addEventListener("click", () => signIn().catch((error) => say("who", error.message, true)));
$("sign-out").addEventListener("click", () => { signOut(); token = null; showSignedIn(null); });

async function start() {
  let signedIn = null;
  try { signedIn = await session(); } catch (error) { say("who", error.message, true); return; }
  showSignedIn(signedIn);
  if (!signedIn) return;
  if (!(signedIn.role in CONSOLE_ROLES)) {
    signOut();
    showSignedIn(null);
    say("who", `${signedIn.name} has no console role (${signedIn.role || "none"}): sign in as customer service, operations or finance.`, true);
    return;
  }
  token = signedIn.token;
  $("log-month").value = new Date().toISOString().slice(0, 7);
  document.querySelector(`nav button[data-view=${CONSOLE_ROLES[signedIn.role]}]`).click();
}

for (const button of document.querySelectorAll("nav button")) {
  button.addEventListener("click", () => {
    for (const other of document.querySelectorAll("nav button")) other.setAttribute("aria-pressed", String(other === button));
    for (const view of ["invoices", "inquiries", "operations", "reports"]) $(view).hidden = button.dataset.view !== view;
    if (button.dataset.view === "inquiries") loadLog();
    if (button.dataset.view === "operations") loadOperations();
    if (button.dataset.view === "reports") loadReports();
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

// --- reports: the past operations reports, each with its charts -------------------------------
const SVG = "http://www.w3.org/2000/svg";
const COLOURS = { issued: "#3e6eaa", rejected: "#c0392b", bar: "#3e6eaa" };

function svgNode(name, attributes = {}, text) {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

// Stacked columns, one per day (issued, with the rejected orders on top).
function dailyChart(svg, daily) {
  svg.replaceChildren();
  const width = 640, height = 220, left = 36, bottom = 28, top = 12;
  const peak = Math.max(1, ...daily.map((d) => d.issued + d.rejected));
  const step = (width - left - 8) / Math.max(1, daily.length);
  const scale = (n) => ((height - bottom - top) * n) / peak;
  svg.append(svgNode("line", { x1: left, y1: height - bottom, x2: width - 4, y2: height - bottom, stroke: "#6c757d" }));
  svg.append(svgNode("text", { x: left - 6, y: top + 4, "text-anchor": "end" }, String(peak)));
  svg.append(svgNode("text", { x: left - 6, y: height - bottom, "text-anchor": "end" }, "0"));
  const every = Math.ceil(daily.length / 10);
  daily.forEach((day, i) => {
    const x = left + i * step + step * 0.15, w = Math.max(1, step * 0.7);
    const issued = scale(day.issued), rejected = scale(day.rejected);
    const column = svgNode("g");
    column.append(svgNode("title", {}, `${day.day}: ${day.issued} issued, ${day.rejected} rejected`),
      svgNode("rect", { x, y: height - bottom - issued, width: w, height: issued, fill: COLOURS.issued }));
    if (day.rejected) column.append(svgNode("rect", { x, y: height - bottom - issued - rejected, width: w, height: rejected, fill: COLOURS.rejected }));
    svg.append(column);
    if (i % every === 0) svg.append(svgNode("text", { x: x + w / 2, y: height - 10, "text-anchor": "middle" }, day.day.slice(5)));
  });
  svg.append(svgNode("rect", { x: width - 180, y: 2, width: 10, height: 10, fill: COLOURS.issued }),
    svgNode("text", { x: width - 166, y: 11 }, "issued"),
    svgNode("rect", { x: width - 110, y: 2, width: 10, height: 10, fill: COLOURS.rejected }),
    svgNode("text", { x: width - 96, y: 11 }, "rejected"));
}

// Horizontal bars, one per label, each with its count.
function barsChart(svg, items) {
  svg.replaceChildren();
  svg.setAttribute("viewBox", items.length ? "0 0 640 220" : "0 0 640 40");
  if (!items.length) { svg.append(svgNode("text", { x: 8, y: 24 }, "None in this period.")); return; }
  const shown = items.slice(0, 8), width = 640, left = 170, rowHeight = 220 / Math.max(shown.length, 4);
  const peak = Math.max(1, ...shown.map(([, n]) => n));
  shown.forEach(([label, count], i) => {
    const y = i * rowHeight + 4, w = ((width - left - 60) * count) / peak;
    svg.append(svgNode("text", { x: left - 8, y: y + rowHeight / 2 + 4, "text-anchor": "end" }, label.length > 24 ? `${label.slice(0, 23)}…` : label));
    svg.append(svgNode("rect", { x: left, y: y + 2, width: Math.max(count ? 2 : 0, w), height: rowHeight - 8, fill: COLOURS.bar }));
    svg.append(svgNode("text", { x: left + w + 6, y: y + rowHeight / 2 + 4 }, String(count)));
  });
}

$("reports-filter").addEventListener("submit", (event) => { event.preventDefault(); loadReports(); });

async function loadReports() {
  if (!token) return;
  if (!$("reports-year").value) $("reports-year").value = String(new Date().getUTCFullYear());
  try {
    const list = await api(`/operations/reports?${new URLSearchParams({ year: $("reports-year").value })}`);
    rows("reports-list", list.reports, (entry) => {
      const open = document.createElement("button");
      open.type = "button"; open.className = "link"; open.textContent = entry.report_id;
      open.addEventListener("click", () => openReport(entry.report_id));
      const td = document.createElement("td"); td.append(open);
      return [td, entry.kind, entry.title];
    });
    $("reports-list").hidden = list.reports.length === 0;
    say("reports-message", list.reports.length ? `${list.reports.length} reports in ${list.year}.` : `No report in ${list.year} yet.`);
  } catch (error) { say("reports-message", error.message, true); }
}

async function openReport(id) {
  try {
    const report = await api(`/operations/reports/${encodeURIComponent(id)}`);
    $("report").hidden = false;
    $("report-heading").textContent = `${report.report_id}: ${report.title}`;
    const issued = report.figures.find((f) => f.key === "invoices_issued");
    const count = (n, one, many) => `${n} ${String(n) === "1" ? one : many}`;
    $("report-summary").textContent = `${count(issued ? issued.shown : "—", "invoice", "invoices")} issued; ` +
      `${count(report.deviations.length, "figure", "figures")} off target. Made ${local(report.generated_at)}.`;
    const files = $("report-files");
    files.replaceChildren();
    for (const [name, label] of [["report.pdf", "The report (PDF)"], ["figures.csv", "Figures (CSV)"], ["daily.csv", "Daily (CSV)"]]) {
      const link = document.createElement("a");
      link.href = report.links[name]; link.textContent = label; link.rel = "noopener"; link.target = "_blank";
      files.append(link);
    }
    const deviations = $("report-deviations");
    deviations.replaceChildren(...(report.deviations.length ? report.deviations : ["Every figure with a target met it."]).map((text) => {
      const item = document.createElement("li"); item.textContent = text; return item;
    }));
    dailyChart($("chart-daily"), report.daily);
    barsChart($("chart-send"), report.send_distribution);
    barsChart($("chart-rejections"), Object.entries(report.rejections_by_code));
    barsChart($("chart-inquiries"), Object.entries(report.inquiries_by_category));
    rows("report-figures", report.figures, (f) => {
      const status = cell(f.status || "—");
      if (f.status) status.className = f.status === "deviation" ? "deviation" : f.status === "ok" ? "ok" : "";
      return [f.section, f.label, f.shown, f.target || "—", status];
    });
    say("reports-message", "");
  } catch (error) { say("reports-message", error.message, true); }
}

start();
