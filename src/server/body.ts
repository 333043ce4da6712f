/**
 * Reading a JSON request body with a hard size cap: the stream is cut off as
 * soon as the cap is passed (413), so a client cannot make the server buffer
 * an unbounded body.
 */
import type { IncomingMessage } from 'node:http';
import { HttpError } from './http-error.js';

export async function readJsonBody(req: IncomingMessage, maxBytes: number): Promise<unknown> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json') {
    throw new HttpError(415, 'unsupported_media_type', 'send the body as application/json', 'content-type');
  }
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (Number.isFinite(declared) && declared > maxBytes) {
    req.resume();
    throw tooLarge(maxBytes);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) {
      req.resume();
      throw tooLarge(maxBytes);
    }
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') throw new HttpError(400, 'invalid_body', 'request body is empty', 'body');
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new HttpError(400, 'invalid_json', `request body is not valid JSON (${(err as Error).message})`, 'body');
  }
}

function tooLarge(maxBytes: number): HttpError {
  return new HttpError(413, 'body_too_large', `request body exceeds ${maxBytes} bytes`, 'body');
}
