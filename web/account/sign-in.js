// The host page's sign-in, through the configured OpenID Connect issuer (../sign-in/oidc.js); the
// storefront's own account area does the same with its own sign-in and hands the component the
// account's token. Locally (`make local`) the issuer is the local one, which lists test accounts.
import { session, signIn, signOut, SignInError } from "../sign-in/oidc.js";

const invoices = document.querySelector("saypro-invoices");
const who = document.getElementById("who");
const signInButton = document.getElementById("sign-in");
const signOutButton = document.getElementById("sign-out");

function show(signedIn) {
  signInButton.hidden = Boolean(signedIn);
  signOutButton.hidden = !signedIn;
  who.textContent = signedIn ? `Signed in as ${signedIn.name}` : "Not signed in";
}

signInButton.addEventListener("click", () => signIn().catch((error) => { who.textContent = error.message; }));
signOutButton.addEventListener("click", () => { signOut(); invoices.token = null; show(null); });
invoices.addEventListener("saypro-signed-out", () => { signOut(); show(null); who.textContent = "Your session ended: sign in again."; });

try {
  const signedIn = await session();
  show(signedIn);
  if (signedIn) invoices.token = signedIn.token;
} catch (error) {
  show(null);
  const alert = document.createElement("span");
  alert.setAttribute("role", "alert");
  alert.textContent = error instanceof SignInError ? error.message : `Sign-in failed: ${error.message}`;
  who.replaceChildren(alert);
}
