import { DatabaseError } from 'pg';
import { QueryFailedError } from 'typeorm';
import { isDependencyFailure } from './dependency-failure';

function databaseError(code: string, message: string): DatabaseError {
  const error = new DatabaseError(message, message.length, 'error');
  error.code = code;
  error.severity = 'FATAL';
  return error;
}

describe('isDependencyFailure', () => {
  it('a server restarting refuses connections with 57P03, thrown as it is at connect: unavailable', () => {
    expect(isDependencyFailure(databaseError('57P03', 'the database system is starting up'))).toBe(true);
  });

  it('decides a QueryFailedError by its SQLSTATE: connection, shutdown and rollback classes only', () => {
    const wrap = (error: Error) => new QueryFailedError('SELECT 1', [], error);
    expect(isDependencyFailure(wrap(databaseError('57P01', 'terminating connection')))).toBe(true);
    expect(isDependencyFailure(wrap(databaseError('08006', 'connection failure')))).toBe(true);
    expect(isDependencyFailure(wrap(databaseError('23505', 'duplicate key')))).toBe(false);
  });

  it('a deadlock or serialization failure rolled the request back: unavailable, retry', () => {
    const wrap = (error: Error) => new QueryFailedError('INSERT', [], error);
    expect(isDependencyFailure(wrap(databaseError('40P01', 'deadlock detected')))).toBe(true);
    expect(isDependencyFailure(wrap(databaseError('40001', 'could not serialize access')))).toBe(true);
  });

  it('a socket error is no SQLSTATE, even when its code has five letters', () => {
    const epipe = Object.assign(new Error('write EPIPE'), { code: 'EPIPE' });
    expect(isDependencyFailure(new QueryFailedError('SELECT 1', [], epipe))).toBe(true);
    expect(isDependencyFailure(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(isDependencyFailure(new Error('something else'))).toBe(false);
  });
});
