import { QueryFailedError } from 'typeorm';

/**
 * The server's SQLSTATE, when PostgreSQL itself answered with an error: pg's DatabaseError (thrown as it
 * is when a connection is refused at start-up, or wrapped as a QueryFailedError's driverError) has a
 * severity beside its code. A socket error's code (EPIPE, ECONNRESET) is not a SQLSTATE.
 */
export function sqlState(exception: Error): string | undefined {
  const error = (exception instanceof QueryFailedError ? exception.driverError : exception) as
    { code?: unknown; severity?: unknown } | undefined;
  return typeof error?.severity === 'string' && typeof error.code === 'string' ? error.code : undefined;
}

/** PostgreSQL or Redis away: the client should retry, nothing was written. */
export function isDependencyFailure(exception: unknown): boolean {
  if (!(exception instanceof Error)) return false;
  const state = sqlState(exception);
  // class 08: connection exception; 57P: operator intervention (shutdown, and "the database system is
  // starting up" while a restarted server recovers); 53: insufficient resources;
  // 40001/40P01: serialization failure or deadlock, rolled back, so the same request may simply be retried.
  if (state) return /^(08|57P|53|40001|40P01)/.test(state);
  // A connection lost mid-query has no SQLSTATE (pg's "Connection terminated unexpectedly"),
  // and a socket error arrives as a QueryFailedError with a Node error code: the code or message decides.
  const code = (exception as Error & { code?: string }).code;
  return (
    code === 'ECONNREFUSED' ||
    code === 'ECONNRESET' ||
    code === 'ETIMEDOUT' ||
    code === 'EPIPE' ||
    /Connection terminated|timeout exceeded when trying to connect|Connection is closed|ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT/i.test(
      exception.message,
    )
  );
}
