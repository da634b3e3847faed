"""Write data/sales.csv and data/future.csv: two years of daily sales of five made-up stores.

Each store has its own level, a weekly pattern (weekends sell most), a slow trend, a yearly
swing, promotion days that lift sales, and dips on US holidays. sales.csv holds the history up
to 2024-12-17; future.csv the 14 days after it, with the promotions planned for them (known
future values) and, for checking, the sales that came. Seeded: every run writes the same files.

    python make_data.py
"""

from pathlib import Path

import holidays
import numpy as np
import pandas as pd

rng = np.random.default_rng(11)
days = pd.date_range("2023-01-01", "2024-12-31", freq="D")
us = holidays.country_holidays("US", years=[2023, 2024])
holiday = np.array([d.date() in us for d in days])
weekly = np.array([0.9, 0.85, 0.9, 0.95, 1.1, 1.35, 1.25])[days.dayofweek]
yearly = 1 + 0.15 * np.sin(2 * np.pi * (days.dayofyear - 80) / 365.25)
parts = []
for index, store in enumerate(["Ashford", "Brigg", "Cowley", "Dunmore", "Elton"]):
    level = 200 + 60 * index
    promo = (rng.random(len(days)) < 0.12).astype(int)
    trend = 1 + 0.0003 * np.arange(len(days)) * (index - 1)
    sales = level * weekly * yearly * trend * (1 + 0.25 * promo) * np.where(holiday, 0.6, 1.0)
    sales = sales * rng.normal(1, 0.05, len(days))
    parts.append(pd.DataFrame({"date": days.strftime("%Y-%m-%d"), "store": store, "promotion": promo,
                               "sales": sales.round(1)}))
frame = pd.concat(parts, ignore_index=True)
cut = "2024-12-17"
Path("data").mkdir(exist_ok=True)
frame[frame["date"] <= cut].to_csv("data/sales.csv", index=False)
frame[frame["date"] > cut].to_csv("data/future.csv", index=False)
print(f"wrote data/sales.csv ({(frame['date'] <= cut).sum()} rows) and data/future.csv "
      f"({(frame['date'] > cut).sum()} rows)")
