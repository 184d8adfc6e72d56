"""Time one import statement in a fresh interpreter, before anything else is imported.

    python benchmarks/import_probe.py 'import albert'

Prints one JSON line: the seconds the statement took (``time.perf_counter``
around ``exec``), the resident set size before and after it and the peak, and
how many modules it loaded. Only ``sys`` and ``time`` (both already loaded by
the interpreter's start-up) are imported before the statement.
"""

import sys
import time


def _rss_mb() -> float:
    """Return the current resident set size in MiB from /proc (0.0 elsewhere)."""
    try:
        with open("/proc/self/statm") as statm:
            pages = int(statm.read().split()[1])
    except (OSError, IndexError, ValueError):
        return 0.0
    return pages * 4096 / (1024 * 1024)


def main() -> None:
    """Run and time the statement in ``sys.argv[1]``; print the JSON result."""
    statement = sys.argv[1]
    modules_before = len(sys.modules)
    rss_before = _rss_mb()
    t0 = time.perf_counter()
    exec(statement, {})
    elapsed = time.perf_counter() - t0
    rss_after = _rss_mb()
    modules_loaded = len(sys.modules) - modules_before

    import json
    import os
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    page = os.sysconf("SC_PAGE_SIZE")
    result = {
        "times": [elapsed],
        "counts": [1],
        "rss_before_mb": rss_before * page / 4096,
        "rss_after_mb": rss_after * page / 4096,
        "peak_rss_mb": peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024,
        "modules_loaded": modules_loaded,
    }
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
