/**
 * The app's message states and the rule that makes one state of its recipients' states (its
 * `ProcessingState` and `MessageWithRecipients.state`).
 */
export type ProcessingState =
  'Pending' | 'Cancelling' | 'Cancelled' | 'Processed' | 'Sent' | 'Delivered' | 'Failed';

export const PROCESSING_STATES: readonly ProcessingState[] = [
  'Pending',
  'Cancelling',
  'Cancelled',
  'Processed',
  'Sent',
  'Delivered',
  'Failed',
];

/** Pending, Cancelling, Cancelled, Processed if any recipient is; Failed or Delivered if all are; else Sent. */
export function aggregateState(recipients: ProcessingState[]): ProcessingState {
  for (const state of ['Pending', 'Cancelling', 'Cancelled', 'Processed'] as const)
    if (recipients.includes(state)) return state;
  if (recipients.every((state) => state === 'Failed')) return 'Failed';
  if (recipients.every((state) => state === 'Delivered')) return 'Delivered';
  return 'Sent';
}

/** Gson's date format of the app (`yyyy-MM-dd'T'HH:mm:ss.SSSXXX`), in the phone's zone. */
export function gsonDate(date: Date): string {
  const offset = -date.getTimezoneOffset();
  const local = new Date(date.getTime() + offset * 60_000).toISOString().slice(0, 23);
  if (offset === 0) return `${local}Z`;
  const sign = offset > 0 ? '+' : '-';
  const abs = Math.abs(offset);
  return `${local}${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}
