#!/usr/bin/env python3
"""Interleaved timing: run each command once per round, in turn, for N
rounds (in a new random order each round: no command always follows the
same one), and print a Markdown table of wall time (min, 25th percentile,
median) and median CPU time (user + sys of the child) per command, with the
median ratio to the first command. hyperfine runs all of one command before
the next, so on a shared machine whose speed drifts within a run a row can
look faster or slower than it is; interleaving gives every command the
same drift. Usage: interleave.py N CMD [CMD...] (each CMD one string, split
on spaces, optionally `LABEL::CMD` to print LABEL instead; stdout goes to
/dev/null). A command ends with exit status 0, or the run stops;
INTERLEAVE_OK="0 1" accepts those statuses instead (bpfabi's exit code 1
says a diff or check found something)."""
import os
import random
import sys
import time


def main():
    n = int(sys.argv[1])
    labels = [a.split("::", 1)[0] if "::" in a else a for a in sys.argv[2:]]
    cmds = [a.split("::", 1)[-1].split() for a in sys.argv[2:]]
    devnull = os.open("/dev/null", os.O_WRONLY)
    wall = [[] for _ in cmds]
    cpu = [[] for _ in cmds]
    order = list(range(len(cmds)))
    rng = random.Random(0)
    ok = {int(x) for x in os.environ.get("INTERLEAVE_OK", "0").split()}
    for _ in range(n):
        rng.shuffle(order)
        for j in order:
            c = cmds[j]
            t = time.perf_counter_ns()
            pid = os.posix_spawnp(c[0], c, os.environ, file_actions=[(os.POSIX_SPAWN_DUP2, devnull, 1)])
            _, status, ru = os.wait4(pid, 0)
            wall[j].append((time.perf_counter_ns() - t) / 1e6)
            cpu[j].append((ru.ru_utime + ru.ru_stime) * 1e3)
            if not os.WIFEXITED(status) or os.WEXITSTATUS(status) not in ok:
                sys.exit(f"{' '.join(c)}: wait status {status}")
    med = lambda v: sorted(v)[len(v) // 2]
    base = med(wall[0])
    print(f"| Command ({n} interleaved rounds) | min [ms] | p25 [ms] | median [ms] | median CPU [ms] | median vs first |")
    print("|:---|---:|---:|---:|---:|---:|")
    for j, c in enumerate(cmds):
        w = sorted(wall[j])
        print(f"| `{labels[j]}` | {w[0]:.2f} | {w[len(w) // 4]:.2f} | {w[len(w) // 2]:.2f} | {med(cpu[j]):.2f} | {w[len(w) // 2] / base:.2f}x |")


if __name__ == "__main__":
    main()
