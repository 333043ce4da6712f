"""MP2020 correction fixture from Debian pymatgen (2022.11.7) MaterialsProject2020Compatibility, for
src/thermo/mp2020.test.ts and the full-MP-20 agreement check (bench/thermo/mp2020-check.ts).

Every structure of the given MP-20 split files becomes a ComputedStructureEntry with energy 0 and
the parameters of an MP calculation: run type GGA+U where MP uses U (most electronegative element O
or F with one of V Cr Mn Fe Co Ni W Mo), the MP U values, and MPRelaxSet's POTCAR symbols. Output:
one JSON line per structure: {id, correction (eV per cell), names (the adjustments)}.

  /usr/bin/python3 bench/reference/mp2020_pymatgen.py ../shared/data/mp_20/test.reconstructed-no-index.csv.gz > out.jsonl
"""
import csv, gzip, json, sys, warnings
from pymatgen.core import Structure
from pymatgen.entries.computed_entries import ComputedStructureEntry
from pymatgen.entries.compatibility import MaterialsProject2020Compatibility, CompatibilityError
from pymatgen.io.vasp.sets import MPRelaxSet

warnings.filterwarnings('ignore')
csv.field_size_limit(10**9)
compat = MaterialsProject2020Compatibility()
potcars = MPRelaxSet.CONFIG['POTCAR']
u_values = MPRelaxSet.CONFIG['INCAR']['LDAUU']  # {'O': {'Fe': 5.3, ...}, 'F': {...}}

for path in sys.argv[1:]:
    with gzip.open(path, 'rt') as f:
        for row in csv.DictReader(f):
            if not row['cif']:
                continue
            s = Structure.from_str(row['cif'], fmt='cif')
            comp = s.composition
            els = sorted(comp.elements, key=lambda e: e.X)
            most = els[-1].symbol
            hubbards = {}
            if most in u_values:
                hubbards = {e.symbol: u_values[most].get(e.symbol, 0) for e in comp.elements}
            gga_u = any(v > 0 for v in hubbards.values())
            params = dict(run_type='GGA+U' if gga_u else 'GGA', hubbards=hubbards if gga_u else {},
                          potcar_spec=[dict(titel=f"PBE {potcars[e.symbol]}", hash=None) for e in comp.elements])
            entry = ComputedStructureEntry(s, 0.0, parameters=params, entry_id=row['material_id'])
            try:
                adj = compat.get_adjustments(entry)
                out = dict(id=row['material_id'], correction=sum(a.value for a in adj), names=[a.name for a in adj])
            except CompatibilityError as e:
                out = dict(id=row['material_id'], error=str(e))
            print(json.dumps(out))
