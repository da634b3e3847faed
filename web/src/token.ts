// The workspace token: kept in localStorage, sent with every API call, asked for once when
// the server answers 401. A `?token=` in the address (printed by `runyard studio`) is taken
// and removed from the address bar, so it does not stay in the history or get shared.
import { useSyncExternalStore } from "react";

const STORAGE_KEY = "runyard.token";

interface TokenState {
  token: string | null;
  /** the server refused a call: the prompt is shown until a token it accepts is given */
  needed: boolean;
}

let state: TokenState = { token: readStored(), needed: false };
const listeners = new Set<() => void>();

function readStored(): string | null {
  try {
    return localStorage.getItem(STORAGE_KEY);
  } catch {
    return null; // storage blocked: the token lives for this page only
  }
}

function update(next: Partial<TokenState>): void {
  state = { ...state, ...next };
  listeners.forEach((listener) => listener());
}

export function currentToken(): string | null {
  return state.token;
}

export function saveToken(token: string): void {
  try {
    localStorage.setItem(STORAGE_KEY, token);
  } catch {
    // kept in memory only
  }
  update({ token, needed: false });
}

/** Called by the client on a 401: the first one shows the prompt, later ones change nothing. */
export function tokenRefused(): void {
  if (!state.needed) update({ needed: true });
}

/** Take a `?token=` from the address into storage, and out of the address bar. */
export function adoptTokenFromAddress(): void {
  const url = new URL(window.location.href);
  const given = url.searchParams.get("token");
  if (given === null) return;
  url.searchParams.delete("token");
  window.history.replaceState(window.history.state, "", url.toString());
  if (given !== "") saveToken(given);
}

export function useTokenState(): TokenState {
  return useSyncExternalStore(
    (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    () => state,
  );
}
