/**
 * User-facing errors. Anything thrown as a KldmError is printed by the CLI as
 * one clear line (no stack trace) and exits with `exitCode`; any other error is
 * a bug and is printed with its stack.
 */
export class KldmError extends Error {
  readonly exitCode: number;
  constructor(message: string, options: { exitCode?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'KldmError';
    this.exitCode = options.exitCode ?? 2;
  }
}

/** Bad input from the user (file, formula, argument): exit code 2. */
export class InputError extends KldmError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { exitCode: 2, ...options });
    this.name = 'InputError';
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
