import { useEffect } from "react";

/** The browser tab says what the page shows (a run's status while it runs, kept open all day). */
export function useDocumentTitle(title: string | undefined): void {
  useEffect(() => {
    document.title = title ? `${title} · runyard studio` : "runyard studio";
  }, [title]);
}
