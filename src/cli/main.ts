/**
 * kldm command-line entry point: dispatches to the commands in ./commands.
 * User errors (KldmError) print one clear line and exit non-zero; anything
 * else is a bug and prints its stack.
 */
import { readFileSync } from 'node:fs';
import { commands } from './commands/index.js';
import { KldmError } from '../util/errors.js';

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

function usage(): string {
  const width = Math.max(...commands.map((c) => c.name.length), 4);
  const lines = commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return [
    'kldm: kinetic Langevin diffusion for crystal structure prediction and generation',
    '',
    'Usage: kldm <command> [options]   (kldm <command> --help for details)',
    '',
    'Commands:',
    ...lines,
    '',
    'Options: --help, --version',
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return name === undefined ? 1 : 0;
  }
  if (name === '--version' || name === '-v') {
    console.log(version());
    return 0;
  }
  const cmd = commands.find((c) => c.name === name);
  if (!cmd) {
    console.error(`kldm: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(cmd.usage);
    return 0;
  }
  try {
    return await cmd.run(rest);
  } catch (err) {
    if (err instanceof KldmError) {
      console.error(`kldm ${name}: error: ${err.message}`);
      return err.exitCode;
    }
    // node:util parseArgs errors are user errors too
    if (err instanceof Error && (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      console.error(`kldm ${name}: error: ${err.message}\n\n${cmd.usage}`);
      return 2;
    }
    throw err;
  }
}
