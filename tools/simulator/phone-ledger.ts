/**
 * The phone ledger (docs/reliability.md): each `sms` event received, each real send after de-duplication,
 * and each status report the server acknowledged (L9: it must be in PostgreSQL).
 */
export interface ReceivedSms {
  id: number;
  deviceId: number;
  at: number;
  repeat: boolean;
  urgent: boolean;
}

export class PhoneLedger {
  readonly received: ReceivedSms[] = [];
  /** Message id → how many times it went "to radio" (must be 1). */
  readonly sends = new Map<number, number>();
  reported = 0;
  /** Message id → the statuses the server acknowledged reports of. */
  readonly acknowledged = new Map<number, Set<number>>();

  /** A report of `status` for message `id` was acknowledged (socket `ok:true`, or a 2xx to the app). */
  acked(id: number, status: number): void {
    const statuses = this.acknowledged.get(id) ?? new Set<number>();
    statuses.add(status);
    this.acknowledged.set(id, statuses);
  }

  get repeats(): number {
    return this.received.filter((entry) => entry.repeat).length;
  }

  /** As the invariant checker reads it (L4, L8). */
  summary(): { sends: ReadonlyMap<number, number>; received: number; repeats: number } {
    return { sends: this.sends, received: this.received.length, repeats: this.repeats };
  }

  /** The ledger as `cli check --phone-ledger` reads it (JSON Lines, tools/ledger-files.ts). */
  toJsonLines(): string[] {
    const lines = this.received.map((r) =>
      JSON.stringify({ event: 'received', id: r.id, repeat: r.repeat, device: r.deviceId }),
    );
    for (const [id, count] of this.sends)
      for (let k = 0; k < count; k++) lines.push(JSON.stringify({ event: 'sent', id }));
    for (const [id, statuses] of this.acknowledged)
      for (const status of statuses) lines.push(JSON.stringify({ event: 'acked', id, status }));
    return lines;
  }

  get duplicateSends(): number {
    let duplicates = 0;
    for (const count of this.sends.values()) duplicates += count - 1;
    return duplicates;
  }
}
