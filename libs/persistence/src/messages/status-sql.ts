import { MessageStatus } from '@smsfleet/contracts';

/**
 * SQL conditions on a message's status, written from the named sets of libs/contracts (`statusIn(
 * WAITING_STATUSES)` is `status IN (1, 3)`). The numbers are inlined, never parameters: they come from the
 * enum, not from input, and the partial indexes on pending messages match only a literal list.
 */
export function statusIn(statuses: readonly MessageStatus[], column = 'status'): string {
  return `${column} IN (${statuses.join(', ')})`;
}

export function statusIs(status: MessageStatus, column = 'status'): string {
  return `${column} = ${status}`;
}

export function statusIsNot(status: MessageStatus, column = 'status'): string {
  return `${column} <> ${status}`;
}
