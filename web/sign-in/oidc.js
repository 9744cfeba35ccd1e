// Sign-in for the pages through the configured OpenID Connect issuer: the authorization code flow
// with PKCE (RFC 7636, S256) as a public client, so no secret ever reaches a browser.
//
// The issuer and client come from /sign-in/config.json (written per environment by the CDK stack;
// served by the local API locally, where its test issuer signs the test accounts in). Endpoints
// come from the issuer's discovery document, whose `issuer` must be the configured one. `state`
// binds the answer to the sign-in this tab started, `nonce` the ID token to it; the code leaves the
// address bar and history as soon as it is read. The session lives in this tab only
// (sessionStorage) until its token expires: no refresh token is ever kept in a browser.

const SESSION = "saypro.session";
const PENDING = "saypro.sign-in";

export class SignInError extends Error {}

let configuration = null;

async function json(url, init) {
  const response = await fetch(url, init);
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    throw new SignInError(body.error_description || body.error || `The identity provider answered ${response.status}.`);
  }
  return body;
}

function trimmed(url) { return url.replace(/\/+$/, ""); }

async function provider() {
  if (configuration) return configuration;
  const config = await json("/sign-in/config.json", { cache: "no-store" });
  const discovery = await json(`${trimmed(config.issuer)}/.well-known/openid-configuration`);
  if (trimmed(discovery.issuer || "") !== trimmed(config.issuer)) {
    throw new SignInError("The identity provider's discovery document names another issuer.");
  }
  if (!(discovery.code_challenge_methods_supported || ["S256"]).includes("S256")) {
    throw new SignInError("The identity provider does not support PKCE (S256).");
  }
  configuration = { config, discovery };
  return configuration;
}

function base64url(bytes) {
  let text = "";
  for (const byte of new Uint8Array(bytes)) text += String.fromCharCode(byte);
  return btoa(text).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

function random(length) { return base64url(crypto.getRandomValues(new Uint8Array(length))); }

function claims(jwt) {
  const part = (jwt || "").split(".")[1];
  if (!part) return {};
  try {
    const text = atob(part.replaceAll("-", "+").replaceAll("_", "/"));
    return JSON.parse(new TextDecoder().decode(Uint8Array.from(text, (c) => c.charCodeAt(0))));
  } catch { return {}; }
}

// The page's folder (/console/, /account/): the address registered with the issuer.
function redirectUri() { return `${location.origin}${location.pathname.replace(/index\.html$/, "")}`; }

/** Go to the issuer to sign in; it comes back to this page with a code. */
export async function signIn() {
  const { config, discovery } = await provider();
  const verifier = random(32);
  const challenge = base64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
  const state = random(16);
  const nonce = random(16);
  sessionStorage.setItem(PENDING, JSON.stringify({ verifier, state, nonce, redirect_uri: redirectUri() }));
  const query = new URLSearchParams({
    response_type: "code",
    client_id: config.client_id,
    redirect_uri: redirectUri(),
    scope: config.scopes || "openid",
    state,
    nonce,
    code_challenge: challenge,
    code_challenge_method: "S256",
  });
  location.assign(`${discovery.authorization_endpoint}?${query}`);
}

/** On every load: finish a sign-in the issuer sent back here, or return this tab's session (or null). */
export async function session() {
  const answer = new URLSearchParams(location.search);
  if (answer.has("state") && (answer.has("code") || answer.has("error"))) {
    history.replaceState(null, "", location.pathname.replace(/index\.html$/, ""));
    return finish(answer);
  }
  const saved = JSON.parse(sessionStorage.getItem(SESSION) || "null");
  if (saved && saved.expires_at * 1000 > Date.now() + 30_000) return saved;
  sessionStorage.removeItem(SESSION);
  return null;
}

async function finish(answer) {
  const pending = JSON.parse(sessionStorage.getItem(PENDING) || "null");
  sessionStorage.removeItem(PENDING);
  if (!pending || answer.get("state") !== pending.state) {
    throw new SignInError("This sign-in was not started from this page: sign in again.");
  }
  if (answer.has("error")) {
    throw new SignInError(answer.get("error_description") || `Sign-in refused: ${answer.get("error")}.`);
  }
  const { config, discovery } = await provider();
  const tokens = await json(discovery.token_endpoint, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "authorization_code",
      code: answer.get("code"),
      redirect_uri: pending.redirect_uri,
      client_id: config.client_id,
      code_verifier: pending.verifier,
    }),
  });
  // Straight from the token endpoint over TLS, so its signature is the issuer's (OIDC Core 3.1.3.7);
  // these checks bind it to this issuer, this client and this sign-in.
  const id = claims(tokens.id_token);
  const audience = [].concat(id.aud || []);
  if (trimmed(id.iss || "") !== trimmed(discovery.issuer) || !audience.includes(config.client_id)) {
    throw new SignInError("The ID token was not issued for these pages.");
  }
  if (id.nonce !== pending.nonce) throw new SignInError("The ID token belongs to another sign-in.");
  const token = tokens[config.send_to_api || "access_token"];
  if (!token) throw new SignInError("The identity provider returned no token for the API.");
  const api = claims(token);
  const expiresAt = Math.min(api.exp || Infinity, id.exp || Infinity, Date.now() / 1000 + (tokens.expires_in || 3600));
  const signedIn = {
    token,
    sub: api.sub || id.sub,
    name: id.name || id.email || id.sub,
    role: api.role || api["custom:role"] || id.role || id["custom:role"] || "",
    expires_at: Math.floor(expiresAt),
  };
  sessionStorage.setItem(SESSION, JSON.stringify(signedIn));
  return signedIn;
}

/** Forget this tab's session (the issuer's own session ends at the issuer). */
export function signOut() { sessionStorage.removeItem(SESSION); }
