/**
 * Errors of the asset store. All are KldmErrors (one clear line on the CLI);
 * each names the file, where it came from and what to do.
 */
import { KldmError } from '../util/errors.js';

/** Exit code of download and verification failures (user input errors use 2). */
const FETCH_EXIT = 3;

/** An asset (or one file of it) is not installed: the message says which command installs it. */
export class AssetNotInstalled extends KldmError {
  constructor(readonly asset: string, what: string, readonly installCommand: string) {
    super(`${what} is not installed; install it with: ${installCommand}  (from a local mirror: add --from <dir>; see docs/data.md)`, { exitCode: 2 });
    this.name = 'AssetNotInstalled';
  }
}

export class ChecksumMismatch extends KldmError {
  constructor(readonly file: string, readonly source: string, readonly expected: string, readonly actual: string) {
    super(`checksum mismatch for ${file} from ${source}: expected ${expected}, got ${actual}; the download was discarded (nothing was installed)`, { exitCode: FETCH_EXIT });
    this.name = 'ChecksumMismatch';
  }
}

export class DownloadHttpError extends KldmError {
  constructor(readonly url: string, readonly status: number, statusText: string) {
    super(`HTTP ${status}${statusText ? ' ' + statusText : ''} for ${url}`, { exitCode: FETCH_EXIT });
    this.name = 'DownloadHttpError';
  }
}

export class RedirectLoop extends KldmError {
  constructor(readonly chain: string[], reason: string) {
    super(`${reason}: ${chain.join(' -> ')}`, { exitCode: FETCH_EXIT });
    this.name = 'RedirectLoop';
  }
}

export class TruncatedDownload extends KldmError {
  constructor(readonly url: string, readonly received: number, readonly expected: number | undefined, readonly partPath: string, why: string) {
    super(
      `download of ${url} stopped at ${received}${expected !== undefined ? ` of ${expected}` : ''} bytes (${why}); ` +
        `the partial file ${partPath} is kept and the next fetch resumes it`,
      { exitCode: FETCH_EXIT },
    );
    this.name = 'TruncatedDownload';
  }
}

export class NetworkUnavailable extends KldmError {
  constructor(readonly url: string, code: string) {
    super(
      `cannot reach ${new URL(url).host} (${code}): no network connection? Install from a local mirror instead: ` +
        `kldm assets fetch <name> --from <dir> (or set KLDM_MIRROR=<dir>)`,
      { exitCode: FETCH_EXIT },
    );
    this.name = 'NetworkUnavailable';
  }
}

/** A source (mirror or upstream) does not provide a file the asset needs. */
export class NotOnSource extends KldmError {
  constructor(message: string) {
    super(message, { exitCode: FETCH_EXIT });
    this.name = 'NotOnSource';
  }
}
