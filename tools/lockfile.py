"""requirements.lock's bookkeeping for the Makefile, standard library only (runs before install).

The lock pins, with hashes, everything `pip install -e '.[dev,bench]'` would bring in, plus the
build backend. It records a digest of what it was made from (pyproject.toml's dependencies,
extras, Python range and build requirements), so `make install` can refuse a lock that no longer
matches pyproject.toml instead of installing an environment that lacks a new dependency.

    python tools/lockfile.py build-requires   # pyproject's [build-system] requires, one a line
    python tools/lockfile.py stamp LOCK       # record the inputs' digest in LOCK's header
    python tools/lockfile.py check LOCK       # exit 1, saying what to run, when LOCK is stale
    python tools/lockfile.py entry LOCK NAME  # NAME's pinned, hashed requirement from LOCK
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
import tomllib
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"
STAMP = "#    inputs: "
STAMP_LINE = re.compile(r"^#    inputs: (\S+)")


def _pyproject() -> dict[str, object]:
    with PYPROJECT.open("rb") as file:
        return tomllib.load(file)


def build_requires() -> list[str]:
    build_system = _pyproject().get("build-system", {})
    assert isinstance(build_system, dict)
    return list(build_system.get("requires", []))


def inputs_digest() -> str:
    project = _pyproject()["project"]
    assert isinstance(project, dict)
    extras = project.get("optional-dependencies", {})
    assert isinstance(extras, dict)
    # Sorted: the order requirements are listed in changes nothing the lock resolves.
    inputs = {
        "dependencies": sorted(project.get("dependencies", [])),
        "optional-dependencies": {name: sorted(reqs) for name, reqs in extras.items()},
        "requires-python": project.get("requires-python"),
        "build-requires": sorted(build_requires()),
    }
    canonical = json.dumps(inputs, sort_keys=True, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


def recorded_digest(lock: Path) -> str | None:
    for line in lock.read_text().splitlines():
        found = STAMP_LINE.match(line)
        if found:
            return found.group(1)
    return None


def stamp(lock: Path) -> None:
    lines = [line for line in lock.read_text().splitlines() if not STAMP_LINE.match(line)]
    # Right under uv's two header lines (what made it, and the command), above the pins.
    at = next((i for i, line in enumerate(lines) if not line.startswith("#")), len(lines))
    lines.insert(at, f"{STAMP}{inputs_digest()} (pyproject.toml's dependencies and extras)")
    lock.write_text("\n".join(lines) + "\n")


def check(lock: Path) -> int:
    if not lock.exists():
        print(f"{lock} is missing: run `make lock` to make it", file=sys.stderr)
        return 1
    if recorded_digest(lock) != inputs_digest():
        print(
            f"pyproject.toml's dependencies changed since {lock} was made: run `make lock`, "
            "review the changes to the lock and commit them with pyproject.toml",
            file=sys.stderr,
        )
        return 1
    return 0


def entry(lock: Path, name: str) -> str:
    """The requirement block of one package: `name==1.2 \\` and its `--hash` lines."""
    lines = lock.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.lower().startswith(f"{name}=="))
    block = [lines[start]]
    while block[-1].endswith("\\"):
        block.append(lines[start + len(block)])
    return "\n".join(block) + "\n"


def main(argv: list[str]) -> int:
    match argv:
        case ["build-requires"]:
            print("\n".join(build_requires()))
        case ["stamp", lock]:
            stamp(Path(lock))
        case ["check", lock]:
            return check(Path(lock))
        case ["entry", lock, name]:
            sys.stdout.write(entry(Path(lock), name))
        case _:
            print(__doc__, file=sys.stderr)
            return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
