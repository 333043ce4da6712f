import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCsv, column } from './csv.js';
import { InputError } from '../util/errors.js';

test('plain and quoted fields, doubled quotes, embedded newlines and commas', () => {
  const t = parseCsv('a,b,c\n1,"x, y","he said ""hi"""\n2,"line1\nline2",\n');
  assert.deepEqual(t.header, ['a', 'b', 'c']);
  assert.deepEqual(t.rows, [['1', 'x, y', 'he said "hi"'], ['2', 'line1\nline2', '']]);
  assert.deepEqual(column(t, 'b'), ['x, y', 'line1\nline2']);
});

test('CRLF line ends, no trailing newline, empty leading header field (pandas index)', () => {
  const t = parseCsv(',id,cif\r\n0,mp-1,"a\r\nb"\r\n1,mp-2,c');
  assert.deepEqual(t.header, ['', 'id', 'cif']);
  assert.deepEqual(t.rows, [['0', 'mp-1', 'a\r\nb'], ['1', 'mp-2', 'c']]);
});

test('errors name the line', () => {
  assert.throws(() => parseCsv('a,b\n1,"open\n'), (e: unknown) => e instanceof InputError && /line 2: unterminated quoted field/.test(e.message));
  assert.throws(() => parseCsv('a,b\n1,2,3\n'), /data row 1 has 3 fields, the header has 2/);
  assert.throws(() => parseCsv('a,b\n1,x"y\n'), /stray quote/);
  assert.throws(() => column(parseCsv('a\n1\n'), 'cif'), /no column "cif"/);
});
