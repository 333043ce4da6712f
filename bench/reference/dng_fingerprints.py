#!/usr/bin/python3
"""Reference fingerprints for kldm's DNG evaluation (spec §10.1), from Debian's pymatgen 2022.11.7.

Writes bench/reference/fixtures/dng_fingerprints.json.gz: for structures drawn from several datasets
(../shared/data/<dataset>/<split>.csv.gz), some randomly perturbed copies (generated-like, no symmetry) and
random structures (random lattice, positions and elements, some sparse enough that pymatgen fails):
  - the structure as pymatgen parsed it (lattice rows, species, fractional coordinates),
  - the structural fingerprint DiffCSP/KLDM use: mean over sites of matminer's
    CrystalNNFingerprint.from_preset("ops") (61 features),
  - the magpie composition fingerprint (132 features),
  - pymatgen's density (g/cm^3) and number of distinct elements.

matminer is not packaged in Debian, so the two matminer pieces are re-stated here in plain Python from
matminer's published definitions, on top of pymatgen (which does the real work for the structural half):
  - CrystalNNFingerprint("ops"): CrystalNN().get_nn_data + LocalStructOrderParams for the motif list of
    matminer's load_cn_target_motif_op() with pymatgen's CN_OPT_PARAMS (what matminer imports);
  - ElementProperty("magpie") with impute_nan=False (matminer <= 0.9.3, what DiffCSP/KLDM ran): the 22
    magpie tables read as MagpieData reads them, statistics minimum/maximum/range (NaN if any NaN),
    mean = np.average(weights=amounts), avg_dev, mode = min of the values with the largest amount.

Run: /usr/bin/python3 bench/reference/dng_fingerprints.py [--magpie ../shared/reference/magpie]
"""
import argparse
import copy
import csv
import gzip
import io
import json
import math
import os
import sys
import warnings
from collections import Counter

import numpy as np

warnings.filterwarnings("ignore")
from pymatgen.core import Composition, Element, Lattice, Structure  # noqa: E402
from pymatgen.analysis.local_env import CrystalNN, LocalStructOrderParams  # noqa: E402
import yaml  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

CN_TARGET_MOTIF_OP = {
    1: ["sgl_bd"],
    2: ["L-shaped", "water-like", "bent 120 degrees", "bent 150 degrees", "linear"],
    3: ["trigonal planar", "trigonal non-coplanar", "T-shaped"],
    4: ["square co-planar", "tetrahedral", "rectangular see-saw-like", "see-saw-like", "trigonal pyramidal"],
    5: ["pentagonal planar", "square pyramidal", "trigonal bipyramidal"],
    6: ["hexagonal planar", "octahedral", "pentagonal pyramidal"],
    7: ["hexagonal pyramidal", "pentagonal bipyramidal"],
    8: ["body-centered cubic", "hexagonal bipyramidal"],
    9: ["q2", "q4", "q6"],
    10: ["q2", "q4", "q6"],
    11: ["q2", "q4", "q6"],
    12: ["cuboctahedral", "q2", "q4", "q6"],
}

MAGPIE_FEATURES = [
    "Number", "MendeleevNumber", "AtomicWeight", "MeltingT", "Column", "Row", "CovalentRadius",
    "Electronegativity", "NsValence", "NpValence", "NdValence", "NfValence", "NValence", "NsUnfilled",
    "NpUnfilled", "NdUnfilled", "NfUnfilled", "NUnfilled", "GSvolume_pa", "GSbandgap", "GSmagmom",
    "SpaceGroupNumber",
]


class OpsFingerprint:
    """matminer CrystalNNFingerprint.from_preset("ops"), featurize(struct, idx)."""

    def __init__(self):
        import pymatgen.analysis.local_env as le
        with open(os.path.join(os.path.dirname(le.__file__), "cn_opt_params.yaml")) as f:
            cn_opt_params = yaml.safe_load(f)
        self.cnn = CrystalNN()
        self.ops = {}
        for cn in range(1, 25):
            self.ops[cn] = ["wt"]
            for t in CN_TARGET_MOTIF_OP.get(cn, []):
                ot, p = t, None
                if cn in cn_opt_params and t in cn_opt_params[cn]:
                    ot = cn_opt_params[cn][t][0]
                    if len(cn_opt_params[cn][t]) > 1:
                        p = cn_opt_params[cn][t][1]
                self.ops[cn].append(LocalStructOrderParams([ot], parameters=[p]))

    def featurize(self, struct, idx):
        nndata = self.cnn.get_nn_data(struct, idx)
        out = []
        for cn in range(1, 25):
            wt = nndata.cn_weights.get(cn, 0)
            for op in self.ops[cn]:
                if op == "wt":
                    out.append(wt)
                elif wt == 0:
                    out.append(wt)
                else:
                    neigh = [d["site"] for d in nndata.cn_nninfo[cn]]
                    v = op.get_order_parameters([struct[idx]] + neigh, 0, indices_neighs=list(range(1, len(neigh) + 1)))[0]
                    v = v or 0
                    out.append(wt * v)
        return out


class Magpie:
    """matminer MagpieData(impute_nan=False) + ElementProperty magpie statistics."""

    def __init__(self, folder):
        self.props = {}
        for name in MAGPIE_FEATURES:
            with open(os.path.join(folder, name + ".table")) as f:
                lines = f.readlines()
            table = {}
            for z in range(1, 104):  # matminer 0.7.x reads Z = 1..103
                try:
                    table[Element.from_Z(z).symbol] = float(lines[z - 1])
                except (ValueError, IndexError):
                    table[Element.from_Z(z).symbol] = float("nan")
            self.props[name] = table

    @staticmethod
    def stat(name, data, weights):
        data = np.array(data, dtype=float)
        weights = np.array(weights, dtype=float)
        if name in ("minimum", "maximum", "range"):
            if np.any(np.isnan(data)):
                return float("nan")
            return {"minimum": min(data), "maximum": max(data), "range": max(data) - min(data)}[name]
        if name == "mean":
            return float(np.average(data, weights=weights))
        if name == "avg_dev":
            mean = np.average(data, weights=weights)
            return float(np.average(np.abs(np.subtract(data, mean)), weights=weights))
        if name == "mode":
            most = np.isclose(weights, weights.max())
            return float(data[most].min())
        raise ValueError(name)

    def featurize(self, comp):
        elements, amounts = zip(*comp.element_composition.items())
        out = []
        for prop in MAGPIE_FEATURES:
            data = [self.props[prop][e.symbol] for e in elements]
            for st in ("minimum", "maximum", "range", "mean", "avg_dev", "mode"):
                out.append(float(self.stat(st, data, amounts)))
        return out


def read_cifs(dataset, split, limit, stride):
    path = os.path.join(ROOT, "..", "shared", "data", dataset, split)
    with gzip.open(path, "rt", newline="") as f:
        rows = list(csv.DictReader(f))
    picked = rows[::stride][:limit]
    return [(r["material_id"], r["cif"]) for r in picked]


def jnum(x):
    x = float(x)
    return None if math.isnan(x) else x


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--magpie", default=os.path.join(ROOT, "..", "shared", "reference", "magpie"))
    ap.add_argument("--out", default=os.path.join(HERE, "fixtures", "dng_fingerprints.json.gz"))
    args = ap.parse_args()
    sources = [
        ("perov_5", "test.csv.gz", 50, 75),
        ("carbon_24", "test.csv.gz", 40, 50),
        ("mp_20", "test.reconstructed-no-index.csv.gz", 80, 110),
        ("mpts_52", "test.csv.gz", 30, 270),
    ]
    fp = OpsFingerprint()
    magpie = Magpie(args.magpie)
    rng = np.random.default_rng(20261206)
    items = []
    for dataset, split, limit, stride in sources:
        for mid, cif in read_cifs(dataset, split, limit, stride):
            s = Structure.from_str(cif, fmt="cif")
            items.append((dataset, mid, s))
    # generated-like: perturbed copies (random displacements, strained lattice) of some mp_20/perov_5 items
    base = [it for it in items if it[0] in ("mp_20", "perov_5")][::3][:40]
    for dataset, mid, s in base:
        p = s.copy()
        frac = p.frac_coords + rng.normal(0.0, 0.02, p.frac_coords.shape)
        lat = p.lattice.matrix @ (np.eye(3) + rng.normal(0.0, 0.03, (3, 3)))
        q = Structure(lat, [sp.symbol for sp in p.species], frac % 1.0)
        items.append((dataset + "_perturbed", mid, q))
    # generated-like garbage: random lattices (3-16 Å), random positions and elements (He has no
    # electronegativity); sparse cells exercise pymatgen's growing Voronoi cutoff and its failures
    elements = ["Li", "O", "Fe", "Na", "Cl", "Si", "Mn", "S", "Ba", "Ti", "N", "Cu", "He", "Cs"]
    for t in range(60):
        n = int(rng.integers(1, 10))
        lat = Lattice.from_parameters(*rng.uniform(3, 16, 3), *rng.uniform(70, 110, 3))
        species = [elements[i] for i in rng.integers(0, len(elements), n)]
        items.append(("random", f"random-{t}", Structure(lat, species, rng.uniform(0, 1, (n, 3)))))
    records = []
    failures = 0
    for dataset, mid, s in items:
        rec = {
            "dataset": dataset,
            "id": mid,
            "lattice": [float(v) for v in s.lattice.matrix.reshape(-1)],
            "species": [sp.symbol for sp in s.species],
            "frac": [float(v) for v in s.frac_coords.reshape(-1)],
            "density": float(s.density),
            "nElements": len(set(s.species)),
        }
        try:
            site_fps = [fp.featurize(s, i) for i in range(len(s))]
            rec["ops"] = [float(v) for v in np.array(site_fps).mean(axis=0)]
        except Exception as e:  # DiffCSP marks such structures invalid
            failures += 1
            rec["ops"] = None
            rec["opsError"] = f"{type(e).__name__}: {e}"
        comp = Composition(Counter(sp.symbol for sp in s.species))
        rec["magpie"] = [jnum(v) for v in magpie.featurize(comp)]
        records.append(rec)
        print(f"{dataset} {mid} n={len(s)}", file=sys.stderr)
    out = {
        "_source": "bench/reference/dng_fingerprints.py with Debian python3-pymatgen 2022.11.7; magpie tables "
        "../shared/reference/magpie (matminer data, impute_nan=False semantics). Regenerate with "
        "/usr/bin/python3 bench/reference/dng_fingerprints.py",
        "records": records,
    }
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    tmp = args.out + ".tmp"
    with gzip.open(tmp, "wt") as f:
        json.dump(out, f, separators=(",", ":"))
    os.replace(tmp, args.out)
    print(f"wrote {len(records)} records ({failures} fingerprint failures) to {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
