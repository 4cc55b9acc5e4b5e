import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { UsageError } from './cli-args';

/**
 * The password of `user:create` / `user:password`: `--password P` (shows in `ps` and the shell's history),
 * `--password-stdin` (the first line of standard input: `printf '%s\n' "$P" | …`), or else asked on the
 * terminal without echo.
 */
export async function readPassword(options: Map<string, string>): Promise<string> {
  const given = options.get('password');
  if (given !== undefined && given !== 'true') return given;
  if (options.get('password-stdin') === 'true') return firstLine();
  if (process.stdin.isTTY) return prompt('password: ');
  throw new UsageError('--password-stdin (or --password, or a terminal to ask on) is required');
}

async function firstLine(): Promise<string> {
  const lines = createInterface({ input: process.stdin, terminal: false });
  for await (const line of lines) {
    lines.close();
    return line;
  }
  throw new UsageError('--password-stdin: standard input was empty');
}

async function prompt(question: string): Promise<string> {
  process.stderr.write(question);
  // The terminal's echo goes to a sink: the typed password is never shown.
  const sink = new Writable({ write: (_chunk, _encoding, done) => done() });
  const reader = createInterface({ input: process.stdin, output: sink, terminal: true });
  try {
    return await new Promise<string>((resolve) => reader.question('', resolve));
  } finally {
    reader.close();
    process.stderr.write('\n');
  }
}
