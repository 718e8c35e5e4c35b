"""Messages/s of the vectorized decoder against plain pyais, on the same payloads.

The mix is 80% position reports (types 1, 2, 3, 18, 19, 27), 10% type 5, 5% type 24
(parts A and B), 3% type 4 and 2% types the fast path leaves to pyais (8, 21).
Payloads are made with pyais's own encoder (seeded), then repeated to the
requested count. Every timing is the median of --repeat interleaved runs.

    .venv/bin/python benchmarks/fast_decode.py [--messages 1000000] [--batch 50000] [--repeat 3]

Prints four rates: pyais ``decode()`` over the NMEA sentences (what a plain loop
does), pyais ``from_vector`` over the bare payloads (pyais without its sentence
parsing), ``decode_batch`` alone, and the hybrid (``decode_batch`` plus pyais for
every row it does not handle).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyais
from pyais.bit_vector import bit_vector
from pyais.encode import encode_dict
from pyais.messages import MSG_CLASS

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from shiptrack.decode.accel.fast import decode_batch  # noqa: E402

TEXT = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 -."


def _name(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(TEXT) for _ in range(rng.randint(1, n))).strip() or "X"


def _message(rng: random.Random) -> dict[str, Any]:
    mmsi = rng.randint(200_000_000, 775_999_999)
    pos = {
        "mmsi": mmsi, "lat": round(rng.uniform(-80, 80), 5), "lon": round(rng.uniform(-179, 179), 5),
        "speed": rng.randint(0, 300) / 10, "course": rng.randint(0, 3599) / 10,
        "heading": rng.randint(0, 359), "second": rng.randint(0, 59), "accuracy": rng.random() < 0.5,
    }
    r = rng.random() * 100
    if r < 60:
        t = rng.choice((1, 1, 1, 2, 3))
        return {**pos, "msg_type": t, "type": t, "status": rng.randint(0, 15)}
    if r < 74:
        return {**pos, "msg_type": 18, "type": 18}
    if r < 76:
        return {**pos, "msg_type": 19, "type": 19, "shipname": _name(rng, 20), "ship_type": 37}
    if r < 80:
        return {"msg_type": 27, "type": 27, "mmsi": mmsi, "lat": pos["lat"], "lon": pos["lon"],
                "speed": rng.randint(0, 40), "course": rng.randint(0, 359), "status": 0}
    if r < 90:
        return {"msg_type": 5, "type": 5, "mmsi": mmsi, "imo": rng.randint(1_000_000, 9_999_999),
                "callsign": _name(rng, 7), "shipname": _name(rng, 20), "ship_type": rng.randint(20, 99),
                "to_bow": 100, "to_stern": 20, "to_port": 10, "to_starboard": 12, "epfd": 1,
                "month": 5, "day": 17, "hour": 12, "minute": 30, "draught": 7.5,
                "destination": _name(rng, 20), "ais_version": 2}
    if r < 95:
        part = rng.randint(0, 1)
        return {"msg_type": 24, "type": 24, "mmsi": mmsi, "partno": part, "shipname": _name(rng, 20),
                "ship_type": 37, "callsign": _name(rng, 7), "to_bow": 5, "to_stern": 5}
    if r < 98:
        return {"msg_type": 4, "type": 4, "mmsi": rng.randint(2_000_000, 9_999_999), "year": 2024,
                "month": 3, "day": 1, "hour": 12, "minute": 0, "second": 1,
                "lat": pos["lat"], "lon": pos["lon"], "epfd": 1}
    if r < 99:
        return {"msg_type": 8, "type": 8, "mmsi": mmsi, "dac": 1, "fid": 31, "data": rng.randbytes(30)}
    return {"msg_type": 21, "type": 21, "mmsi": mmsi, "aid_type": 1, "name": _name(rng, 20),
            "lat": pos["lat"], "lon": pos["lon"]}


def corpus(n_unique: int, seed: int = 42) -> list[tuple[list[str], str, int]]:
    """(NMEA sentences, concatenated payload, fill bits) for ``n_unique`` messages."""
    rng = random.Random(seed)
    out = []
    for _ in range(n_unique):
        sentences = encode_dict(_message(rng), talker_id="AI", sentence_type="VDM")
        fields = [s.split(",") for s in sentences]
        payload = "".join(f[5] for f in fields)
        fill = int(fields[-1][6].split("*")[0])
        out.append((sentences, payload, fill))
    return out


def _median_rate(fn: Callable[[], int], repeat: int) -> float:
    rates = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        n = fn()
        rates.append(n / (time.perf_counter() - t0))
    return statistics.median(rates)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--messages", type=int, default=1_000_000, help="messages for the fast path")
    ap.add_argument("--pyais-messages", type=int, default=100_000, help="messages for the pyais loops")
    ap.add_argument("--unique", type=int, default=20_000, help="distinct messages before repeating")
    ap.add_argument("--batch", type=int, default=50_000, help="payloads per decode_batch call")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    base = corpus(args.unique)
    reps = -(-args.messages // len(base))
    items = (base * reps)[: args.messages]
    payloads = [p for _, p, _ in items]
    fills = [f for _, _, f in items]
    few = items[: args.pyais_messages]

    def pyais_decode() -> int:
        for sentences, _, _ in few:
            pyais.decode(*sentences)
        return len(few)

    def pyais_vector() -> int:
        for _, p, f in few:
            bv = bit_vector(p.encode(), f)
            try:
                MSG_CLASS[bv.get(0, 6)].from_vector(bv)
            except Exception:  # noqa: S110 - a benchmark: failures cost what they cost
                pass
        return len(few)

    size = args.batch
    batches = [(payloads[i : i + size], fills[i : i + size]) for i in range(0, len(payloads), size)]

    def fast() -> int:
        for p, f in batches:
            decode_batch(p, f)
        return len(payloads)

    def hybrid() -> int:
        for p, f in batches:
            res = decode_batch(p, f)
            for i in (~res.handled).nonzero()[0].tolist():
                bv = bit_vector(p[i].encode(), f[i])
                MSG_CLASS[bv.get(0, 6)].from_vector(bv)
        return len(payloads)

    rates: dict[str, list[float]] = {k: [] for k in ("pyais decode()", "pyais from_vector", "fast", "hybrid")}
    for _ in range(args.repeat):  # interleaved, so a noisy neighbour hits every method alike
        rates["pyais decode()"].append(_median_rate(pyais_decode, 1))
        rates["pyais from_vector"].append(_median_rate(pyais_vector, 1))
        rates["fast"].append(_median_rate(fast, 1))
        rates["hybrid"].append(_median_rate(hybrid, 1))

    res = decode_batch(payloads[: len(base)], fills[: len(base)])
    print(f"messages: {args.messages:,} fast path in batches of {size:,}, {len(few):,} pyais; "
          f"handled by the fast path: {res.handled.mean():.1%}")
    ref = statistics.median(rates["pyais decode()"])
    for name, values in rates.items():
        rate = statistics.median(values)
        print(f"{name:18s} {rate:12,.0f} msgs/s   x{rate / ref:5.1f}")


if __name__ == "__main__":
    main()
