"""Throughput of the review-text models (malicious + deceptive + cause) and their flag rates on real
Chinese shop reviews, printed as JSON.

Scores N reviews from ../shared/data/online_shopping_10_cats.csv with the seed-trained default
models (trained into a temporary registry first) in batches of 2,000, as ``detect()`` does.
``texts_per_cpu_second`` uses the process's CPU time, i.e. one core's rate on a shared machine.
The flag counts show how often the defaults fire on ordinary reviews (that data set has no
extortion labels; every malicious hit is listed for a person to check).
Usage: python benchmarks/text_scoring.py [--rows 10000]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from monitor.config import load_settings
from monitor.paths import shared_dir


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10000)
    args = parser.parse_args(argv)
    path = shared_dir() / "data" / "online_shopping_10_cats.csv"
    if not path.is_file():
        print(json.dumps({"skipped": f"{path} not found (set SHOPMON_SHARED)"}))
        return 0
    import pandas as pd

    from monitor.detection.live_models import load_models
    from monitor.detection.text import score_texts

    texts = pd.read_csv(path)["review"].astype(str).tolist()[: args.rows]
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(data_dir=Path(tmp))
        t0 = time.perf_counter()
        models = load_models(settings)
        train_s = time.perf_counter() - t0
        t0, c0 = time.perf_counter(), time.process_time()
        scores = []
        for i in range(0, len(texts), 2000):
            scores += score_texts(models, texts[i : i + 2000])
        score_s, cpu_s = time.perf_counter() - t0, time.process_time() - c0
    malicious = [t for s, t in zip(scores, texts, strict=True) if s.is_malicious]
    causes: dict[str, int] = {}
    for s in scores:
        causes[s.cause] = causes.get(s.cause, 0) + 1
    print(json.dumps({
        "rows": len(texts),
        "mean_chars": round(sum(map(len, texts)) / len(texts), 1),
        "seed_models_train_seconds": round(train_s, 2),
        "score_seconds": round(score_s, 2),
        "texts_per_second": round(len(texts) / score_s),
        # CPU time of this process: one core's throughput even when the machine is shared.
        "score_cpu_seconds": round(cpu_s, 2),
        "texts_per_cpu_second": round(len(texts) / cpu_s),
        "malicious_flags": len(malicious),
        "malicious_texts": [t[:80] for t in malicious[:20]],
        "deceptive_flags": sum(s.is_deceptive for s in scores),
        "cause_over_all_rows": causes,
    }, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
