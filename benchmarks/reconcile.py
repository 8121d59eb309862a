"""Measure the engine's cost per reconcile step, without a cluster or a network.

Runs the generic reconciler against the in-memory ARM of the unit tests:
first the create of N registries, then R resyncs of each (a GET and a
comparison, no write). Prints steps per second and the peak memory that
tracemalloc saw. It measures the operator's own Python work; a real ARM
round trip (tens to hundreds of milliseconds) dominates in production.

    .venv/bin/python benchmarks/reconcile.py --objects 200 --resyncs 5
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.unit.fakes import Harness, registry  # the unit tests' in-memory ARM


async def run(objects: int, resyncs: int) -> None:
    harnesses = []
    for index in range(objects):
        obj = registry(tags={"team": "a"})
        obj["metadata"]["name"] = f"bench{index}"
        obj["metadata"]["uid"] = f"uid-{index}"
        obj["spec"]["azureName"] = f"benchregistry{index:05d}"
        harnesses.append(Harness(obj))

    tracemalloc.start()
    started = time.perf_counter()
    for harness in harnesses:
        await harness.step()
    created = time.perf_counter() - started

    started = time.perf_counter()
    for _ in range(resyncs):
        for harness in harnesses:
            await harness.step()
    resynced = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    writes = sum(len(h.arm.writes()) for h in harnesses)
    print(f"objects: {objects}, resyncs each: {resyncs}, ARM writes: {writes}")
    print(f"create steps: {objects / created:8.0f} per second ({created * 1000 / objects:.2f} ms each)")
    steps = objects * resyncs
    print(f"resync steps: {steps / resynced:8.0f} per second ({resynced * 1000 / steps:.2f} ms each)")
    print(f"peak traced memory: {peak / 2**20:.1f} MiB ({peak / objects / 1024:.1f} KiB per object)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=200, help="registries to reconcile")
    parser.add_argument("--resyncs", type=int, default=5, help="resync steps per registry")
    args = parser.parse_args()
    asyncio.run(run(args.objects, args.resyncs))


if __name__ == "__main__":
    main()
