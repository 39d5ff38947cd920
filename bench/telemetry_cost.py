"""`python -m bench.telemetry_cost` (`make bench-telemetry`): what telemetry costs a request.

The same tree measured side by side in two processes, as the performance budget measures two
trees (bench.budget, bench.paired): one with telemetry off (METRICS_PATH empty, no tracing),
one with it on at its defaults: metrics on, tracing exported over OTLP/HTTP to a receiver of
this process at the default sampling rate (1 % of the traces the server starts). A cell
fails when the median of its pairs' ratios is over LIMIT (5 %) and its 95 % interval starts
above 1. `--part` measures one part instead, for its figures: the metrics alone, in memory
(one process) or in the files several workers share (`workers`: with tracing, as
`uvicorn --workers` runs it), or tracing alone.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from bench.budget import (
    REPO_ROOT,
    CannotMeasure,
    Cell,
    compare,
    measurement_parser,
    render,
    verdict,
)

LIMIT = 1.05
OFF = "telemetry off"


class _Receiver(BaseHTTPRequestHandler):
    """Takes OTLP/HTTP exports and answers 200 with an empty ExportTraceServiceResponse."""

    exports = 0
    received_bytes = 0

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        type(self).exports += 1
        type(self).received_bytes += len(body)
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def otlp_receiver() -> Iterator[str]:
    """An OTLP/HTTP traces endpoint on 127.0.0.1 while the block runs; its URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1/traces"
    finally:
        server.shutdown()
        server.server_close()


PARTS = ("all", "workers", "metrics", "metrics-shared", "tracing")


def environments(
    endpoint: str, metrics_directory: Path, part: str = "all"
) -> tuple[dict[str, str], dict[str, str]]:
    """Telemetry off; telemetry on at its defaults in one process (`all`), as several workers
    run it (`workers`: the metrics in shared files), or one part: the metrics alone, in
    memory or shared, tracing alone."""
    off = {"METRICS_PATH": "", "OTEL_SDK_DISABLED": "true", "OTEL_TRACES_EXPORTER": "none"}
    shared = {"PROMETHEUS_MULTIPROC_DIR": str(metrics_directory)}
    tracing = {
        "OTEL_SDK_DISABLED": "false",
        "OTEL_TRACES_EXPORTER": "otlp",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": endpoint,
        "OTEL_TRACES_SAMPLER": "",  # the server's default rate
    }
    metrics_on = {**off, "METRICS_PATH": "/metrics"}
    on = {
        "all": {**metrics_on, **tracing},
        "workers": {**metrics_on, **shared, **tracing},
        "metrics": metrics_on,
        "metrics-shared": {**metrics_on, **shared},
        "tracing": {**off, **tracing},
    }[part]
    return off, on


def table(cells: Sequence[Cell]) -> str:
    """bench.budget's table, its columns named for what they measure here."""
    text = render(cells, OFF, [], LIMIT)
    return text.replace(f"release {OFF}", "telemetry off", 1).replace("     now", "      on", 1)


def main(argv: list[str]) -> int:
    parser = measurement_parser("python -m bench.telemetry_cost", __doc__)
    parser.add_argument(
        "--part", choices=PARTS, default="all", help="all of telemetry (the verdict), or a part"
    )
    arguments = parser.parse_args(argv)
    print(f"== telemetry's cost ({arguments.part}): this tree with it on against it off")
    try:
        with (
            tempfile.TemporaryDirectory(prefix="bench-telemetry-") as scratch_name,
            otlp_receiver() as endpoint,
        ):
            scratch = Path(scratch_name)
            (scratch / "metrics").mkdir()
            cells = compare(
                REPO_ROOT,
                arguments,
                scratch,
                OFF,
                [],
                limit=LIMIT,
                environments=environments(endpoint, scratch / "metrics", arguments.part),
            )
    except CannotMeasure as error:
        print(f"bench-telemetry cannot measure: {error}", file=sys.stderr)
        return 2
    print(
        f"\nServer CPU per request, the tree with telemetry off and on side by side in "
        f"{arguments.pairs} pairs of batches of {arguments.batch} requests per cell; the "
        f"verdict as the budget's, at {LIMIT:.2f}x. OTLP exports received: {_Receiver.exports} "
        f"({_Receiver.received_bytes:,} bytes).\n"
    )
    print(table(cells))
    costs = [statistics.median(c.now) - statistics.median(c.release) for c in cells]
    print(f"\nTelemetry's cost per request: {min(costs):.0f} to {max(costs):.0f} us of CPU.")
    over = [cell for cell in cells if not verdict(cell, OFF, [], LIMIT)[0]]
    if over:
        names = ", ".join(f"{cell.operation} on {cell.database}" for cell in over)
        print(f"\nerror: telemetry costs more than {LIMIT:.2f}x on {names}.")
        return 1
    print(f"\nWithin {LIMIT:.2f}x with telemetry on.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
