/**
 * Errors the HTTP API reports to clients as JSON: `{ "error": { status, code, message, field? } }`.
 * Anything else thrown inside a handler is a server bug and becomes a 500 with a generic message.
 */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** the request field at fault (body key, query parameter or path segment) */
    readonly field?: string,
    /** extra response headers, e.g. Retry-After on 429 */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }

  toJSON(): { error: { status: number; code: string; message: string; field?: string } } {
    const body: { status: number; code: string; message: string; field?: string } = {
      status: this.status,
      code: this.code,
      message: this.message,
    };
    if (this.field !== undefined) body.field = this.field;
    return { error: body };
  }
}

/** 400 naming the offending field. */
export function badField(field: string, message: string): HttpError {
  return new HttpError(400, 'invalid_field', `${field}: ${message}`, field);
}

export function notFound(what: string, field?: string): HttpError {
  return new HttpError(404, 'not_found', `${what} not found`, field);
}
