/**
 * File identity checks: sha256 and git blob id (SHA-1 of "blob <size>\0" +
 * bytes, what `git hash-object` prints and GitHub trees record), computed in
 * one streaming pass.
 */
import { createHash } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';

export interface FileDigest {
  bytes: number;
  sha256: string;
  gitBlob: string;
}

/** Digest of bytes whose length is known up front (the git blob header needs it). */
class Digester {
  private readonly sha = createHash('sha256');
  private readonly sha1 = createHash('sha1');
  private n = 0;
  constructor(size: number) {
    this.sha1.update(`blob ${size}\0`);
  }
  update(chunk: Buffer): void {
    this.sha.update(chunk);
    this.sha1.update(chunk);
    this.n += chunk.length;
  }
  digest(): FileDigest {
    return { bytes: this.n, sha256: this.sha.digest('hex'), gitBlob: this.sha1.digest('hex') };
  }
}

export async function digestFile(path: string): Promise<FileDigest> {
  const d = new Digester(statSync(path).size);
  for await (const chunk of createReadStream(path)) d.update(chunk as Buffer);
  return d.digest();
}

/** sha256 and size of a gzipped file's decompressed content (git blob id too: it needs a first pass for the size). */
export async function digestGunzipped(path: string, withGitBlob: boolean): Promise<FileDigest> {
  let size = 0;
  if (withGitBlob) {
    await pipeline(createReadStream(path), createGunzip(), new Writable({ write(c: Buffer, _e, cb) { size += c.length; cb(); } }));
  }
  const d = new Digester(size);
  await pipeline(createReadStream(path), createGunzip(), new Writable({ write(c: Buffer, _e, cb) { d.update(c); cb(); } }));
  const r = d.digest();
  return withGitBlob ? r : { ...r, gitBlob: '' };
}

/** The git blob id of in-memory bytes (tests, small files). */
export function gitBlobOf(data: Uint8Array): string {
  return createHash('sha1').update(`blob ${data.length}\0`).update(data).digest('hex');
}
