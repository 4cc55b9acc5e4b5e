import { DeviceConnectError } from '@smsfleet/contracts';
import { callGetdata } from './getdata-call';
import { PhoneLedger } from './phone-ledger';
import { PhoneBehaviour, PhoneCredentials, SimulatedPhone } from './simulated-phone';

export interface FleetOptions {
  apiUrl: string;
  dispatcherUrl: string;
  email: string;
  password: string;
  behaviour: PhoneBehaviour;
}

/** How a phone registration names its account: the API token, or the email and password. */
type AccountProof = { token: string } | { email: string; pass: string };

/**
 * Registers a phone for an account over the public HTTP endpoint, with the account's email and password
 * (argon2id: tens of milliseconds of the API's CPU each; see `registerPhoneWithToken` for many phones).
 */
export function registerPhone(
  apiUrl: string,
  email: string,
  password: string,
  title: string,
): Promise<PhoneCredentials> {
  return register(apiUrl, { email, pass: password }, title);
}

/** Registers a phone with the account's API token: a hash lookup, so a thousand phones take seconds, not minutes. */
export function registerPhoneWithToken(
  apiUrl: string,
  token: string,
  title: string,
): Promise<PhoneCredentials> {
  return register(apiUrl, { token }, title);
}

async function register(apiUrl: string, proof: AccountProof, title: string): Promise<PhoneCredentials> {
  const response = await fetch(`${apiUrl}/v1/devices/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      ...proof,
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

/** The account's API token (`gettoken`), so that registering many phones checks the password once. */
export async function accountToken(apiUrl: string, email: string, password: string): Promise<string> {
  return (await callGetdata(apiUrl, 'gettoken', { email, pass: password })).token as string;
}

/** A set of simulated phones of one account, sharing one ledger. */
export class SimulatedFleet {
  readonly ledger = new PhoneLedger();
  readonly phones: SimulatedPhone[] = [];

  constructor(private readonly options: FleetOptions) {}

  /** Reuses the given credentials, registers the missing ones up to `count`; returns all credentials. */
  async provision(count: number, known: PhoneCredentials[] = []): Promise<PhoneCredentials[]> {
    const credentials = known.slice(0, count);
    if (credentials.length < count) {
      const token = await accountToken(this.options.apiUrl, this.options.email, this.options.password);
      while (credentials.length < count) {
        credentials.push(
          await registerPhoneWithToken(
            this.options.apiUrl,
            token,
            `simulated phone ${credentials.length + 1}`,
          ),
        );
      }
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

  /**
   * Connects every phone; one the server refuses as unknown (its credentials were kept from another
   * database) is registered again and connected as a new phone. Answers which were replaced.
   */
  async connectOrRegisterAgain(): Promise<Array<{ refused: number; registered: number }>> {
    const replaced: Array<{ refused: number; registered: number }> = [];
    let token: string | undefined;
    await Promise.all(
      this.phones.map(async (phone, index) => {
        try {
          await phone.connect();
        } catch (error) {
          if ((error as Error).message !== DeviceConnectError.unauthorized) throw error;
          token ??= await accountToken(this.options.apiUrl, this.options.email, this.options.password);
          const credentials = await registerPhoneWithToken(
            this.options.apiUrl,
            token,
            `simulated phone ${index + 1}`,
          );
          const fresh = new SimulatedPhone(
            credentials,
            this.options.dispatcherUrl,
            this.options.behaviour,
            this.ledger,
          );
          this.phones[index] = fresh;
          await fresh.connect();
          replaced.push({ refused: phone.deviceId, registered: fresh.deviceId });
        }
      }),
    );
    return replaced;
  }

  get credentials(): PhoneCredentials[] {
    return this.phones.map((phone) => phone.credentials);
  }

  get connectedCount(): number {
    return this.phones.filter((phone) => phone.connected).length;
  }

  stop(): void {
    for (const phone of this.phones) phone.disconnect();
  }
}
