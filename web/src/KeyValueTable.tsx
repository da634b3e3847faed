// A run's properties or tags: key and value, sorted by key.
import type { KeyValues } from "./api";

export function KeyValueTable({ label, values }: { label: string; values: KeyValues | undefined }) {
  if (values === undefined) return <p className="muted">Loading…</p>;
  const keys = Object.keys(values).sort();
  if (keys.length === 0) return <p className="muted">None.</p>;
  return (
    <table className="key-values" aria-label={label}>
      <tbody>
        {keys.map((key) => (
          <tr key={key}>
            <th scope="row">{key}</th>
            <td>{values[key] ?? <span className="muted">(no value)</span>}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
