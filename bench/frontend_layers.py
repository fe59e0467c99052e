#!/usr/bin/env python3
"""The HTTP front end's connection layer: Boost.Asio against Poco's SocketReactor, measured.

Runs bench_frontend_layers (the same parser, worker pool and fixed 383-byte answer on each
layer) and loads it with wrk at the given connection counts, alternating the layers, and prints
for each the median over the rounds of: requests/s, and the server's CPU time per request
(user + system, from /proc/PID/stat) in microseconds.

Usage: bench/frontend_layers.py [--bin build/bin] [--rounds 5] [--duration 5] [--conns 64,256]
"""
import argparse
import os
import re
import socket
import statistics
import subprocess
import time


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def one_run(binary, layer, conns, duration):
    port = free_port()
    proc = subprocess.Popen([binary, layer, str(port)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "listening"
        subprocess.run(["wrk", "-t2", "-c", str(conns), "-d1s", f"http://127.0.0.1:{port}/"],
                       capture_output=True, check=True)  # warm up
        cpu0 = cpu_seconds(proc.pid)
        out = subprocess.run(["wrk", "-t2", "-c", str(conns), f"-d{duration}s", f"http://127.0.0.1:{port}/"],
                             capture_output=True, text=True, check=True).stdout
        cpu = cpu_seconds(proc.pid) - cpu0
        total = int(re.search(r"(\d+) requests in", out).group(1))
        rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
        errors = re.search(r"Socket errors: (.*)", out)
        assert not errors, out
        return rps, cpu / total * 1e6
    finally:
        proc.kill()
        proc.wait()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(os.path.dirname(__file__), "..", "build", "bin"))
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--duration", type=int, default=5)
    ap.add_argument("--conns", default="64,256")
    args = ap.parse_args()
    binary = os.path.join(args.bin, "bench_frontend_layers")
    for conns in [int(c) for c in args.conns.split(",")]:
        results = {"asio": [], "poco": []}
        for _ in range(args.rounds):
            for layer in results:
                results[layer].append(one_run(binary, layer, conns, args.duration))
                time.sleep(0.5)
        for layer, runs in results.items():
            rps = statistics.median(r[0] for r in runs)
            cpu = statistics.median(r[1] for r in runs)
            print(f"{layer:5s} {conns:4d} connections: {rps:9.0f} req/s, {cpu:5.1f} us CPU per request "
                  f"(runs: {', '.join(f'{r[0]:.0f}' for r in runs)})")


if __name__ == "__main__":
    main()
