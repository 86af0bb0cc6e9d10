"""The benchmark's profiles: py-spy on each server process, and a summary of where the time
went (self and inclusive time of the busiest functions)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

from harness import PEERS_VENV, RESULTS, ROOT, _stat


def py_spy() -> str | None:
    found = PEERS_VENV / "bin" / "py-spy"
    return str(found) if found.exists() else shutil.which("py-spy")


def start_profile(
    pids: list[int], seconds: float, name: str
) -> list[tuple[subprocess.Popen[bytes], Path]]:
    """py-spy on each server process (the leaves: uvicorn's workers, not its supervisor)."""
    tool = py_spy()
    if tool is None:
        return []
    leaves = [pid for pid in pids if not any(_stat(p) and _stat(p)[0] == pid for p in pids)]  # type: ignore[index]
    out = []
    for pid in leaves:
        path = RESULTS / f"profile-{name}-{pid}.collapsed"
        process = subprocess.Popen(
            [tool, "record", "--pid", str(pid), "--duration", str(int(seconds)), "--rate", "250",
             "--format", "raw", "--nonblocking", "--output", str(path)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        out.append((process, path))
    return out


def finish_profile(running: list[tuple[subprocess.Popen[bytes], Path]], name: str,
                   top: int = 25) -> dict[str, Any] | None:
    """Self and inclusive time of the busiest functions, from py-spy's collapsed stacks."""
    if not running:
        return None
    own: dict[str, int] = {}
    inclusive: dict[str, int] = {}
    total = 0
    for process, path in running:
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
        if not path.exists():
            continue
        for line in path.read_text().splitlines():
            stack, _, count_text = line.rpartition(" ")
            if not count_text.isdigit():
                continue
            count = int(count_text)
            frames = [_short(f) for f in stack.split(";")]
            total += count
            if frames:
                own[frames[-1]] = own.get(frames[-1], 0) + count
            for frame in set(frames):
                inclusive[frame] = inclusive.get(frame, 0) + count
        target = RESULTS / f"profile-{name}.collapsed"
        path.replace(target)
    if not total:
        return None

    def best(table: dict[str, int]) -> list[tuple[str, float]]:
        ranked = sorted(table.items(), key=lambda item: -item[1])[:top]
        return [(frame, round(100 * count / total, 1)) for frame, count in ranked]

    summary = {"samples": total, "self_pct": best(own), "inclusive_pct": best(inclusive)}
    (RESULTS / f"profile-{name}.txt").write_text(
        f"py-spy, {total} samples (idle excluded)\n\nself %\n"
        + "".join(f"{pct:6.1f}  {frame}\n" for frame, pct in summary["self_pct"])
        + "\ninclusive %\n"
        + "".join(f"{pct:6.1f}  {frame}\n" for frame, pct in summary["inclusive_pct"])
    )
    return summary


def _short(frame: str) -> str:
    """`send (uvicorn/protocols/websockets/websockets_sansio_impl.py:456)` -> without line."""
    name, _, where = frame.partition(" (")
    where = where.rstrip(")").rsplit(":", 1)[0]
    for marker in ("site-packages/", str(ROOT) + "/", "lib/python3.11/"):
        if marker in where:
            where = where.split(marker, 1)[1]
    return f"{name} ({where})"
