import { parseArgs } from './cli-args';

describe('parseArgs', () => {
  it('reads a command with --name value and --name=value options', () => {
    const { command, options } = parseArgs([
      'user:create',
      '--email',
      'a@b.c',
      '--password=secret123',
      '--force',
    ]);
    expect(command).toBe('user:create');
    expect(Object.fromEntries(options)).toEqual({ email: 'a@b.c', password: 'secret123', force: 'true' });
  });
});
