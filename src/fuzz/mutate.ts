/**
 * Mutations of real files as fast-check arbitraries: a mutation is a short list of edits (bit
 * flips, deletions, duplications, insertions of format tokens, number replacements, line swaps,
 * truncation) applied to a seed text or byte buffer picked from a corpus. Positions are drawn as
 * naturals and taken modulo the current length, so every edit applies to any seed.
 */
import fc from 'fast-check';

/** Numbers that break naive parsers: huge, tiny, negative zero, non-finite spellings, overflowing integers. */
export const INTERESTING_NUMBERS = [
  '0', '-0', '1', '-1', '0.5', '1e308', '1e309', '-1e309', '1e-320', '4.9e-324', 'NaN', 'Infinity', '-Infinity',
  '9007199254740993', '99999999999999999999', '1e9', '2147483648', '4294967296', '0x10', '1/0', '.', '?', '', '1.0(5)', '+.5e+3',
];

type TextEdit =
  | { kind: 'flip'; pos: number; bit: number }
  | { kind: 'delete'; pos: number; len: number }
  | { kind: 'duplicate'; pos: number; len: number; at: number }
  | { kind: 'insert'; pos: number; text: string }
  | { kind: 'number'; which: number; value: string }
  | { kind: 'swapLines'; a: number; b: number }
  | { kind: 'truncate'; pos: number };

function textEdit(tokens: readonly string[]): fc.Arbitrary<TextEdit> {
  return fc.oneof(
    fc.record({ kind: fc.constant('flip' as const), pos: fc.nat(), bit: fc.integer({ min: 0, max: 15 }) }),
    fc.record({ kind: fc.constant('delete' as const), pos: fc.nat(), len: fc.integer({ min: 1, max: 80 }) }),
    fc.record({ kind: fc.constant('duplicate' as const), pos: fc.nat(), len: fc.integer({ min: 1, max: 400 }), at: fc.nat() }),
    fc.record({
      kind: fc.constant('insert' as const),
      pos: fc.nat(),
      text: fc.oneof(fc.constantFrom(...tokens), fc.string({ maxLength: 8, unit: 'binary' }), fc.constantFrom(...INTERESTING_NUMBERS)),
    }),
    fc.record({ kind: fc.constant('number' as const), which: fc.nat(), value: fc.constantFrom(...INTERESTING_NUMBERS) }),
    fc.record({ kind: fc.constant('swapLines' as const), a: fc.nat(), b: fc.nat() }),
    fc.record({ kind: fc.constant('truncate' as const), pos: fc.nat() }),
  );
}

function applyTextEdit(text: string, e: TextEdit): string {
  const n = text.length;
  const at = (p: number): number => (n === 0 ? 0 : p % (n + 1));
  switch (e.kind) {
    case 'flip': {
      if (n === 0) return text;
      const p = e.pos % n;
      return text.slice(0, p) + String.fromCharCode(text.charCodeAt(p) ^ (1 << e.bit)) + text.slice(p + 1);
    }
    case 'delete': {
      const p = at(e.pos);
      return text.slice(0, p) + text.slice(p + e.len);
    }
    case 'duplicate': {
      const p = at(e.pos);
      const piece = text.slice(p, p + e.len);
      const q = at(e.at);
      return text.slice(0, q) + piece + text.slice(q);
    }
    case 'insert': {
      const p = at(e.pos);
      return text.slice(0, p) + e.text + text.slice(p);
    }
    case 'number': {
      const re = /[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/g;
      const matches = [...text.matchAll(re)];
      if (matches.length === 0) return text;
      const m = matches[e.which % matches.length]!;
      return text.slice(0, m.index) + e.value + text.slice(m.index! + m[0].length);
    }
    case 'swapLines': {
      const lines = text.split('\n');
      const a = e.a % lines.length;
      const b = e.b % lines.length;
      [lines[a], lines[b]] = [lines[b]!, lines[a]!];
      return lines.join('\n');
    }
    case 'truncate':
      return text.slice(0, at(e.pos));
  }
}

/** A corpus text with 1-6 edits; `tokens` are format keywords worth inserting (e.g. "loop_" for CIF). */
export function mutatedText(corpus: readonly string[], tokens: readonly string[]): fc.Arbitrary<string> {
  return fc
    .tuple(fc.nat({ max: corpus.length - 1 }), fc.array(textEdit(tokens), { minLength: 1, maxLength: 6 }))
    .map(([k, edits]) => edits.reduce(applyTextEdit, corpus[k]!));
}

type ByteEdit =
  | { kind: 'flip'; pos: number; bit: number }
  | { kind: 'set'; pos: number; value: number }
  | { kind: 'delete'; pos: number; len: number }
  | { kind: 'insert'; pos: number; bytes: Uint8Array }
  | { kind: 'truncate'; pos: number }
  | { kind: 'u64'; pos: number; value: bigint };

function byteEdit(): fc.Arbitrary<ByteEdit> {
  return fc.oneof(
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('flip' as const), pos: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }) },
    fc.record({ kind: fc.constant('set' as const), pos: fc.nat(), value: fc.constantFrom(0, 0xff, 0x7f, 0x80, 0x20, 0x22, 0x7b, 0x7d, 0x5b, 0x2c, 0x3a, 0x30, 0x39) }),
    fc.record({ kind: fc.constant('delete' as const), pos: fc.nat(), len: fc.integer({ min: 1, max: 64 }) }),
    fc.record({ kind: fc.constant('insert' as const), pos: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
    fc.record({ kind: fc.constant('truncate' as const), pos: fc.nat() }),
    fc.record({
      kind: fc.constant('u64' as const),
      pos: fc.oneof(fc.constant(0), fc.nat()),
      value: fc.oneof(fc.constantFrom(0n, 1n, 7n, 8n, 2n ** 32n, 2n ** 53n + 1n, 2n ** 63n, 2n ** 64n - 1n), fc.bigInt({ min: 0n, max: 2n ** 20n })),
    }),
  );
}

function applyByteEdit(buf: Uint8Array, e: ByteEdit): Uint8Array {
  const n = buf.length;
  const at = (p: number): number => (n === 0 ? 0 : p % (n + 1));
  switch (e.kind) {
    case 'flip': {
      if (n === 0) return buf;
      const out = Uint8Array.from(buf);
      out[e.pos % n] ^= 1 << e.bit;
      return out;
    }
    case 'set': {
      if (n === 0) return buf;
      const out = Uint8Array.from(buf);
      out[e.pos % n] = e.value;
      return out;
    }
    case 'delete': {
      const p = at(e.pos);
      return Buffer.concat([buf.subarray(0, p), buf.subarray(Math.min(n, p + e.len))]);
    }
    case 'insert': {
      const p = at(e.pos);
      return Buffer.concat([buf.subarray(0, p), e.bytes, buf.subarray(p)]);
    }
    case 'truncate':
      return buf.subarray(0, at(e.pos));
    case 'u64': {
      if (n < 8) return buf;
      const out = Buffer.from(buf);
      out.writeBigUInt64LE(e.value, e.pos % (n - 7));
      return out;
    }
  }
}

/** A corpus buffer with 1-4 byte edits (most of them single bit flips). */
export function mutatedBytes(corpus: readonly Uint8Array[]): fc.Arbitrary<Uint8Array> {
  return fc
    .tuple(fc.nat({ max: corpus.length - 1 }), fc.array(byteEdit(), { minLength: 1, maxLength: 4 }))
    .map(([k, edits]) => edits.reduce(applyByteEdit, corpus[k]!));
}
