"""Draw and verification speed (issue #3).

    python benchmarks/draw.py                  # 100,000 enterprises, 30 strata, 2,000 inspectors,
                                               # 5,000 recusal pairs, n = 5,000
    python benchmarks/draw.py --growth         # the same at 10k / 100k / 1M enterprises (n = 5 %)
    python benchmarks/draw.py --enterprises N

``draw_s`` is the server's computation of a draw from its frozen files and the seed (parse, keys,
quotas, selection, groups), in this process on one core. ``verify_s`` is the stand-alone
``verify_draw.py`` re-checking the export zip in a fresh interpreter, end to end. Targets: draw
under 2 s and verification under 5 s at 100k. The last line printed is one JSON object.
"""
import argparse
import io
import json
import random
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from webapp.draws import verify_draw as V  # noqa: E402

COMPETENCES = ["危化", "工贸", "工贸-粉尘涉爆", "煤矿", "非煤矿山"]


def inputs(enterprises: int, inspectors: int, recusals: int, n: int, strata: int = 30) -> dict:
    rng = random.Random(enterprises)
    usccs = [f"91140525{k:09d}X" for k in range(enterprises)]
    mandatory = set(rng.sample(usccs, enterprises // 100))  # ~1 % key units
    excluded = set(rng.sample([u for u in usccs if u not in mandatory], enterprises // 50))
    taken = mandatory | excluded
    pool = [(u, f"140525{100 + k % strata:03d}") for k, u in enumerate(usccs) if u not in taken]
    ids = [f"P{k:05d}" for k in range(inspectors)]
    tasks = n + len(mandatory)
    capacity = max(3, -(-3 * tasks // inspectors))  # room for groups of two plus slack
    rows = []
    for k, ident in enumerate(ids):
        comps = sorted(set(rng.sample(COMPETENCES, rng.randint(1, 3))))
        rows.append((ident, "0" if k % 50 == 0 else "1", str(capacity), ";".join(comps)))
    pairs = {(rng.choice(ids), rng.choice(usccs)) for _ in range(recusals)}
    files = {
        "pool.csv": V.csv_bytes("pool.csv", pool),
        "mandatory.csv": V.csv_bytes("mandatory.csv", [(u, "R8 重点监管单位") for u in mandatory]),
        "excluded.csv": V.csv_bytes("excluded.csv", [(u, "R10 本年度已随机抽查2次") for u in excluded]),
        "inspectors.csv": V.csv_bytes("inspectors.csv", rows),
        "recusals.csv": V.csv_bytes("recusals.csv", sorted(pairs)),
    }
    rules = {"draw_id": "BENCH-1", "sample_size": n, "group_size": 2, "required_competences": {"default": ["工贸"]},
             "plan_id": 0, "batch_id": 0, "filter": "不定向抽取"}
    files["rules.json"] = V.canonical_json(rules).encode()
    return files


def measure(enterprises: int, inspectors: int = 2000, recusals: int = 5000, n: int | None = None) -> dict:
    n = enterprises // 20 if n is None else n
    files = inputs(enterprises, inspectors, recusals, n)
    ref = "drand quicknet round 1 (benchmark)"
    commitment = V.commitment("BENCH-1", files, ref)
    seed = V.seed_of(commitment, "ab" * 32)
    t0 = time.perf_counter()
    parsed = V.parse_inputs(files)
    result = V.run(parsed, seed)
    draw_s = time.perf_counter() - t0
    draw = {"spec": V.SPEC, "draw_id": "BENCH-1", "beacon_ref": ref, "beacon_value": "ab" * 32,
            "commitment": commitment, "committed_at": "2026-01-01T00:00:00+00:00", "seed": seed,
            **{k: result[k] for k in ("quotas", "selected", "reserve", "groups", "unstaffed")}, "substitutions": []}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "export.zip"
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
            for name, data in files.items():
                zf.writestr(name, data)
            zf.writestr("draw.json", json.dumps(draw, ensure_ascii=False))
        path.write_bytes(buffer.getvalue())
        t0 = time.perf_counter()
        done = subprocess.run([sys.executable, "-I", str(Path(V.__file__)), str(path)], capture_output=True, text=True)
        verify_s = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit("verification failed:\n" + done.stdout[-2000:])
    return {"enterprises": enterprises, "strata": 30, "inspectors": inspectors, "recusals": recusals, "n": n,
            "selected": len(result["selected"]), "unstaffed": len(result["unstaffed"]),
            "draw_s": round(draw_s, 3), "verify_s": round(verify_s, 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--enterprises", type=int, default=100_000)
    parser.add_argument("--n", type=int, default=5000)
    parser.add_argument("--growth", action="store_true", help="10k, 100k and 1M enterprises with n = 5 %%")
    args = parser.parse_args()
    if args.growth:
        rows = [measure(size) for size in (10_000, 100_000, 1_000_000)]
        for row in rows:
            print(json.dumps(row, ensure_ascii=False))
        print(json.dumps({"growth": rows, **rows[1]}, ensure_ascii=False))
        return
    print(json.dumps(measure(args.enterprises, n=args.n), ensure_ascii=False))


if __name__ == "__main__":
    main()
