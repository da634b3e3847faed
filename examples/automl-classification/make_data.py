"""Write data/customers.csv: 3,000 made-up customers of a subscription service, 12% of whom churned.

Raw columns as an export would give them: numbers with gaps, a plan name, a signup date, a free-text
note and a customer id (which AutoML drops). Seeded, so every run writes the same file.

    python make_data.py
"""

from pathlib import Path

import numpy as np
import pandas as pd

rng = np.random.default_rng(7)
rows = 3000
tenure = rng.integers(1, 72, rows)
charges = rng.normal(70, 25, rows).round(2)
plan = rng.choice(["basic", "plus", "pro"], rows, p=[0.5, 0.3, 0.2])
support_calls = rng.poisson(1.5, rows)
signup = pd.Timestamp("2021-01-01") + pd.to_timedelta(rng.integers(0, 1000, rows), unit="D")
words = np.array(["slow", "app", "great", "price", "billing", "support", "fast", "cancel", "happy", "issue"])
notes = [" ".join(rng.choice(words, rng.integers(3, 7))) for _ in range(rows)]
risk = (-0.06 * tenure + 0.025 * charges + 0.5 * support_calls + (plan == "basic") * 0.8
        + np.array(["cancel" in n for n in notes]) * 1.2 + rng.normal(0, 0.8, rows))
churned = risk > np.quantile(risk, 0.88)  # the top 12%: an imbalanced label
frame = pd.DataFrame({"customer_id": [f"C{i:06d}" for i in range(rows)], "tenure_months": tenure,
                      "monthly_charges": charges, "plan": plan, "support_calls": support_calls,
                      "signup_date": signup.strftime("%Y-%m-%d"), "note": notes,
                      "churned": np.where(churned, "yes", "no")})
frame.loc[rng.random(rows) < 0.05, "monthly_charges"] = np.nan
Path("data").mkdir(exist_ok=True)
frame.to_csv("data/customers.csv", index=False)
print(f"wrote data/customers.csv: {rows} rows, {churned.mean():.0%} churned")
