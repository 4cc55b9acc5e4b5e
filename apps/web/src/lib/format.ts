/** Statuses as the tables colour them. */
export function statusTone(status: number): 'ok' | 'bad' | 'wait' | 'busy' {
  if (status === 7 || status === 5) return 'ok';
  if (status === 1 || status === 3) return 'wait';
  if (status === 2 || status === 6) return 'busy';
  return 'bad';
}

export const STATUS_CHOICES: Array<[number, string]> = [
  [1, 'New'],
  [2, 'Taken from Server'],
  [5, 'Income'],
  [6, 'Sent by Phone'],
  [7, 'Delivered'],
  [8, 'Sms Not Delivered'],
  [9, 'Not SENT - Generic failure'],
  [10, 'Not sent - No service'],
  [11, 'Not Sent - Null PDU'],
  [12, 'Not Sent - Radio off'],
  [201, 'Not sent - Rejected by phone'],
  [202, 'Not sent - Expired'],
  [203, 'No report from phone'],
  [204, 'Not sent - No ack from phone'],
  [205, 'Not sent - Cancelled by the account'],
];

export const SIM_LABELS: Record<number, string> = {
  0: 'SIM 1',
  1: 'SIM 2',
  2: 'WhatsApp Business',
  3: 'WhatsApp',
  4: 'RCS 1',
  5: 'RCS 2',
};

export function when(iso: string | null): string {
  if (iso === null) return '—';
  return new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
}

export function ago(iso: string): string {
  const seconds = Math.max(0, Math.round((Date.now() - new Date(iso).getTime()) / 1_000));
  return duration(seconds) + ' ago';
}

export function duration(seconds: number): string {
  if (seconds < 60) return `${seconds} s`;
  if (seconds < 3_600) return `${Math.floor(seconds / 60)} min`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3_600)} h ${Math.floor((seconds % 3_600) / 60)} min`;
  return `${Math.floor(seconds / 86_400)} d ${Math.floor((seconds % 86_400) / 3_600)} h`;
}
