"""`dro-ros bench chaos`: seeded fault runs of a receding-horizon mission over DDS (issue 19's chaos suite).

Run k of `runs` draws its faults from `random.Random(f"{seed}/{k}")` (`mission.chaos.draw_faults`), writes
the run's fleet config (the base `config`, default config/mpc_formation.yaml: 8 robots past three discs, with
the `--set` overrides, e.g. `scenario.receding_horizon.period=2.0`), and flies it once over DDS as separate
processes (`ros.chaos_run.run_once`). Options: `runs`, `seed`, `config`, `period` (the replanning period,
default 3 s: an unfaulted 8-robot mission succeeds at it over DDS on the 2-core machine, at 1-2 s it
does not; None keeps the config's), `wall` (s a run may take before it
counts as hung), `grace` (s a node has to exit on SIGINT), `log_dir` (each run's node output), the drawing
settings of `mission.chaos.ChaosSettings` (`faults_per_run=[1,3]`, `window`, `durations`, `push_speed`,
`delay`, `kinds`), and any dotted key, a fleet-config override. Prints one record per run (faults, outcome,
reason, safety, hangs, wall time, each mission's figures) and the totals (`mission.chaos.totals`).
"""
from __future__ import annotations

import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

from dro_ros.mission.chaos import ChaosSettings, draw_faults, faulted_config, totals
from dro_ros.mission.receding import receding_from_config

DEFAULT_CONFIG = Path(__file__).resolve().parents[2] / "config" / "mpc_formation.yaml"


def run(runs: int = 5, seed: int | str = 0, config: str = str(DEFAULT_CONFIG), period: float | None = 3.0,
        wall: float = 300.0, grace: float = 5.0, log_dir: str = "bench_results/chaos", **options: Any) -> dict[str, Any]:
    from dro_ros.ros.chaos_run import run_once
    from dro_ros.spec.fleet_config import parse_fleet_config, read_fleet_file, set_value

    if not isinstance(runs, int) or isinstance(runs, bool) or runs < 1:
        raise ValueError(f"runs: expected a positive integer, got {runs!r}")
    for name, value in (("wall", wall), ("grace", grace)):
        if not isinstance(value, (int, float)) or isinstance(value, bool) or value <= 0:
            raise ValueError(f"{name}: must be a positive number of seconds, got {value!r}")
    overrides = {key: value for key, value in options.items() if "." in key}
    settings = ChaosSettings.from_options({key: value for key, value in options.items() if "." not in key})
    base = read_fleet_file(config)
    if period is not None:
        set_value(base, "scenario.receding_horizon.period", period)
    for key, value in overrides.items():
        set_value(base, key, value)
    problem = parse_fleet_config(base, config).parsed_scenario.problem   # a bad override fails here, named
    horizon, _ = receding_from_config(base["scenario"], problem.n_agents, problem.dim)
    if horizon is None:
        raise ValueError(f"scenario.receding_horizon: {config} flies no receding-horizon mission")
    horizon.check_against(problem)
    logs = Path(log_dir)
    logs.mkdir(parents=True, exist_ok=True)
    records = []
    for k in range(runs):
        faults = draw_faults(seed, k, problem.n_agents, settings, problem.dim)
        log = logs / f"{Path(config).stem}_seed{seed}_run{k}.log"
        print(f"chaos run {k + 1}/{runs}: " + ", ".join(_describe(f.as_dict()) for f in faults) + f" (log {log})",
              file=sys.stderr, flush=True)
        with log.open("w") as out:
            record = run_once(faulted_config(base, faults, seed), config, faults, wall=wall, grace=grace, out=out)
        records.append({"run": k, **record, "log": str(log)})
        print(f"  -> {record['outcome']}" + (f" ({record['reason']})" if record["reason"] else "")
              + f", safety {'held' if record['safety_held'] else 'VIOLATED'}"
              + (f", HUNG: {record['hung']}" if record["hung"] else "") + f", {record['wall_s']:.0f} s",
              file=sys.stderr, flush=True)
    return {"config": str(config), "seed": seed, "period": period, "overrides": overrides, "settings": asdict(settings),
            "runs": records, "totals": totals(records)}


def _describe(fault: dict[str, Any]) -> str:
    where = f" robot {fault['robot']}" if fault.get("robot") is not None else ""
    when = f" at {fault['time']:g} s for {fault['duration']:g} s" if fault.get("duration") is not None else ""
    return f"{fault['kind']}{where}{when}" + (f" ({fault['delay']:g} s per message)" if "delay" in fault else "")
