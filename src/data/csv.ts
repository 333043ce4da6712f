/**
 * RFC 4180 CSV parsing: comma separator, fields optionally double-quoted,
 * quotes inside quoted fields doubled (""), quoted fields may span lines (the
 * benchmark `cif` column does), CRLF or LF line ends. Written by hand (40 lines)
 * rather than adding a dependency; tested on the quoting edge cases.
 */
import { InputError } from '../util/errors.js';

export interface CsvTable {
  header: string[];
  rows: string[][];
}

/** Parses CSV text into a header and rows; every row must have as many fields as the header. */
export function parseCsv(text: string, source = 'CSV'): CsvTable {
  const records: string[][] = [];
  let record: string[] = [];
  let i = 0;
  const n = text.length;
  let line = 1;
  if (text.charCodeAt(0) === 0xfeff) i = 1; // BOM
  while (i < n) {
    let field: string;
    if (text[i] === '"') {
      const startLine = line;
      let j = i + 1;
      let parts = '';
      for (;;) {
        const q = text.indexOf('"', j);
        if (q < 0) throw new InputError(`${source}: line ${startLine}: unterminated quoted field`);
        const chunk = text.slice(j, q);
        parts += chunk;
        for (let k = 0; k < chunk.length; k++) if (chunk.charCodeAt(k) === 10) line++;
        if (text[q + 1] === '"') {
          parts += '"';
          j = q + 2;
          continue;
        }
        i = q + 1;
        break;
      }
      field = parts;
      if (i < n && text[i] !== ',' && text[i] !== '\n' && text[i] !== '\r') {
        throw new InputError(`${source}: line ${line}: unexpected character after a quoted field`);
      }
    } else {
      let j = i;
      while (j < n) {
        const c = text.charCodeAt(j);
        if (c === 44 || c === 10 || c === 13) break;
        j++;
      }
      field = text.slice(i, j);
      if (field.includes('"')) throw new InputError(`${source}: line ${line}: stray quote in an unquoted field`);
      i = j;
    }
    record.push(field);
    if (i >= n) {
      records.push(record);
      break;
    }
    const c = text[i];
    if (c === ',') {
      i++;
      if (i >= n) {
        record.push('');
        records.push(record);
      }
    } else {
      // end of record: \n, \r\n or \r
      if (c === '\r' && text[i + 1] === '\n') i++;
      i++;
      line++;
      records.push(record);
      record = [];
    }
  }
  if (records.length === 0) throw new InputError(`${source}: empty file`);
  const header = records[0]!;
  const rows = records.slice(1);
  for (let r = 0; r < rows.length; r++) {
    if (rows[r]!.length !== header.length) {
      if (rows[r]!.length === 1 && rows[r]![0] === '' && r === rows.length - 1) {
        rows.pop();
        break;
      }
      throw new InputError(`${source}: data row ${r + 1} has ${rows[r]!.length} fields, the header has ${header.length}`);
    }
  }
  return { header, rows };
}

/** The values of one named column. */
export function column(table: CsvTable, name: string, source = 'CSV'): string[] {
  const k = table.header.indexOf(name);
  if (k < 0) throw new InputError(`${source}: no column "${name}" (columns: ${table.header.join(', ')})`);
  return table.rows.map((r) => r[k]!);
}
