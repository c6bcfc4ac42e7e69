"""``python -m qslogs_synth OUT_DIR [--seed N] [--target-mb N] [--zip]``: thin CLI over generate_bundle."""

from __future__ import annotations

import random
import time
from pathlib import Path

import click

from qslogs_synth import DEFAULT_SEED, generate_bundle, write_collector_zip
from qslogs_synth.ids import Ids
from qslogs_synth.monitoring import SCENARIOS


@click.command()
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--seed", type=int, default=DEFAULT_SEED, show_default=True, help="Random seed (same seed, same bytes)."
)
@click.option(
    "--target-mb", type=float, default=None, help="Pad the bundle with filler traffic to about N MB."
)
@click.option("--nodes", type=int, default=2, show_default=True, help="Number of nodes (1 central + rims).")
@click.option("--zip", "make_zip", is_flag=True, help="Also write the bundle as a Log Collector zip.")
@click.option(
    "--scenario",
    type=click.Choice(SCENARIOS),
    default=None,
    help="Plant this License Monitor state instead of the default story: healthy (hourly, all ok), failing "
    "(last 8 hourly runs: HTTP 401), stale (last 30 runs: 401), missing (no task); all add the service "
    "account's license denials.",
)
def main(
    out_dir: Path, seed: int, target_mb: float | None, nodes: int, make_zip: bool, scenario: str | None
) -> None:
    """Write a synthetic Qlik Sense Log Collector bundle to OUT_DIR/bundle, plus TRUTH.json and a QVD.

    Example: python -m qslogs_synth sample_data; python -m qslogs_synth /tmp/failing --scenario failing
    """
    t0 = time.perf_counter()
    root = generate_bundle(out_dir, seed=seed, target_mb=target_mb, nodes=nodes, scenario=scenario)
    size = sum(p.stat().st_size for p in root.rglob("*") if p.is_file())
    secs = time.perf_counter() - t0
    click.echo(f"bundle: {root} ({size / 1e6:.1f} MB in {secs:.1f} s, {size / 1e6 / secs:.1f} MB/s)")
    if make_zip:
        name = f"SenseCollector_{Ids(random.Random(f'{seed}:zip')).guid()}.zip"
        click.echo(f"zip: {write_collector_zip(root, out_dir / name)}")


if __name__ == "__main__":
    main()
