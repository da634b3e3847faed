// Asked once when the server answers 401: the workspace token (`runyard server --token`),
// checked against the server before it is kept, so a wrong one is told so at once.
import { useState, type FormEvent } from "react";
import { api, errorMessage } from "./api";
import { currentToken, saveToken } from "./token";

export function TokenPrompt() {
  const [token, setToken] = useState("");
  const [problem, setProblem] = useState<string | undefined>(
    currentToken() ? "The server refused the saved token: it may have been started with another one." : undefined,
  );
  const [checking, setChecking] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const given = token.trim();
    if (!given) return;
    setChecking(true);
    try {
      if (await api.acceptsToken(given)) saveToken(given);
      else setProblem("The server refused this token. Check it and try again.");
    } catch (error) {
      setProblem(errorMessage(error));
    } finally {
      setChecking(false);
    }
  };

  return (
    <div className="backdrop">
      <form role="dialog" aria-modal="true" aria-labelledby="token-title" className="token-prompt" onSubmit={submit}>
        <h2 id="token-title">This workspace needs a token</h2>
        <p>
          Enter the token the server was started with (<code>--token</code> or <code>RUNYARD_TOKEN</code>).
          It is kept in this browser.
        </p>
        <label>
          Token{" "}
          <input type="password" autoComplete="current-password" autoFocus value={token}
                 onChange={(e) => setToken(e.target.value)} />
        </label>
        {problem && <p role="alert" className="error">{problem}</p>}
        <button type="submit" disabled={checking}>{checking ? "Checking…" : "Use token"}</button>
      </form>
    </div>
  );
}
