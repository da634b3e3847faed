"""Write data/flats.csv: 2,500 made-up flat sales, their prices to predict.

Raw columns as a listing export gives them: floor area with gaps, rooms, a district, a build
year, a floor, whether there is a lift, a listing date, an agent's free-text note and a listing
id (which AutoML drops). The price follows the area (less per square metre in large flats),
the district, the age, high floors without a lift, and a few words of the note. Seeded: every
run writes the same file.

    python make_data.py
"""

from pathlib import Path

import numpy as np
import pandas as pd

rng = np.random.default_rng(21)
rows = 2500
area = rng.gamma(6, 12, rows).round(1) + 18
rooms = np.clip((area / 25 + rng.normal(0, 0.7, rows)).round(), 1, 7).astype(int)
districts = np.array(["Old Town", "Riverside", "Northgate", "Hillcrest", "Docklands", "Elmwood"])
premium = dict(zip(districts, [1.35, 1.2, 0.9, 1.1, 1.25, 0.85]))
district = rng.choice(districts, rows, p=[0.12, 0.18, 0.25, 0.15, 0.1, 0.2])
built = rng.integers(1890, 2024, rows)
floor = rng.integers(0, 12, rows)
lift = (rng.random(rows) < np.where(built > 1970, 0.85, 0.35)).astype(int)
listed = pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, 700, rows), unit="D")
words = np.array(["renovated", "balcony", "quiet", "sunny", "needs work", "garden", "parking", "view", "busy road"])
notes = [" ".join(rng.choice(words, rng.integers(2, 5), replace=False)) for _ in range(rows)]
per_metre = 4200 * np.array([premium[d] for d in district]) * (area ** -0.12) * 1.9
age = 2024 - built
price = (area * per_metre * (1 - 0.0015 * np.clip(age, 0, 80)) * np.where((floor > 3) & (lift == 0), 0.9, 1.0)
         * (1 + 0.08 * np.array(["renovated" in n for n in notes]) - 0.1 * np.array(["needs work" in n for n in notes])
            + 0.05 * np.array(["view" in n for n in notes]))
         * (1 + 0.0002 * (listed - listed.min()).days.to_numpy())
         * rng.lognormal(0, 0.06, rows))
frame = pd.DataFrame({"listing_id": [f"L{i:06d}" for i in range(rows)], "area_m2": area, "rooms": rooms,
                      "district": district, "built": built, "floor": floor, "lift": lift,
                      "listed": listed.strftime("%Y-%m-%d"), "note": notes, "price": price.round(-2)})
frame.loc[rng.random(rows) < 0.04, "area_m2"] = np.nan
Path("data").mkdir(exist_ok=True)
frame.to_csv("data/flats.csv", index=False)
print(f"wrote data/flats.csv ({rows} rows)")
