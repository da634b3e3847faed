// The modules, grouped as Azure's designer grouped them. Each is dragged onto the canvas, or
// added from the keyboard (Enter or Space on it) at the canvas's first free spot.
import type { DragEvent } from "react";
import type { ModuleSpec } from "../api";

/** the drag's data type: the module's name */
export const MODULE_DRAG_TYPE = "application/x-runyard-module";

export function Palette({ modules, onAdd }: { modules: ModuleSpec[]; onAdd: (module: ModuleSpec) => void }) {
  const categories = [...new Set(modules.map((module) => module.category))];
  const dragStart = (event: DragEvent, module: ModuleSpec) => {
    event.dataTransfer.setData(MODULE_DRAG_TYPE, module.name);
    event.dataTransfer.effectAllowed = "copy";
  };
  return (
    <nav className="palette" aria-label="Modules">
      <h3>Modules</h3>
      <p className="muted hint">Drag one onto the canvas, or press Enter on it to add it.</p>
      {categories.map((category) => (
        <section key={category} aria-label={category}>
          <h4>{category}</h4>
          <ul>
            {modules.filter((module) => module.category === category).map((module) => (
              <li key={module.name}>
                <button type="button" className="palette-item" draggable title={module.description}
                        aria-label={`Add ${module.title}`} aria-describedby={`module-${module.name}`}
                        onDragStart={(event) => dragStart(event, module)} onClick={() => onAdd(module)}>
                  {module.title}
                </button>
                <span id={`module-${module.name}`} className="visually-hidden">{module.description}</span>
              </li>
            ))}
          </ul>
        </section>
      ))}
    </nav>
  );
}
