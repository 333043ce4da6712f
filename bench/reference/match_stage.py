"""Why pymatgen's StructureMatcher finds no match: fixture for src/eval/matcher.test.ts (NoMatchStage).

For every pair of src/eval/fixtures/matcher_pairs.dev.jsonl.gz (cif_a = prediction, cif_b = ground truth),
pymatgen 2022.11 (Debian python3-pymatgen) with the CSP metric's settings (ltol 0.3, stol 0.5, angle_tol 10)
is asked, step by step with its own routines, where the search ends:
  composition  the reduced structures cannot be paired species by species (its species mask);
  site_count   the reduced (Niggli + primitive) structures have different site counts;
  lattice      no basis of the prediction's volume-scaled lattice within ltol / angle_tol of the truth's
               (StructureMatcher._get_lattices, cell size 1);
  sites        lattices map but get_rms_dist returns None;
  null         get_rms_dist matched.

  /usr/bin/python3 bench/reference/match_stage.py src/eval/fixtures/matcher_pairs.dev.jsonl.gz > src/eval/fixtures/match_stages.dev.json
"""
import gzip, json, sys, warnings
from pymatgen.core import Structure
from pymatgen.analysis.structure_matcher import StructureMatcher
from pymatgen.optimization.linear_assignment import LinearAssignment

warnings.filterwarnings('ignore')
sm = StructureMatcher(ltol=0.3, stol=0.5, angle_tol=10)


def stage(cif_pred, cif_gt):
    pred = Structure.from_str(cif_pred, fmt='cif')
    gt = Structure.from_str(cif_gt, fmt='cif')
    s1, s2 = sm._process_species([pred, gt])
    s1, s2, fu, _ = sm._preprocess(s1, s2)
    if len(s1) != len(s2):
        same = {e.symbol for e in s1.composition.elements} == {e.symbol for e in s2.composition.elements}
        return 'site_count' if same else 'composition'
    mask, _, _ = sm._get_mask(s1, s2, 1, True)
    if LinearAssignment(mask).min_cost > 0:
        return 'composition'
    if next(sm._get_lattices(s2.lattice, s1, 1), None) is None:
        return 'lattice'
    return None if sm.get_rms_dist(pred, gt) is not None else 'sites'


out = {}
with gzip.open(sys.argv[1], 'rt') as f:
    for line in f:
        p = json.loads(line)
        try:
            out[p['id']] = stage(p['cif_a'], p['cif_b'])
        except Exception as err:  # a pair pymatgen cannot read or match: left out of the fixture
            print(f"{p['id']}: {err}", file=sys.stderr)
json.dump({'generator': 'bench/reference/match_stage.py', 'pymatgen': '2022.11.7', 'stages': out}, sys.stdout, indent=0)
print()
