"""How the master's activities sheet reads every unit's plan (issue 13 §4), before and after, one run.

    .venv/bin/python bench/bench_activities_read.py --units 2000 --repeat 3 --json

A fresh campaign gets the realistic SQLite store of bench_scale.py (built through add_version: plans of
10–40 varied activities, summaries, history, reports with issues). Then, CPU time (time.process_time),
median of --repeat runs after one warm-up, of reading every activity row of every unit that reported:

- per_unit_cpu_ms (before): one store read per unit, as the sheet did (`full_version`: `latest`, then
  `history` when the latest is not the version the statuses hold);
- one_read_cpu_ms (after): one streamed `Store.iter_versions` over all of them, in the statuses' order;
- sheet_cpu_ms: the activities sheet as the master builds it now (rows as cells, every row consumed);
- master_cpu_ms: the whole master written (`build_master`, xlsx), for scale.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import bench_scale  # noqa: E402  (a sibling script, not a package)


def measure(units: int, repeat: int) -> dict[str, Any]:
    from functions.bootstrap import open_app
    from functions.services.master.master_sheets import build_master, master_sheets
    from functions.services.status.unit_states import full_version, unit_statuses

    with tempfile.TemporaryDirectory(prefix="huizong-bench-activities-") as tmp:
        base = Path(tmp)
        app = open_app(bench_scale._campaign_folder(base, units))
        bench_scale._fill(app, units)
        store, campaign, roster = app.store, app.campaign, app.roster
        statuses = unit_statuses(campaign, roster, store)
        wanted = [
            s.version for s in statuses if s.done and s.version is not None and s.deliverable.key == "plan"
        ]
        now = dt.datetime(2022, 11, 23, 10, tzinfo=campaign.tz)

        def per_unit(_: int) -> int:
            return sum(
                len(full_version(store, v).tables.get("activities", [])) for v in wanted if v is not None
            )

        def one_read(_: int) -> int:
            keys = [(v.unit, v.deliverable, v.seq) for v in wanted if v is not None]
            return sum(len(v.tables.get("activities", [])) for v in store.iter_versions(keys))

        def sheet(_: int) -> int:
            sheets = master_sheets(campaign, roster, store, now=now, statuses=statuses)
            return sum(1 for _row in next(s for s in sheets if s.key == "activities").rows)

        def master(i: int) -> None:
            build_master(campaign, roster, store, base / f"master-{i}.xlsx", now=now, write=app.write_master)

        rows = per_unit(0)
        assert rows == one_read(0) == sheet(0), (rows, one_read(0), sheet(0))
        return {
            "units": units,
            "plans": len(wanted),
            "activity_rows": rows,
            "per_unit_cpu_ms": bench_scale._median_cpu_ms(per_unit, repeat),
            "one_read_cpu_ms": bench_scale._median_cpu_ms(one_read, repeat),
            "sheet_cpu_ms": bench_scale._median_cpu_ms(sheet, repeat),
            "master_cpu_ms": bench_scale._median_cpu_ms(master, repeat),
        }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--units", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per measurement (median)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args()
    result = measure(args.units, args.repeat)
    print(json.dumps(result, indent=2) if args.json else result)


if __name__ == "__main__":
    main()
