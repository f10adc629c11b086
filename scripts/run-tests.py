#!/usr/bin/env python3
"""Builds the test binaries once, then runs them side by side.

The integration tests are one crate (tests/it.rs), each file a module.
Each module runs in a process of its own, as when every file was its own
binary: a module may own its process (its environment, its shared
emulator), and modules share nothing else (each starts its own emulator on
a free loopback port, its own terraform working directories, its own
stand-ins). Most of their time is spent waiting: on terraform, on the
emulator, on the delays the fault proxy emulates. So this runs up to
TEST_JOBS processes at once (default 4), the longest first, and prints each
one's output whole when it ends, so nothing interleaves. Times of the last
run are kept in the target directory to order the next one.

Usage: run-tests.py [cargo test arguments for selecting targets]
Exit status: 0 when every process passed.
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


def runs(binaries):
    """Splits the test crate's binary by module: [(name, command)]."""
    out = []
    for name, path in binaries:
        if name != "it":
            out.append((name, [path]))
            continue
        listing = subprocess.run([path, "--list", "--format", "terse"], stdout=subprocess.PIPE,
                                 text=True, check=True).stdout
        modules = {}
        for line in listing.splitlines():
            if not line.endswith(": test"):
                continue
            test = line[: -len(": test")]
            module = test.split("::", 1)[0] if "::" in test else "it"
            modules.setdefault(module, []).append(test)
        for module, tests in sorted(modules.items()):
            out.append((module, [path, "--exact"] + tests))
    return out


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    os.chdir(root)
    jobs = int(os.environ.get("TEST_JOBS", "4"))
    binaries = runs(build(sys.argv[1:]))
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
        name, command = binary
        t0 = time.monotonic()
        proc = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
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
    print(f"\n{len(results)} test processes in {wall:.0f}s, {jobs} at a time:")
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
