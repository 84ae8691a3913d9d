import { el } from "./element.ts";

const TOKEN_KEY = "sync-lab:token";

/**
 * The JWT for servers that require one (a deployed Worker with JWT_SECRET). `?token=` in the URL is moved to
 * localStorage and out of the address bar, so it does not end up in a shared session link.
 */
export function readToken(location: Location, history: History): string | undefined {
  const url = new URL(location.href);
  const fromUrl = url.searchParams.get("token");
  if (fromUrl !== null) {
    localStorage.setItem(TOKEN_KEY, fromUrl);
    url.searchParams.delete("token");
    history.replaceState(null, "", url);
  }
  return localStorage.getItem(TOKEN_KEY) ?? undefined;
}

/** A form that stores a new token and reloads; shown when the server refuses the current one. */
export function tokenForm(): HTMLFormElement {
  const input = el("input", { id: "token-input", type: "password", autocomplete: "off", required: true });
  return el("form", { class: "inline token", onsubmit: (event) => {
    event.preventDefault();
    localStorage.setItem(TOKEN_KEY, input.value);
    location.reload();
  } }, [
    el("label", { for: "token-input" }, ["The server wants a token (HS256 JWT)"]),
    input,
    el("button", { type: "submit" }, ["Use token"]),
  ]);
}
