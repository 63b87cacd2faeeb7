"""Load benchmark: the bridge as production runs it (`bridge serve --workers N`, gunicorn)
against wrk, beside a trivial Flask endpoint served the same way in the same run.

Each endpoint gets `--duration` seconds of wrk (`--threads`, `--connections`) and a table
of requests per second, p50 and p99 latency, error responses, and the ratio to the
trivial endpoint's throughput. POST bodies come from files that a Lua script cycles
through, each wrk thread taking its own share, so one-time-use bodies (SAML responses;
web identity tokens get a unique `jti` too, like fresh tokens) are never sent twice: a
pool runs out only when the endpoint is faster than the pool was sized for
(`--pool-rate`), which shows up as error responses and is reported.

    .venv/bin/python benchmarks/load.py                       # SQLite, 10 s each
    .venv/bin/python benchmarks/load.py --postgres --redis    # PostgreSQL + Redis
    .venv/bin/python benchmarks/load.py --duration 30 --workers 4 --json out.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import secrets
import subprocess
import tempfile
from contextlib import ExitStack
from dataclasses import asdict, dataclass
from pathlib import Path

from load_rig import (
    Bridge,
    authorize_request,
    bridge_server,
    caller_identity_request,
    federation,
    saml_body,
    trivial_server,
    web_identity_body,
)

WRK = "/usr/bin/wrk"
TARGETS = {  # the targets on two cores
    "/v1/authorize": ("ratio", 0.60),
    "AssumeRoleWithSAML": ("rps", 300.0),
    "AssumeRoleWithWebIdentity": ("rps", 600.0),
}
LUA = """
local bodies = {}
local count = 0
local sent = 0
local method, path = %(method)s, %(path)s
local headers = %(headers)s
local threads = %(threads)d
local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
end

function init(args)
  for line in io.lines(%(bodies)s) do
    count = count + 1
    bodies[count] = line
  end
end

function request()
  local body = nil
  if count > 0 then
    body = bodies[(sent * threads + id) %% count + 1]
  end
  sent = sent + 1
  return wrk.format(method, path, headers, body)
end
"""


@dataclass(frozen=True)
class Figure:
    name: str
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int
    ratio: float = 0.0


def lua_string(text: str) -> str:
    return json.dumps(text)  # a JSON string is a valid Lua string literal here (ASCII)


def write_script(
    folder: Path, name: str, method: str, path: str, headers: dict[str, str], bodies: list[str]
) -> Path:
    body_file = folder / f"{name}.bodies"
    body_file.write_text("".join(body + "\n" for body in bodies))
    table = "{" + ", ".join(f"[{lua_string(k)}] = {lua_string(v)}" for k, v in headers.items())
    script = folder / f"{name}.lua"
    script.write_text(
        LUA
        % {
            "method": lua_string(method),
            "path": lua_string(path),
            "headers": table + "}",
            "threads": ARGS.threads,
            "bodies": lua_string(str(body_file) if bodies else "/dev/null"),
        }
    )
    return script


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s)", text)
    if not match:
        raise ValueError(f"unexpected wrk latency `{text}`")
    return float(match.group(1)) * _UNITS[match.group(2)]


def parse_wrk(name: str, output: str) -> Figure:
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    p50 = re.search(r"^\s+50%\s+(\S+)", output, re.MULTILINE)
    p99 = re.search(r"^\s+99%\s+(\S+)", output, re.MULTILINE)
    total = re.search(r"(\d+) requests in", output)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    errors = int(non2xx.group(1)) if non2xx else 0
    errors += sum(int(n) for n in sockets.groups()) if sockets else 0
    return Figure(
        name,
        rps,
        _ms(p50.group(1)) if p50 else 0.0,
        _ms(p99.group(1)) if p99 else 0.0,
        int(total.group(1)) if total else 0,
        errors,
    )


def run_wrk(name: str, url: str, script: Path, duration: float) -> Figure:
    command = [
        WRK,
        f"-t{ARGS.threads}",
        f"-c{ARGS.connections}",
        f"-d{int(duration)}s",
        "--latency",
        "--timeout",
        "10s",
        "-s",
        str(script),
        url,
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    if ARGS.verbose:
        print(done.stdout)
    return parse_wrk(name, done.stdout)


Endpoint = tuple[str, str, str, dict[str, str], list[str]]  # name, method, path, headers, bodies


def endpoints(bridge: Bridge, pool: int) -> list[Endpoint]:
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    tag = secrets.token_hex(4)
    print(f"signing {pool} SAML responses and {pool * 2} web identity tokens ...", flush=True)
    saml = [saml_body(bridge, f"_bench-{tag}-{n}") for n in range(pool)]
    web = [web_identity_body(bridge, f"bench-{tag}-{n}") for n in range(pool * 2)]
    identity_body, identity_headers = caller_identity_request(bridge)
    chosen: list[Endpoint] = []
    if authorize_available():
        body, headers = authorize_request(bridge)
        chosen.append(("/v1/authorize", "POST", "/v1/authorize", headers, [body]))
    chosen += [
        ("AssumeRoleWithWebIdentity", "POST", "/", form, web),
        ("AssumeRoleWithSAML", "POST", "/", form, saml),
        ("GetCallerIdentity", "POST", "/", identity_headers, [identity_body]),
    ]
    return chosen


def authorize_available() -> bool:
    return Path(__file__).resolve().parents[1].joinpath("bridge/api/authorize.py").exists()


def measure(bridge: Bridge, trivial_url: str, folder: Path) -> list[Figure]:
    pool = int(ARGS.duration * ARGS.pool_rate)
    trivial_script = write_script(folder, "trivial", "GET", "/", {}, [])
    run_wrk("warm-up", trivial_url, trivial_script, 2)
    ceiling = run_wrk("trivial Flask endpoint", trivial_url, trivial_script, ARGS.duration)
    figures = [ceiling]
    for name, method, path, headers, bodies in endpoints(bridge, pool):
        script = write_script(folder, re.sub(r"\W", "_", name), method, path, headers, bodies)
        figure = run_wrk(name, bridge.url, script, ARGS.duration)
        figures.append(Figure(**{**asdict(figure), "ratio": figure.rps / ceiling.rps}))
    if not authorize_available():
        print("/v1/authorize: bridge/api/authorize.py is missing; not measured")
    return figures


def verdict(figure: Figure) -> str:
    target = TARGETS.get(figure.name)
    if target is None:
        return ""
    kind, value = target
    met = figure.ratio >= value if kind == "ratio" else figure.rps >= value
    wanted = f"≥ {value:.0%} of trivial" if kind == "ratio" else f"≥ {value:.0f}/s"
    return f"{'PASS' if met else 'MISS'} ({wanted})"


def table(figures: list[Figure]) -> str:
    lines = [
        "| endpoint | req/s | p50 ms | p99 ms | errors | vs trivial | target |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for f in figures:
        ratio = f"{f.ratio:.0%}" if f.ratio else "100%"
        lines.append(
            f"| {f.name} | {f.rps:.0f} | {f.p50_ms:.2f} | {f.p99_ms:.2f} | {f.errors}/{f.requests}"
            f" | {ratio} | {verdict(f)} |"
        )
    return "\n".join(lines)


def machine() -> str:
    info = Path("/proc/cpuinfo")
    lines = info.read_text().splitlines() if info.exists() else []
    names = [line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")]
    cpu = names[0] if names else "unknown CPU"
    system = f"{platform.system()} {platform.release()}"
    return f"{os.cpu_count()} cores ({cpu}), {system}, Python {platform.python_version()}"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=float, default=10, help="seconds per endpoint")
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1) + 1)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument(
        "--pool-rate", type=float, default=600, help="one-time bodies per second of run"
    )
    parser.add_argument("--postgres", action="store_true", help="a fresh PostgreSQL database")
    parser.add_argument("--redis", action="store_true", help="one-time use in Redis")
    parser.add_argument("--json", type=Path, help="write the figures here as JSON")
    parser.add_argument("--verbose", action="store_true", help="print wrk's own output")
    return parser.parse_args(argv)


def main() -> None:
    store = "PostgreSQL" if ARGS.postgres else "SQLite"
    redis_url = "redis://127.0.0.1:6379/0" if ARGS.redis else None
    with ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bridge-wrk-")))
        trivial = stack.enter_context(trivial_server(ARGS.workers))
        bridge = stack.enter_context(
            bridge_server(workers=ARGS.workers, postgres=ARGS.postgres, redis_url=redis_url)
        )
        stack.enter_context(federation(bridge))
        figures = measure(bridge, trivial.url + "/", folder)
    title = (
        f"gunicorn, {ARGS.workers} workers; {store}{' + Redis' if redis_url else ''}; "
        f"wrk -t{ARGS.threads} -c{ARGS.connections}, {ARGS.duration:.0f} s per endpoint"
    )
    print(f"\n{title}\nmachine: {machine()}\n\n{table(figures)}")
    if ARGS.json:
        record = {"title": title, "machine": machine(), "figures": [asdict(f) for f in figures]}
        ARGS.json.write_text(json.dumps(record, indent=2) + "\n")


ARGS = parse_args([])

if __name__ == "__main__":
    ARGS = parse_args()
    main()
