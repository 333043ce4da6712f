/**
 * Redis URLs for the job queue (issue #17): redis://[user:password@]host[:port][/db] and
 * rediss:// (TLS). The password may be in the URL (Redis AUTH); it is never printed:
 * `redactQueueUrl` is what logs and errors show.
 */
import { InputError } from '../util/errors.js';

export interface RedisConnectionOptions {
  host: string;
  port: number;
  db: number;
  username?: string;
  password?: string;
  tls?: { servername: string };
  /** BullMQ workers need commands to wait for a reconnect instead of failing after n retries */
  maxRetriesPerRequest: null;
}

export function parseQueueUrl(raw: string): RedisConnectionOptions {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    // not echoed: an unparsable URL may still carry a password
    throw new InputError(`--queue: not a URL (expected redis://[user:password@]host:port[/db] or rediss://...)`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') {
    throw new InputError(`--queue: unsupported scheme "${u.protocol}" (use redis:// or rediss:// for TLS)`);
  }
  if (!u.hostname) throw new InputError('--queue: the URL has no host');
  const port = u.port === '' ? 6379 : Number(u.port);
  const dbText = u.pathname.replace(/^\//, '');
  if (dbText !== '' && !/^\d{1,2}$/.test(dbText)) throw new InputError(`--queue: database must be a number 0-99 after the host, got "/${dbText}"`);
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  const o: RedisConnectionOptions = { host, port, db: dbText === '' ? 0 : Number(dbText), maxRetriesPerRequest: null };
  if (u.username) o.username = decodeURIComponent(u.username);
  if (u.password) o.password = decodeURIComponent(u.password);
  if (u.protocol === 'rediss:') o.tls = { servername: host };
  return o;
}

/** The URL with its password replaced by "***", for logs and error messages. */
export function redactQueueUrl(raw: string): string {
  return raw.replace(/^(\w+:\/\/)([^@/]*)@/, (_m, scheme: string, auth: string) => {
    const i = auth.indexOf(':');
    return `${scheme}${i < 0 ? '***' : `${auth.slice(0, i)}:***`}@`;
  });
}
