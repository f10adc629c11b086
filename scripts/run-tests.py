#!/usr/bin/env python3
"""Builds every test binary once, then runs them side by side.

`cargo test` runs its test binaries one after another. Ours share nothing
(each starts its own emulator on a free loopback port, its own terraform
working directories, its own stand-ins), and most of their time is spent
waiting: on terraform, on the emulator, on the delays the fault proxy
emulates. So this runs up to TEST_JOBS binaries at once (default 4), the
longest first, and prints each one's output whole when it ends, so nothing
interleaves. Times of the last run are kept in the target directory to
order the next one.

Usage: run-tests.py [cargo test arguments for selecting targets]
Exit status: 0 when every binary passed.
"""

import json
import os
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor


def build(cargo_args):
    """Builds the test binaries; returns [(name, path)]."""
    cmd = ["cargo", "test", "--no-run", "--message-format=json-render-diagnostics"] + cargo_args
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        sys.exit(proc.returncode)
    binaries = []
    for line in proc.stdout.splitlines():
        try:
            msg = json.loads(line)
        except json.JSONDecodeError:
            continue
        if msg.get("reason") != "compiler-artifact":
            continue
        if not msg.get("profile", {}).get("test") or not msg.get("executable"):
            continue
        target = msg["target"]
        kind = target["kind"][0]
        name = target["name"] if kind == "test" else f"{target['name']} ({kind})"
        binaries.append((name, msg["executable"]))
    return binaries


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    os.chdir(root)
    jobs = int(os.environ.get("TEST_JOBS", "4"))
    binaries = build(sys.argv[1:])
    target_dir = os.environ.get("CARGO_TARGET_DIR", os.path.join(root, "target"))
    times_file = os.path.join(target_dir, "test-times.json")
    try:
        with open(times_file) as f:
            last = json.load(f)
    except (OSError, ValueError):
        last = {}
    # Longest first, so the slowest binary does not start last.
    binaries.sort(key=lambda b: -last.get(b[0], 60.0))

    lock = threading.Lock()
    results = {}
    started = time.monotonic()

    def run(binary):
        name, path = binary
        t0 = time.monotonic()
        proc = subprocess.run([path], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              errors="replace")
        took = time.monotonic() - t0
        with lock:
            verdict = "ok" if proc.returncode == 0 else f"FAILED (exit {proc.returncode})"
            print(f"\n===== {name}: {verdict} in {took:.1f}s =====", flush=True)
            sys.stdout.write(proc.stdout)
            sys.stdout.flush()
            results[name] = (proc.returncode, took)

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        list(pool.map(run, binaries))

    wall = time.monotonic() - started
    failed = sorted(n for n, (code, _) in results.items() if code != 0)
    print(f"\n{len(results)} test binaries in {wall:.0f}s, {jobs} at a time:")
    for name, (code, took) in sorted(results.items(), key=lambda r: -r[1][1]):
        print(f"  {took:7.1f}s  {'ok' if code == 0 else 'FAILED'}  {name}")
    try:
        with open(times_file, "w") as f:
            json.dump({n: t for n, (_, t) in results.items()}, f)
    except OSError:
        pass
    if failed:
        print("failed: " + ", ".join(failed), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
