import { PhoneLedger } from '../phone-ledger';
import { AppBehaviour, AppRegistration, SmsGateApp } from './smsgate-app';

export interface SmsGateFleetOptions {
  /** The app's API URL setting, e.g. http://127.0.0.1:3001/mobile/v1. */
  serverUrl: string;
  /** The account's phone registration token (the app's Private Token). */
  privateToken: string;
  behaviour: AppBehaviour;
  ca?: string | Buffer;
  retryBackoffMs?: number;
  ledger?: PhoneLedger;
  onEvent?: (deviceIndex: number, event: string, at: number) => void;
  onSent?: (deviceIndex: number, messageId: number, at: number) => void;
}

/** App doubles of one account, sharing one ledger (as `SimulatedFleet` for socket phones). */
export class SmsGateFleet {
  readonly ledger: PhoneLedger;
  readonly phones: SmsGateApp[] = [];

  constructor(private readonly options: SmsGateFleetOptions) {
    this.ledger = options.ledger ?? new PhoneLedger();
  }

  /**
   * Starts `count` apps: those with a kept registration update it (a refused one registers again, as
   * the app does on a 401), the others register. Answers every registration, to be kept for next time.
   */
  async start(count: number, known: AppRegistration[] = [], batch = count): Promise<AppRegistration[]> {
    const first = this.phones.length;
    for (let n = first; n < count; n++) {
      const { onEvent, onSent } = this.options;
      this.phones.push(
        new SmsGateApp({
          serverUrl: this.options.serverUrl,
          privateToken: this.options.privateToken,
          behaviour: this.options.behaviour,
          ledger: this.ledger,
          ca: this.options.ca,
          retryBackoffMs: this.options.retryBackoffMs,
          registration: known[n],
          name: `smsfleet/app-double-${n + 1}`,
          ...(onEvent ? { onEvent: (event: string, at: number) => onEvent(n, event, at) } : {}),
          ...(onSent ? { onSent: (id: number, at: number) => onSent(n, id, at) } : {}),
        }),
      );
    }
    for (let n = first; n < count; n += batch)
      await Promise.all(this.phones.slice(n, n + batch).map((phone) => phone.start()));
    return this.phones.map((phone) => phone.registration as AppRegistration);
  }

  /** Apps whose stored registration the server refused and which registered again. */
  get reregistered(): number {
    return this.phones.filter((phone) => phone.seen.unauthorized > 0).length;
  }

  get streamsOpen(): number {
    return this.phones.filter((phone) => phone.streamOpen).length;
  }

  stop(): void {
    for (const phone of this.phones) phone.stop();
  }
}
