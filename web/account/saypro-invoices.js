// <saypro-invoices>: the "Invoices" section of a customer's or vendor's account, as a web component
// the storefront embeds in its own account area. It calls the invoices API with the account's own
// token (the storefront's sign-in gives it): `element.token = jwt`. No framework, no dependency.
//
//   <script type="module" src="https://<invoices-site>/account/saypro-invoices.js"></script>
//   <saypro-invoices api-base="https://<invoices-api>"></saypro-invoices>
//   <script type="module">document.querySelector("saypro-invoices").token = await myAccountToken();</script>
//
// Everything it shows comes from the API (the invoice documents and their live status); every
// value is put in the page as text, never as HTML.

const PAYMENT_STATES = {
  paid: "Paid",
  partially_paid: "Partially paid",
  unpaid: "Unpaid",
  overdue: "Overdue",
  refunded: "Refunded",
  partially_refunded: "Partially refunded",
  credited: "Credited",
};
const DELIVERY = {
  SENDING: "Being sent",
  SENT: "Sent",
  DELIVERED: "Delivered",
  LISTED: "In your account",
  BOUNCED: "Bounced",
  COMPLAINED: "Sent",
  UNDELIVERABLE: "Could not be delivered",
  REDELIVERING: "Being sent again",
};
const KINDS = { CUSTOMER: "Invoice", VENDOR: "Vendor invoice", CREDIT_NOTE: "Credit note", VENDOR_CREDIT_NOTE: "Vendor credit note" };

const STYLE = `
:host { display: block; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: #212529; }
h2 { font-size: 1.3rem; color: #1c3d66; margin: 0 0 .75rem; }
form { display: flex; flex-wrap: wrap; gap: .75rem 1rem; align-items: flex-end; margin-bottom: 1rem; }
label { display: flex; flex-direction: column; font-size: .9rem; color: #495057; gap: .2rem; }
input, select, button { font: inherit; padding: .4rem .5rem; border: 1px solid #6c757d; border-radius: .3rem; min-height: 44px; }
button { background: #1c3d66; color: #fff; border-color: #1c3d66; font-weight: 600; cursor: pointer; padding: .4rem .9rem; }
button.link { background: none; color: #1c3d66; border: none; padding: .2rem .3rem; min-height: 0; text-decoration: underline; font-weight: 600; }
button.secondary { background: #fff; color: #1c3d66; }
button:focus-visible, input:focus-visible, select:focus-visible { outline: 3px solid #f0a500; outline-offset: 2px; }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .5rem; border-bottom: 1px solid #d6dbe0; vertical-align: top; }
th { font-size: .85rem; color: #5c636a; }
td.num { text-align: right; white-space: nowrap; }
caption { text-align: left; padding-bottom: .25rem; }
.muted { color: #5c636a; font-size: .9rem; }
.status { font-weight: 700; }
.status.overdue { color: #b02020; } .status.unpaid, .status.partially_paid { color: #8a4b00; } .status.paid { color: #1c703c; }
[role=alert] { color: #b02020; font-weight: 600; }
@media (max-width: 40rem) { thead { display: none; } tr { display: block; border-bottom: 1px solid #d6dbe0; padding: .5rem 0; }
  td { display: block; border: none; padding: .15rem 0; } td.num { text-align: left; } td::before { content: attr(data-label) ": "; color: #5c636a; } }
`;

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name === "text") node.textContent = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value);
  }
  node.append(...children.filter((child) => child !== null && child !== undefined));
  return node;
}

function formatDate(iso) {
  return new Date(iso).toLocaleDateString(undefined, { year: "numeric", month: "short", day: "numeric", timeZone: "UTC" });
}

class SayProInvoices extends HTMLElement {
  #token = null;
  #next = null;
  #root;

  constructor() {
    super();
    this.#root = this.attachShadow({ mode: "open" });
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(STYLE);
    this.#root.adoptedStyleSheets = [sheet];
  }

  set token(value) {
    this.#token = value;
    if (value) { this.#load(true); return; }
    if (this.body) { this.body.replaceChildren(); this.more.hidden = true; this.message.textContent = "Sign in to see your invoices."; }
  }

  get apiBase() {
    return (this.getAttribute("api-base") || "").replace(/\/$/, "");
  }

  connectedCallback() {
    const status = el("select", { name: "payment_status", id: "payment_status" },
      el("option", { value: "", text: "Any" }),
      ...Object.entries(PAYMENT_STATES).map(([value, label]) => el("option", { value, text: label })));
    this.form = el("form", { role: "search", "aria-label": "Filter invoices", onsubmit: (event) => { event.preventDefault(); this.#load(true); } },
      el("label", {}, "Order number", el("input", { name: "order_id", type: "search", maxlength: "64", autocomplete: "off" })),
      el("label", {}, "Issued from", el("input", { name: "issued_from", type: "date" })),
      el("label", {}, "Issued to", el("input", { name: "issued_to", type: "date" })),
      el("label", {}, "Payment status", status),
      el("button", { type: "submit", text: "Show" }),
      el("button", { type: "reset", class: "secondary", text: "Clear", onclick: () => setTimeout(() => this.#load(true)) }));
    this.message = el("p", { "aria-live": "polite", class: "muted" });
    this.body = el("tbody");
    this.more = el("button", { type: "button", class: "secondary", hidden: "", text: "Show older invoices", onclick: () => this.#load(false) });
    this.#root.append(
      el("h2", { text: this.getAttribute("heading") || "Invoices" }),
      this.form,
      this.message,
      el("div", { class: "table-wrap" }, el("table", {},
        el("caption", { class: "muted", text: "Newest first. Open shows the invoice; Download PDF and Print work on any device." }),
        el("thead", {}, el("tr", {}, ...["Invoice", "Issued", "Order", "Total", "Payment", "Delivery", "Corrections", "Actions"].map((h) => el("th", { scope: "col", text: h })))),
        this.body)),
      this.more);
    if (!this.#token) this.message.textContent = "Sign in to see your invoices.";
  }

  async #load(reset) {
    if (!this.#token || !this.body) return;
    const query = new URLSearchParams({ limit: "20" });
    for (const [name, value] of new FormData(this.form)) if (value) query.set(name, value);
    if (!reset && this.#next) query.set("next_token", this.#next);
    this.message.textContent = "Loading…";
    const answer = await this.#get(`/invoices?${query}`);
    if (!answer) return;
    if (reset) this.body.replaceChildren();
    for (const invoice of answer.items) this.body.append(this.#row(invoice));
    this.#next = answer.next_token;
    this.more.hidden = !this.#next;
    const shown = this.body.children.length;
    this.message.textContent = shown ? `${shown} shown.` : "No invoice matches.";
  }

  async #get(path) {
    let response;
    try {
      response = await fetch(this.apiBase + path, { headers: { Authorization: `Bearer ${this.#token}` } });
    } catch {
      this.#fail("The invoices could not be reached. Try again in a moment.");
      return null;
    }
    if (response.status === 401) {
      // The host hears of it (event "saypro-signed-out") and signs the account in again.
      this.#fail("Your session has ended: sign in again.");
      this.dispatchEvent(new CustomEvent("saypro-signed-out", { bubbles: true }));
      return null;
    }
    if (response.status === 404) { this.#fail("That invoice is not one of yours."); return null; }
    if (!response.ok) {
      const body = await response.json().catch(() => ({}));
      this.#fail(body.message || `The invoices could not be listed (${response.status}).`);
      return null;
    }
    return response.json();
  }

  #fail(text) {
    this.message.replaceChildren(el("span", { role: "alert", text }));
  }

  #row(invoice) {
    const state = invoice.payment_state;
    const payment = state
      ? el("span", { class: `status ${state}`, text: PAYMENT_STATES[state] || state })
      : el("span", { class: "muted", text: KINDS[invoice.kind] || invoice.kind });
    const balance = state && invoice.balance_due && Number(invoice.balance_due) > 0
      ? el("span", { class: "muted", text: ` ${invoice.balance_due} ${invoice.currency} due${invoice.due_date ? ` by ${formatDate(invoice.due_date)}` : ""}` })
      : null;
    const chain = el("td", { "data-label": "Corrections" });
    const link = (label, number) => el("div", {}, `${label} `, el("button", { type: "button", class: "link", text: number, onclick: () => this.open(number) }));
    if (invoice.replaces) chain.append(link("Replaces", invoice.replaces));
    if (invoice.credits_invoice_number) chain.append(link("Credits", invoice.credits_invoice_number));
    for (const note of invoice.credit_notes || []) chain.append(link("Credit note", note));
    if (invoice.replaced_by) chain.append(link("Replaced by", invoice.replaced_by));
    return el("tr", {},
      el("td", { "data-label": "Invoice" }, el("strong", { text: invoice.invoice_number }), el("div", { class: "muted", text: KINDS[invoice.kind] || "" })),
      el("td", { "data-label": "Issued", text: formatDate(invoice.issued_at) }),
      el("td", { "data-label": "Order", text: invoice.order_id }),
      el("td", { "data-label": "Total", class: "num", text: `${invoice.grand_total} ${invoice.currency}` }),
      el("td", { "data-label": "Payment" }, payment, balance),
      el("td", { "data-label": "Delivery", text: DELIVERY[invoice.delivery_status] || "Being sent" }),
      chain,
      el("td", { "data-label": "Actions" },
        el("button", { type: "button", class: "link", text: "Open", "aria-label": `Open ${invoice.invoice_number}`, onclick: () => this.open(invoice.invoice_number) }),
        el("button", { type: "button", class: "link", text: "Download PDF", "aria-label": `Download ${invoice.invoice_number} as PDF`, onclick: () => this.open(invoice.invoice_number, "pdf") }),
        el("button", { type: "button", class: "link", text: "Print", "aria-label": `Print ${invoice.invoice_number}`, onclick: () => this.open(invoice.invoice_number, "print") })));
  }

  // Opens the hosted invoice page (or its PDF, or the page's print dialog) from a fresh signed link.
  async open(number, how = "page") {
    const tab = window.open("", "_blank");
    const link = await this.#get(`/invoices/${encodeURIComponent(number)}/download-link`);
    if (!link) { if (tab) tab.close(); return; }
    const url = how === "pdf" ? `${link.url}&format=pdf` : how === "print" ? `${link.url}#print` : link.url;
    if (tab) { tab.opener = null; tab.location.href = url; } else { window.location.href = url; }
  }
}

customElements.define("saypro-invoices", SayProInvoices);
