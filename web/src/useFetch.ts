// One API read for a component: its result or its error, fetched again when `key` changes
// or `reload()` is called. A result that arrives after the key changed is dropped.
import { useCallback, useEffect, useState } from "react";
import { errorMessage } from "./api";

export interface Fetched<T> {
  data: T | undefined;
  error: string | undefined;
  reload: () => void;
}

export function useFetch<T>(load: () => Promise<T>, key: string): Fetched<T> {
  const [result, setResult] = useState<{ key: string; data?: T; error?: string }>({ key });
  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    let current = true;
    load().then(
      (data) => current && setResult({ key, data }),
      (e: unknown) => current && setResult({ key, error: errorMessage(e) }),
    );
    return () => {
      current = false;
    };
    // `load` is a new closure each render; `key` says when it reads something else
  }, [key, attempt]);
  const reload = useCallback(() => setAttempt((n) => n + 1), []);
  const same = result.key === key; // an answer for the key before is not shown for this one
  return { data: same ? result.data : undefined, error: same ? result.error : undefined, reload };
}
