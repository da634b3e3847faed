// The designer's drawings, each opening its canvas, and a new one started by its name (the
// folder it is saved in, so letters, digits, '_' and '-').
import { useState, type FormEvent } from "react";
import { api } from "../api";
import { href } from "../route";
import { useDocumentTitle } from "../useDocumentTitle";
import { useFetch } from "../useFetch";

const NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

export function DrawingList() {
  useDocumentTitle("Designer");
  const drawings = useFetch(api.drawings, "drawings");
  const [name, setName] = useState("");
  const [problem, setProblem] = useState<string | undefined>();
  const start = (event: FormEvent) => {
    event.preventDefault();
    const given = name.trim();
    if (!NAME.test(given)) {
      setProblem("A name is letters, digits, '_' and '-' (up to 64), starting with a letter or digit.");
      return;
    }
    if (drawings.data?.includes(given)) {
      setProblem(`There is a drawing called ${given} already: open it below, or choose another name.`);
      return;
    }
    window.location.hash = href.drawing(given);
  };
  return (
    <section className="drawings" aria-label="Designer">
      <h2>Designer</h2>
      <p className="muted">
        Pipelines drawn from modules, saved as pipeline YAML that <code>runyard pipeline submit -f</code> runs.
      </p>
      <form className="new-drawing" onSubmit={start} aria-label="New pipeline">
        <label htmlFor="new-drawing-name">New pipeline named</label>
        <input id="new-drawing-name" type="text" value={name} aria-describedby="new-drawing-problem"
               onChange={(e) => { setName(e.target.value); setProblem(undefined); }} />
        <button type="submit">New pipeline</button>
        <span id="new-drawing-problem" role="alert" className="error">{problem}</span>
      </form>
      <h3>Saved drawings</h3>
      {drawings.error && <p role="alert" className="error">{drawings.error}</p>}
      {drawings.data?.length === 0 && <p className="muted">No drawings yet.</p>}
      <ul aria-label="Saved drawings">
        {drawings.data?.map((drawing) => <li key={drawing}><a href={href.drawing(drawing)}>{drawing}</a></li>)}
      </ul>
    </section>
  );
}
