"""The example's data, made offline and the same every time: weekly sales of ``stores`` stores.

Each store has its own base level, price sensitivity, promotion lift and trend, so each
needs its own model. ``history`` holds weeks 0-51 with their sales (to train on), ``upcoming``
weeks 52-55 with price and promotion only (to score).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

WEEKS, AHEAD = 52, 4


def make(stores: int, seed: int = 17) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(history, upcoming) for stores ``S0000`` .. ``S<stores - 1>``."""
    rng = np.random.default_rng(seed)
    ids = np.array([f"S{i:04d}" for i in range(stores)])
    base = rng.uniform(200, 2000, stores)
    elasticity = rng.uniform(5, 40, stores)
    lift = rng.uniform(0.05, 0.4, stores)
    trend = rng.normal(0, 2, stores)
    weeks = np.arange(WEEKS + AHEAD)
    store = np.repeat(np.arange(stores), len(weeks))
    week = np.tile(weeks, stores)
    price = np.round(rng.uniform(2, 12, store.size), 2)
    promo = (rng.random(store.size) < 0.2).astype(int)
    sales = (base[store] + trend[store] * week - elasticity[store] * price) * (1 + lift[store] * promo)
    sales = np.round(np.maximum(sales + rng.normal(0, 25, store.size), 0), 1)
    frame = pd.DataFrame({"store": ids[store], "week": week, "price": price, "promo": promo, "sales": sales})
    history = frame[frame["week"] < WEEKS].reset_index(drop=True)
    upcoming = frame[frame["week"] >= WEEKS].drop(columns="sales").reset_index(drop=True)
    return history, upcoming
