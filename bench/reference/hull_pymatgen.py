"""Convex-hull fixture from Debian pymatgen's PhaseDiagram for src/thermo/hull.test.ts.

Reference entries: MP-20 train + val (mirror files in ../shared/data/mp_20), formation energy per
atom from the CSV, composition from pretty_formula; every element also at 0 eV/atom. Queries: 300
test-split materials (fixed seed), each with its own formation energy: e_above_hull
(allow_negative) and the decomposition, from a PhaseDiagram of the query's chemical system.

  /usr/bin/python3 bench/reference/hull_pymatgen.py ../shared/data/mp_20 > src/thermo/fixtures/hull_mp20.json
"""
import csv, glob, gzip, json, random, sys
from pymatgen.core import Composition, Element
from pymatgen.analysis.phase_diagram import PDEntry, PhaseDiagram

root = sys.argv[1]
csv.field_size_limit(10**9)

def rows(pattern):
    path = sorted(glob.glob(f"{root}/{pattern}"))[0]
    with gzip.open(path, 'rt') as f:
        yield from csv.DictReader(f)

refs = []
for split in ('train.reconstructed.csv.gz', 'val.reconstructed-no-index.csv.gz'):
    for r in rows(split):
        # the MP-20 train reconstruction has no formation energy (or formula) for some rows: they are not references
        if r['formation_energy_per_atom'] == '' or r['pretty_formula'] == '':
            continue
        refs.append((r['material_id'], r['pretty_formula'], float(r['formation_energy_per_atom'])))
tests = [(r['material_id'], r['pretty_formula'], float(r['formation_energy_per_atom'])) for r in rows('test.reconstructed-no-index.csv.gz')]
random.seed(0)
queries = random.sample(tests, 300)

by_sys = {}
for mid, f, e in refs:
    c = Composition(f)
    by_sys.setdefault(frozenset(el.symbol for el in c.elements), []).append(PDEntry(c, e * c.num_atoms, name=mid))

out = []
for mid, f, e in queries:
    c = Composition(f)
    els = set(el.symbol for el in c.elements)
    entries = [PDEntry(Composition({el: 1}), 0.0, name=el) for el in els]
    for sys_, es in by_sys.items():
        if sys_ <= els:
            entries.extend(es)
    pd = PhaseDiagram(entries)
    q = PDEntry(c, e * c.num_atoms, name=mid)
    decomp, ehull = pd.get_decomp_and_e_above_hull(q, allow_negative=True)
    out.append(dict(id=mid, formula=f, formation_energy_per_atom=e, e_above_hull=ehull,
                    decomposition=sorted([(d.name, float(a)) for d, a in decomp.items()])))
print(json.dumps(dict(references_count=len(refs), generator='bench/reference/hull_pymatgen.py', pymatgen='2022.11.7 (Debian)', references='MP-20 train + val', queries=out)))
