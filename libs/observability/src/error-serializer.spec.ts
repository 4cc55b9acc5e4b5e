import { DatabaseError } from 'pg';
import { ReplyError } from 'ioredis';
import { QueryFailedError } from 'typeorm';
import { serializeError } from './error-serializer';

const BODY = 'Your code is 482913';
const PHONE = '+4915112345678';

function queryFailure(message: string, code: string, detail?: string): QueryFailedError {
  const driver = new DatabaseError(message, message.length, 'error');
  driver.code = code;
  driver.severity = 'ERROR';
  driver.detail = detail;
  driver.table = 'messages';
  return new QueryFailedError('INSERT INTO messages (body, phone) VALUES ($1, $2)', [BODY, PHONE], driver);
}

describe('serializeError', () => {
  it("keeps a failed query's type, message, SQLSTATE and table, and drops its parameters, SQL and detail", () => {
    const error = queryFailure(
      'new row for relation "messages" violates check constraint "c"',
      '23514',
      `Failing row contains (1, ${BODY}, ${PHONE}).`,
    );
    const out = serializeError(error) as Record<string, unknown>;
    const text = JSON.stringify(out);
    expect(text).not.toContain(BODY);
    expect(text).not.toContain(PHONE);
    expect(text).not.toContain('INSERT INTO');
    expect(out).toMatchObject({
      type: 'QueryFailedError',
      message: 'new row for relation "messages" violates check constraint "c"',
      code: '23514',
      driverError: { code: '23514', table: 'messages' },
    });
    expect(typeof out.stack).toBe('string');
  });

  it('redacts the input PostgreSQL quotes at the end of a data error, in the message and the stack', () => {
    const out = serializeError(
      queryFailure(`invalid input syntax for type bigint: "${PHONE}"`, '22P02'),
    ) as Record<string, string>;
    expect(JSON.stringify(out)).not.toContain(PHONE);
    expect(out.message).toBe('invalid input syntax for type bigint: "[redacted]"');
  });

  it("keeps a Redis command's name and drops its arguments (job data)", () => {
    const error = new ReplyError('OOM command not allowed when used memory > maxmemory') as Error & {
      command?: unknown;
    };
    error.command = {
      name: 'evalsha',
      args: ['sha', 1, 'key', JSON.stringify({ body: BODY, sendto: PHONE })],
    };
    const out = serializeError(error) as Record<string, unknown>;
    expect(JSON.stringify(out)).not.toContain(BODY);
    expect(out.command).toEqual({ name: 'evalsha' });
  });

  it('leaves what is not an error alone', () => {
    expect(serializeError('text')).toBe('text');
  });
});
