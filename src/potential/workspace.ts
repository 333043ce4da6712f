/**
 * Scratch arrays that one evaluation pass of the batched M3GNet (./fast.ts) reuses from the
 * previous pass (issue #15). Relaxation calls the potential once per FIRE step with nearly the
 * same shapes every time; allocating the ~150 bond-sized typed arrays of a pass afresh each time
 * made allocation and garbage collection about a fifth of `kldm relax`'s CPU time.
 *
 * A pass asks for its arrays in the same order every time, so the i-th request of a pass is
 * served from the i-th slot: the slot's buffer is reused when large enough, else replaced by one
 * with 10 % headroom (bond counts drift a little from step to step). Arrays are zeroed, exactly
 * like fresh typed arrays, except where the caller asks for an uninitialised one because the next
 * operation overwrites every element (zeroing every array was a tenth of the pass); a different
 * request order only costs reallocations, never correctness.
 *
 * The arrays are valid until the next `begin()` (or the `release` of a mark taken before them):
 * nothing taken from a workspace may outlive the pass (results are copied out). Memory held = the
 * largest pass seen, per slot; temporaries released early (mark/release) keep that down.
 */
import type { FloatArray } from '../engine/kernels.js';

type Buffer = Float32Array | Float64Array | Int32Array | Uint8Array;

class SlotPool<T extends Buffer> {
  private readonly slots: T[] = [];
  private next = 0;

  constructor(private readonly make: (n: number) => T) {}

  begin(): void {
    this.next = 0;
  }

  position(): number {
    return this.next;
  }

  rewind(position: number): void {
    this.next = position;
  }

  /** n elements, zeroed unless `zero` is false (the caller then overwrites every element itself) */
  take(n: number, zero = true): T {
    let buf = this.slots[this.next];
    if (buf === undefined || buf.length < n) {
      buf = this.make(Math.ceil(n * 1.1) + 64);
      this.slots[this.next] = buf;
    }
    this.next++;
    const view = buf.subarray(0, n) as T;
    if (zero) view.fill(0);
    return view;
  }

  /** elements held (tests, diagnostics) */
  held(): number {
    return this.slots.reduce((s, b) => s + b.length, 0);
  }
}

export type WorkspaceMark = readonly [number, number, number, number, number];

export class PassWorkspace {
  private readonly f32 = new SlotPool((n) => new Float32Array(n));
  private readonly f64 = new SlotPool((n) => new Float64Array(n));
  /** float64 geometry (neighbour vectors, basis values, triple sums): separate slots from the network's float64 arrays */
  private readonly geom = new SlotPool((n) => new Float64Array(n));
  private readonly i32 = new SlotPool((n) => new Int32Array(n));
  private readonly u8 = new SlotPool((n) => new Uint8Array(n));

  /**
   * The current position, for `release`: the arrays taken after it are temporaries of one step
   * (stack discipline), whose slots the step's successors may reuse.
   */
  mark(): WorkspaceMark {
    return [this.f32.position(), this.f64.position(), this.geom.position(), this.i32.position(), this.u8.position()];
  }

  /** Frees every array taken since `mark` (they must not be used any more); earlier ones stay valid. */
  release(mark: WorkspaceMark): void {
    this.f32.rewind(mark[0]);
    this.f64.rewind(mark[1]);
    this.geom.rewind(mark[2]);
    this.i32.rewind(mark[3]);
    this.u8.rewind(mark[4]);
  }

  /** Starts a pass: every array handed out before is free again. */
  begin(): void {
    this.f32.begin();
    this.f64.begin();
    this.geom.begin();
    this.i32.begin();
    this.u8.begin();
  }

  /** A network array (float32, or float64 on the reference kernels) of n elements, zeroed unless `zero` is false. */
  float(n: number, float64: boolean, zero = true): FloatArray {
    return float64 ? this.f64.take(n, zero) : this.f32.take(n, zero);
  }

  /** A float64 array for geometry, zeroed unless `zero` is false. */
  geometry(n: number, zero = true): Float64Array {
    return this.geom.take(n, zero);
  }

  int32(n: number, zero = true): Int32Array {
    return this.i32.take(n, zero);
  }

  uint8(n: number): Uint8Array {
    return this.u8.take(n);
  }

  /** Bytes held across passes. */
  bytesHeld(): number {
    return 4 * this.f32.held() + 8 * this.f64.held() + 8 * this.geom.held() + 4 * this.i32.held() + this.u8.held();
  }
}
