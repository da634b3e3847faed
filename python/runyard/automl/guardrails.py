"""Data guardrails: what AutoML found in the training data and what it did about it.

Each guardrail is ``Passed`` (nothing to do), ``Done`` (changed something: imputed, hashed,
split) or ``Alerted`` (a problem it cannot fix for you), with the columns or classes it
concerns, as Azure ML's ``run.get_guardrails()`` shows them:

- *Validation split handling*: Done, saying how iterations are validated;
- *Class balancing detection* (classification): Alerted when the smallest class has at most
  20% of the rows of the largest (Azure's threshold), else Passed;
- *Missing feature values imputation*: Done, per column and how, where values were missing;
- *High cardinality feature detection*: Done where columns were hashed or dropped as
  identifiers;
- forecasting: *Frequency detection* (Passed, naming the frequency found or given),
  *Missing target values* (Done where periods were missing and were added, the target carried
  forward), *Short series handling* (Passed, or Done naming the series dropped or padded).

``verifier_results`` gives them in the shape Azure keeps as ``outputs/verifier_results.json``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

PASSED, DONE, ALERTED = "Passed", "Done", "Alerted"
#: Azure's CheckImbalance threshold: smallest class / largest class
IMBALANCE_RATIO = 0.2
SCHEMA_VERSION = "1.0.0"


@dataclass(frozen=True)
class Guardrail:
    type: str
    status: str
    description: str
    parameters: list[dict[str, str]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """Azure's fault entry: ``friendly_type``, ``result``, ``friendly_result``, ``friendly_parameters``."""
        return {"friendly_type": self.type, "result": self.status, "friendly_result": self.description,
                "friendly_parameters": self.parameters}


def check(task: str, y: Any, featurizer: Any, plan: Any) -> list[Guardrail]:
    """The guardrails of a run: its target ``y``, its fitted featuriser, its validation plan."""
    found = [Guardrail("Validation split handling", DONE, f"Each iteration is validated on {plan.describe()}.")]
    if task == "classification":
        found.append(class_balance(y))
    report = featurizer.report() if featurizer is not None else []
    imputed = [r for r in report if r["imputed"]]
    if imputed:
        found.append(Guardrail("Missing feature values imputation", DONE,
                               "Missing values in these columns were imputed.",
                               [{"Column name": r["column"], "Imputation type": r["imputed"]} for r in imputed]))
    else:
        found.append(Guardrail("Missing feature values imputation", PASSED,
                               "No missing feature values were found in the training data."))
    wide = [r for r in report if r["purpose"] in ("CategoricalHash", "Hashes")]
    if wide:
        found.append(Guardrail("High cardinality feature detection", DONE,
                               "High-cardinality columns were hashed, or dropped as identifiers.",
                               [{"Column name": r["column"],
                                 "Action": "hashed" if r["purpose"] == "CategoricalHash" else "dropped",
                                 "Why": r["reason"]} for r in wide]))
    else:
        found.append(Guardrail("High cardinality feature detection", PASSED,
                               "No high-cardinality features were detected."))
    return found


def forecasting(settings: dict[str, Any]) -> list[Guardrail]:
    """The time-series guardrails of a forecasting run's resolved settings (``forecasting.resolve``)."""
    given = settings["parameters"].get("freq")
    found = [Guardrail("Frequency detection", PASSED,
                       f"Every time in the data is on the frequency {settings['freq']!r} "
                       f"({'given' if given else 'detected'}); seasonality {settings['seasonality']}.",
                       [{"Frequency": settings["freq"], "Seasonality": str(settings["seasonality"]),
                         "Series": str(settings["series"])}])]
    if settings["added"]:
        found.append(Guardrail("Missing target values", DONE,
                               f"{settings['added']} period(s) missing inside series were added, their target "
                               f"carried forward and their features imputed."))
    else:
        found.append(Guardrail("Missing target values", PASSED, "No period is missing inside any series."))
    short = [("dropped", n) for n in settings["dropped"]] + [("padded", n) for n in settings["padded"]]
    if short:
        found.append(Guardrail("Short series handling", DONE,
                               f"Series shorter than the {settings['needed']} periods training and validation need "
                               f"were {' and '.join(sorted({a for a, _ in short}))}.",
                               [{"Series": name, "Action": action} for action, name in short]))
    else:
        found.append(Guardrail("Short series handling", PASSED,
                               f"Every series has at least the {settings['needed']} periods training and validation "
                               f"need."))
    return found


def class_balance(y: Any) -> Guardrail:
    import pandas as pd
    counts = pd.Series(y).value_counts()
    smallest, largest = int(counts.min()), int(counts.max())
    parameters = [{"Class": str(label), "Rows": str(int(n)), "Share": f"{n / counts.sum():.1%}"}
                  for label, n in counts.items()]
    if smallest / largest <= IMBALANCE_RATIO:
        return Guardrail("Class balancing detection", ALERTED,
                         f"The classes are imbalanced: the smallest has {smallest} rows, {smallest / largest:.0%} of "
                         f"the largest's {largest} (alerted at {IMBALANCE_RATIO:.0%} or less). Accuracy can mislead "
                         f"here: consider AUC_weighted or norm_macro_recall as the primary metric, or more rows of "
                         f"the small classes.", parameters)
    return Guardrail("Class balancing detection", PASSED, "The classes are balanced in the training data.", parameters)


def verifier_results(guardrails: list[Guardrail]) -> dict[str, Any]:
    return {"schema_version": SCHEMA_VERSION, "faults": [g.to_json() for g in guardrails]}


def format_console(results: dict[str, Any]) -> str:
    """The guardrails as Azure prints them (``TYPE:``, ``STATUS:``, ``DESCRIPTION:``,
    ``PARAMETERS:``)."""
    faults = results.get("faults") or []
    if not faults:
        return "Guardrail verification completed without any detected problems."
    lines = ["*" * 116, "DATA GUARDRAILS: ", ""]
    for fault in faults:
        lines += [f"{'TYPE:':<14}{fault['friendly_type']}", f"{'STATUS:':<14}{str(fault['result']).upper()}",
                  f"{'DESCRIPTION:':<14}{fault['friendly_result']}"]
        params = fault.get("friendly_parameters") or []
        if params:
            keys = list(params[0])
            widths = [max(len(k), *(len(str(p.get(k, ""))) for p in params)) for k in keys]
            lines.append(f"{'PARAMETERS:':<14}" + " | ".join(k.ljust(w) for k, w in zip(keys, widths)))
            lines += [" " * 14 + " | ".join(str(p.get(k, "")).ljust(w) for k, w in zip(keys, widths)) for p in params]
        lines += ["", "*" * 116]
    return "\n".join(lines)
