import { PhoneLedger } from './phone-ledger';
import { PhoneBehaviour, PhoneCredentials, SimulatedPhone } from './simulated-phone';

export interface FleetOptions {
  apiUrl: string;
  dispatcherUrl: string;
  email: string;
  password: string;
  behaviour: PhoneBehaviour;
}

/** Registers a phone for an account over the public HTTP endpoint. */
export async function registerPhone(
  apiUrl: string,
  email: string,
  password: string,
  title: string,
): Promise<PhoneCredentials> {
  const response = await fetch(`${apiUrl}/v1/devices/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      email,
      pass: password,
      title,
      appversion: 'simulator-1',
      siminfo: [{ Slot: 0, CarrierName: 'Sim' }],
    }),
  });
  const answer = (await response.json()) as {
    error: number;
    message: string;
    device_id: number;
    device_secret: string;
  };
  if (answer.error !== 0) throw new Error(`registration refused: ${answer.message}`);
  return { deviceId: answer.device_id, secret: answer.device_secret };
}

/** A set of simulated phones of one account, sharing one ledger. */
export class SimulatedFleet {
  readonly ledger = new PhoneLedger();
  readonly phones: SimulatedPhone[] = [];

  constructor(private readonly options: FleetOptions) {}

  /** Reuses the given credentials, registers the missing ones up to `count`; returns all credentials. */
  async provision(count: number, known: PhoneCredentials[] = []): Promise<PhoneCredentials[]> {
    const credentials = known.slice(0, count);
    while (credentials.length < count) {
      credentials.push(
        await registerPhone(
          this.options.apiUrl,
          this.options.email,
          this.options.password,
          `simulated phone ${credentials.length + 1}`,
        ),
      );
    }
    for (const entry of credentials) {
      this.phones.push(
        new SimulatedPhone(entry, this.options.dispatcherUrl, this.options.behaviour, this.ledger),
      );
    }
    return credentials;
  }

  async connectAll(): Promise<void> {
    await Promise.all(this.phones.map((phone) => phone.connect()));
  }

  get connectedCount(): number {
    return this.phones.filter((phone) => phone.connected).length;
  }

  stop(): void {
    for (const phone of this.phones) phone.disconnect();
  }
}
