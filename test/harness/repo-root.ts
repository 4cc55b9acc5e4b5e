import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * The repository's root, from the harness's source (test/harness, run by jest) or its compiled copy
 * (dist/test/harness, run by the bench and the soak): the nearest folder above with a package.json.
 */
function findRoot(start: string): string {
  for (let folder = start; ; folder = dirname(folder)) {
    if (existsSync(join(folder, 'package.json'))) return folder;
    if (dirname(folder) === folder) throw new Error(`no package.json above ${start}`);
  }
}

export const REPO_ROOT = findRoot(__dirname);
/** Resolves the @smsfleet/* imports of the compiled apps and tools. */
export const ALIASES = join(REPO_ROOT, 'scripts', 'register-aliases.js');
export const CLI = join(REPO_ROOT, 'dist', 'tools', 'cli.js');
