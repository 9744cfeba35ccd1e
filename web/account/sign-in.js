// The host page's sign-in. Locally (`make local`) it asks the local API for a test token of the
// chosen account; in the storefront, its own sign-in gives the account's token instead.
const form = document.getElementById("sign-in");
const invoices = document.querySelector("saypro-invoices");

async function signIn(event) {
  if (event) event.preventDefault();
  const [role, sub] = form.account.value.split(":");
  const response = await fetch(`/local/token?${new URLSearchParams({ sub, role })}`);
  if (!response.ok) { document.getElementById("who").textContent = "Sign-in failed"; return; }
  const { token } = await response.json();
  document.getElementById("who").textContent = `Signed in as ${sub}`;
  invoices.token = token;
}

form.addEventListener("submit", signIn);
