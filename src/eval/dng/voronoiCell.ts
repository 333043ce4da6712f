/**
 * The Voronoi cell of one point (the origin) among a set of neighbour points, as a convex polyhedron
 * with one face per neighbour whose bisector plane bounds the cell.
 *
 * pymatgen's VoronoiNN runs qhull over every point in a sphere and then reads only the ridges of the
 * centre; for that one cell, clipping a large box by each bisector half-space {x : p·x ≤ |p|²/2}
 * gives the same polyhedron without a full 3-D tessellation (no npm library offers 3-D Voronoi with
 * ridge polygons; the Delaunay packages on npm are 2-D). Faces that qhull reports with zero area in
 * degenerate (co-spherical) configurations are simply absent here; they carry zero weight in
 * CrystalNN anyway. A face of the initial box that survives means the cell is unbounded within the
 * given points (qhull's "infinite vertex"), which the caller treats as pymatgen does.
 */

export type Vec3 = [number, number, number];

export interface CellFace {
  /** index of the neighbour point whose bisector this face lies on; negative = a face of the bounding box */
  neighbour: number;
  /** polygon vertices in cyclic order, coordinates relative to the centre */
  vertices: Vec3[];
}

export interface VoronoiCell {
  faces: CellFace[];
  /** false when a bounding-box face survives: the cell is open on that side */
  bounded: boolean;
}

const dot = (a: Vec3, b: Vec3): number => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
const sub = (a: Vec3, b: Vec3): Vec3 => [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
const cross = (a: Vec3, b: Vec3): Vec3 => [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
const norm = (a: Vec3): number => Math.hypot(a[0], a[1], a[2]);

function boxFaces(h: number): CellFace[] {
  const v = (x: number, y: number, z: number): Vec3 => [x * h, y * h, z * h];
  // outward-facing quads of the cube [-h, h]^3 (orientation is irrelevant to the clipping below)
  return [
    { neighbour: -1, vertices: [v(1, -1, -1), v(1, 1, -1), v(1, 1, 1), v(1, -1, 1)] },
    { neighbour: -2, vertices: [v(-1, -1, -1), v(-1, -1, 1), v(-1, 1, 1), v(-1, 1, -1)] },
    { neighbour: -3, vertices: [v(-1, 1, -1), v(-1, 1, 1), v(1, 1, 1), v(1, 1, -1)] },
    { neighbour: -4, vertices: [v(-1, -1, -1), v(1, -1, -1), v(1, -1, 1), v(-1, -1, 1)] },
    { neighbour: -5, vertices: [v(-1, -1, 1), v(1, -1, 1), v(1, 1, 1), v(-1, 1, 1)] },
    { neighbour: -6, vertices: [v(-1, -1, -1), v(-1, 1, -1), v(1, 1, -1), v(1, -1, -1)] },
  ];
}

/** Drop repeated and collinear vertices of a planar polygon (they add nothing and make fan triangles degenerate). */
function cleanPolygon(poly: Vec3[], tol: number): Vec3[] {
  let out = poly.filter((p, i) => norm(sub(p, poly[(i + 1) % poly.length]!)) > tol);
  let changed = true;
  while (changed && out.length >= 3) {
    changed = false;
    for (let i = 0; i < out.length; i++) {
      const a = out[(i + out.length - 1) % out.length]!;
      const b = out[i]!;
      const c = out[(i + 1) % out.length]!;
      const ab = sub(b, a);
      const bc = sub(c, b);
      if (norm(cross(ab, bc)) <= tol * (norm(ab) + norm(bc))) {
        out = out.filter((_, k) => k !== i);
        changed = true;
        break;
      }
    }
  }
  return out;
}

/** Order points lying on a plane with normal n by angle around their centroid. */
function orderOnPlane(points: Vec3[], n: Vec3): Vec3[] {
  const c: Vec3 = [0, 0, 0];
  for (const p of points) for (let k = 0; k < 3; k++) c[k] += p[k]! / points.length;
  const ref = Math.abs(n[0]) < 0.9 ? ([1, 0, 0] as Vec3) : ([0, 1, 0] as Vec3);
  const u = cross(n, ref);
  const un = norm(u);
  const e1: Vec3 = [u[0] / un, u[1] / un, u[2] / un];
  const w = cross(n, e1);
  const wn = norm(w);
  const e2: Vec3 = [w[0] / wn, w[1] / wn, w[2] / wn];
  return points
    .map((p) => ({ p, a: Math.atan2(dot(sub(p, c), e2), dot(sub(p, c), e1)) }))
    .sort((x, y) => x.a - y.a)
    .map((x) => x.p);
}

function maxVertexNorm(faces: readonly CellFace[]): number {
  let r = 0;
  for (const f of faces) for (const v of f.vertices) r = Math.max(r, norm(v));
  return r;
}

/**
 * Voronoi cell of the origin among `points` (neighbour positions relative to the centre; none at the
 * origin). `boxHalfWidth` bounds the cell; choose it well beyond the point cloud.
 */
export function voronoiCellOfOrigin(points: readonly Vec3[], boxHalfWidth: number): VoronoiCell {
  let faces = boxFaces(boxHalfWidth);
  let reach = maxVertexNorm(faces);
  const order = points.map((p, i) => ({ i, d: norm(p) })).sort((a, b) => a.d - b.d);
  for (const { i, d } of order) {
    if (!(d > 0)) throw new Error(`Voronoi: neighbour ${i} coincides with the centre`);
    // neighbours come nearest first: once a bisector lies beyond the farthest vertex, so do all the rest
    if (0.5 * d > reach * (1 + 1e-9)) break;
    const p = points[i]!;
    const rhs = 0.5 * d * d;
    const eps = 1e-10 * rhs;
    // quick rejection: the plane lies beyond every vertex
    let maxS = -Infinity;
    for (const f of faces) for (const v of f.vertices) maxS = Math.max(maxS, dot(p, v) - rhs);
    if (maxS <= eps) continue;
    const onPlane: Vec3[] = [];
    const next: CellFace[] = [];
    for (const f of faces) {
      const vs = f.vertices;
      const s = vs.map((v) => dot(p, v) - rhs);
      const clipped: Vec3[] = [];
      for (let k = 0; k < vs.length; k++) {
        const a = vs[k]!;
        const b = vs[(k + 1) % vs.length]!;
        const sa = s[k]!;
        const sb = s[(k + 1) % vs.length]!;
        if (sa <= eps) clipped.push(a);
        if (Math.abs(sa) <= eps) onPlane.push(a);
        if ((sa < -eps && sb > eps) || (sa > eps && sb < -eps)) {
          const t = sa / (sa - sb);
          const x: Vec3 = [a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1]), a[2] + t * (b[2] - a[2])];
          clipped.push(x);
          onPlane.push(x);
        }
      }
      const poly = cleanPolygon(clipped, 1e-9 * Math.sqrt(rhs));
      if (poly.length >= 3) next.push({ neighbour: f.neighbour, vertices: poly });
    }
    // the new face: distinct points on the plane, in angular order
    const tol = 1e-9 * Math.sqrt(rhs);
    const uniq: Vec3[] = [];
    for (const q of onPlane) if (!uniq.some((u) => norm(sub(u, q)) <= tol)) uniq.push(q);
    if (uniq.length >= 3) {
      const n: Vec3 = [p[0] / d, p[1] / d, p[2] / d];
      const poly = cleanPolygon(orderOnPlane(uniq, n), tol);
      if (poly.length >= 3) next.push({ neighbour: i, vertices: poly });
    }
    faces = next;
    reach = maxVertexNorm(faces);
  }
  return { faces, bounded: faces.every((f) => f.neighbour >= 0) };
}

/** Solid angle subtended at the origin by a planar convex polygon (fan of Van Oosterom–Strackee triangles). */
export function polygonSolidAngle(vertices: readonly Vec3[]): number {
  const r0 = vertices[0]!;
  const n0 = norm(r0);
  let angle = 0;
  for (let i = 1; i + 1 < vertices.length; i++) {
    const ri = vertices[i]!;
    const rj = vertices[i + 1]!;
    const ni = norm(ri);
    const nj = norm(rj);
    const tp = Math.abs(dot(r0, cross(ri, rj)));
    const de = n0 * ni * nj + nj * dot(r0, ri) + ni * dot(r0, rj) + n0 * dot(ri, rj);
    angle += 2 * Math.atan2(tp, de);
  }
  return angle;
}

/** Area of a planar convex polygon. */
export function polygonArea(vertices: readonly Vec3[]): number {
  const v0 = vertices[0]!;
  const acc: Vec3 = [0, 0, 0];
  for (let i = 1; i + 1 < vertices.length; i++) {
    const c = cross(sub(vertices[i]!, v0), sub(vertices[i + 1]!, v0));
    acc[0] += c[0];
    acc[1] += c[1];
    acc[2] += c[2];
  }
  return 0.5 * norm(acc);
}
