"""Scenario (l) of `make bench` alone, in about a minute: the anonymous list's p99 from the
hot-read cache while 20 edits a second invalidate it, against the uncached anonymous list's p99
in the same run (as `bench/run.py` compares them). For working on the cache:

    .venv/bin/python bench/hot_read_edits.py [--rounds 2]

Each round measures the uncached list, then the cached list under edits, so that load from
elsewhere on a shared machine falls on both alike. Prints one line a round and the ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json

import run as bench  # bench/ is on the path: this file runs as a script


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=bench.SOLO_SECONDS)
    parser.add_argument(
        "--cached-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a setting for the cached Pressroom only (to try one: DATABASE_POOL_SIZE=20)",
    )
    parser.add_argument(
        "--database-url",
        help="a database seeded as below to use as it is (kept); by default a throwaway one",
    )
    args = parser.parse_args()
    env = {
        "JWT_SECRET": "hot-read-edits-" + "x" * 40,
        "RATE_LIMITS_ENABLED": "false",
        "PRESSROOM_ENV": "development",
    }
    with contextlib.ExitStack() as stack:
        database_url = args.database_url
        if database_url is None:
            database_url = stack.enter_context(bench.throwaway_postgres())
        env["DATABASE_URL"] = database_url
        bench.cli(env, "migrate")
        if args.database_url is None:
            bench.step("seed-demo (1,000 users, 10,000 posts, 50 tags)")
            bench.cli(env, "seed-demo", "--users", "1000", "--posts", "10000", "--tags", "50")
            asyncio.run(bench._admin("VACUUM ANALYZE", database_url))  # noqa: SLF001 (one bench)
        started: list[bench.Server] = []
        try:
            # Ports of their own: `make bench` may be running beside this.
            uncached = bench.pressroom(
                "pressroom", {**env, **bench.UNCACHED}, bench.P_PORT + 100, bench.WORKERS
            )
            started.append(uncached)
            tried = dict(setting.split("=", 1) for setting in args.cached_env)
            cached = bench.pressroom(
                "pressroom-cached", {**env, **tried}, bench.CACHED_PORT + 100, bench.WORKERS
            )
            started.append(cached)
            token = bench.sign_in(cached.base)
            status, body = bench.http(
                "POST",
                cached.base + "/api/v1/posts",
                {"title": "Edited 0", "content": "Benchmark edits", "published": True},
                token,
            )
            assert status == 201, body
            post_path = f"/api/v1/posts/{json.loads(body)['id']}"
            for server in (uncached, cached):
                bench.wrk(server.base + bench.LIST_PATH, bench.WARMUP_SECONDS, token=None)
            for round_number in range(1, args.rounds + 1):
                base = bench.measure(uncached.base + bench.LIST_PATH, args.seconds, token=None)
                edits = bench.EditLoad(cached.base, bench.WRITES_PER_SECOND, token, post_path)
                with edits:
                    under = bench.measure(cached.base + bench.LIST_PATH, args.seconds, token=None)
                b, u = base.summary(), under.summary()
                ok = sum(1 for s in edits.statuses if s == 200)
                print(
                    f"round {round_number}: uncached anon {b['rps']:,.0f} req/s p99 "
                    f"{b['p99_ms']:.1f} ms; cached + edits {u['rps']:,.0f} req/s p50 "
                    f"{u['p50_ms']:.1f} p99 {u['p99_ms']:.1f} ms; ratio "
                    f"{u['p99_ms'] / b['p99_ms']:.2f} (target <= 2); edits "
                    f"{len(edits.statuses) / args.seconds:.1f}/s, {ok} ok, p50 "
                    f"{bench.percentile(edits.latencies_ms, 50):.0f} ms, p99 "
                    f"{bench.percentile(edits.latencies_ms, 99):.0f} ms",
                    flush=True,
                )
        finally:
            for server in started:
                server.stop()


if __name__ == "__main__":
    main()
