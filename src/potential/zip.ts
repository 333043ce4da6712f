/**
 * Minimal reader of ZIP archives (PKWARE APPNOTE 6.3): the end-of-central-directory
 * record, the central directory and each entry's local header. It is what a PyTorch
 * `torch.save` file is (an uncompressed "stored" zip whose entries are padded to
 * 64-byte alignment through the local header's extra field, which is why the data
 * offset is taken from the local header and not from the central directory).
 * Deflated entries are inflated with node:zlib; ZIP64 and encryption are refused.
 */
import { inflateRawSync } from 'node:zlib';
import { InputError } from '../util/errors.js';

export interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  size: number;
  /** offset of the local file header */
  localHeaderOffset: number;
}

const EOCD_SIGNATURE = 0x06054b50;
const CENTRAL_SIGNATURE = 0x02014b50;
const LOCAL_SIGNATURE = 0x04034b50;

export class ZipArchive {
  readonly entries: Map<string, ZipEntry>;

  constructor(private readonly bytes: Uint8Array, private readonly label: string) {
    this.entries = readCentralDirectory(bytes, label);
  }

  /** The bytes of one entry (a view into the archive for stored entries). */
  read(name: string): Uint8Array {
    const e = this.entries.get(name);
    if (!e) throw new InputError(`${this.label}: zip archive has no entry '${name}'`);
    const view = new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength);
    const h = e.localHeaderOffset;
    if (h + 30 > this.bytes.length || view.getUint32(h, true) !== LOCAL_SIGNATURE) {
      throw new InputError(`${this.label}: bad local header for zip entry '${name}'`);
    }
    const start = h + 30 + view.getUint16(h + 26, true) + view.getUint16(h + 28, true);
    const end = start + e.compressedSize;
    if (end > this.bytes.length) throw new InputError(`${this.label}: zip entry '${name}' runs past the end of the file`);
    const raw = this.bytes.subarray(start, end);
    if (e.method === 0) return raw;
    if (e.method === 8) {
      const out = inflateRawSync(raw);
      if (out.length !== e.size) throw new InputError(`${this.label}: zip entry '${name}' inflates to ${out.length} bytes, expected ${e.size}`);
      return new Uint8Array(out.buffer, out.byteOffset, out.length);
    }
    throw new InputError(`${this.label}: zip entry '${name}' uses unsupported compression method ${e.method}`);
  }
}

function readCentralDirectory(bytes: Uint8Array, label: string): Map<string, ZipEntry> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // The EOCD record is 22 bytes plus a comment of at most 65535 bytes, at the end of the file.
  let eocd = -1;
  for (let p = bytes.length - 22; p >= Math.max(0, bytes.length - 22 - 65535); p--) {
    if (view.getUint32(p, true) === EOCD_SIGNATURE) {
      eocd = p;
      break;
    }
  }
  if (eocd < 0) throw new InputError(`${label}: not a zip archive (no end-of-central-directory record)`);
  const count = view.getUint16(eocd + 10, true);
  const cdSize = view.getUint32(eocd + 12, true);
  const cdOffset = view.getUint32(eocd + 16, true);
  if (count === 0xffff || cdOffset === 0xffffffff || cdSize === 0xffffffff) {
    throw new InputError(`${label}: ZIP64 archives are not supported`);
  }
  if (cdOffset + cdSize > bytes.length) throw new InputError(`${label}: zip central directory lies outside the file (truncated?)`);
  const entries = new Map<string, ZipEntry>();
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let p = cdOffset;
  for (let k = 0; k < count; k++) {
    if (p + 46 > bytes.length || view.getUint32(p, true) !== CENTRAL_SIGNATURE) {
      throw new InputError(`${label}: corrupt zip central directory at entry ${k}`);
    }
    const flags = view.getUint16(p + 8, true);
    if (flags & 1) throw new InputError(`${label}: encrypted zip entries are not supported`);
    const method = view.getUint16(p + 10, true);
    const compressedSize = view.getUint32(p + 20, true);
    const size = view.getUint32(p + 24, true);
    const nameLen = view.getUint16(p + 28, true);
    const extraLen = view.getUint16(p + 30, true);
    const commentLen = view.getUint16(p + 32, true);
    const localHeaderOffset = view.getUint32(p + 42, true);
    if (compressedSize === 0xffffffff || size === 0xffffffff || localHeaderOffset === 0xffffffff) {
      throw new InputError(`${label}: ZIP64 entries are not supported`);
    }
    const name = decoder.decode(bytes.subarray(p + 46, p + 46 + nameLen));
    entries.set(name, { name, method, compressedSize, size, localHeaderOffset });
    p += 46 + nameLen + extraLen + commentLen;
  }
  return entries;
}
