import {
  checkArray,
  checkInt,
  checkObject,
  checkOneOf,
  checkOptionalText,
  checkText,
  checkTime,
  InvalidInput,
} from '@smsfleet/validation';
import {
  APP_STATES,
  AppDevicePatch,
  AppDeviceRegistration,
  AppSimCard,
  AppSmsReceived,
  AppState,
  AppStateReport,
} from './app-protocol';

/** The app sends one state per request; a few queued ones may go together. */
export const MAX_STATE_REPORTS = 100;
const MAX_RECIPIENTS = 100;
const MAX_SIM_CARDS = 8;
/** Longest text of an incoming SMS kept; a long concatenated SMS must never be refused (the app retries). */
const MAX_INCOMING_TEXT = 65_536;

function checkSimCards(value: unknown): AppSimCard[] {
  return checkArray(value, 'simCards', { max: MAX_SIM_CARDS }).map((item, index) => {
    const field = `simCards[${index}]`;
    const card = checkObject(item, field);
    return {
      slotIndex: checkInt(card.slotIndex, `${field}.slotIndex`, { min: 0, max: 15 }),
      simNumber: checkInt(card.simNumber, `${field}.simNumber`, { min: 1, max: 16 }),
      phoneNumber: checkOptionalText(card.phoneNumber, `${field}.phoneNumber`, { max: 64 }) ?? null,
      carrierName: checkOptionalText(card.carrierName, `${field}.carrierName`, { max: 64 }) ?? null,
      iccid: checkOptionalText(card.iccid, `${field}.iccid`, { max: 64 }) ?? null,
    };
  });
}

function checkPushToken(value: unknown): string | null {
  return checkOptionalText(value, 'pushToken', { max: 512 }) ?? null;
}

export function parseRegistration(body: unknown): AppDeviceRegistration {
  const { name, pushToken, simCards } = checkObject(body, 'body');
  return {
    name: checkText(name, 'name', { max: 255 }),
    pushToken: checkPushToken(pushToken),
    simCards: simCards === undefined || simCards === null ? [] : checkSimCards(simCards),
  };
}

export function parseDevicePatch(body: unknown): AppDevicePatch {
  const { id, pushToken, simCards } = checkObject(body, 'body');
  return {
    id: checkText(id, 'id', { max: 36 }),
    pushToken: checkPushToken(pushToken),
    simCards: simCards === undefined || simCards === null ? null : checkSimCards(simCards),
  };
}

function checkState(value: unknown, field: string): AppState {
  return checkOneOf(value, field, APP_STATES);
}

export function parseStateReports(body: unknown): AppStateReport[] {
  return checkArray(body, 'body', { max: MAX_STATE_REPORTS }).map((item, index) => {
    const field = `body[${index}]`;
    const { id, state, recipients, states } = checkObject(item, field);
    const history: Partial<Record<AppState, Date>> = {};
    if (states !== undefined && states !== null) {
      const entries = Object.entries(checkObject(states, `${field}.states`));
      if (entries.length > APP_STATES.length)
        throw new InvalidInput(`${field}.states`, `${field}.states has more entries than states exist`);
      for (const [name, time] of entries)
        history[checkState(name, `${field}.states key`)] = checkTime(time, `${field}.states.${name}`);
    }
    return {
      id: checkText(id, `${field}.id`, { max: 36 }),
      state: checkState(state, `${field}.state`),
      recipients: (recipients === undefined || recipients === null
        ? []
        : checkArray(recipients, `${field}.recipients`, { max: MAX_RECIPIENTS })
      ).map((entry, r) => {
        const name = `${field}.recipients[${r}]`;
        const recipient = checkObject(entry, name);
        return {
          phoneNumber: checkText(recipient.phoneNumber, `${name}.phoneNumber`, { max: 64 }),
          state: checkState(recipient.state, `${name}.state`),
          error: checkOptionalText(recipient.error, `${name}.error`, { max: 4_096 }) ?? null,
        };
      }),
      states: history,
    };
  });
}

/**
 * Our message and device ids are whole numbers; the app may hold ids of another server, which are
 * ignored (as the reference server ignores unknown ids).
 */
export function ourNumericId(id: string): number | undefined {
  if (!/^[1-9]\d{0,15}$/.test(id)) return undefined;
  const value = Number(id);
  return Number.isSafeInteger(value) ? value : undefined;
}

/** The webhook event of an incoming SMS: `{id, webhookId, event, deviceId, payload}`. */
export function parseSmsReceived(body: unknown): AppSmsReceived {
  const { event, deviceId, payload } = checkObject(body, 'body');
  checkOneOf(event, 'event', ['sms:received']);
  const { sender, message, simNumber, receivedAt } = checkObject(payload, 'payload');
  if (typeof message !== 'string' || message.length > MAX_INCOMING_TEXT)
    throw new InvalidInput(
      'payload.message',
      `payload.message must be text of at most ${MAX_INCOMING_TEXT} characters`,
    );
  return {
    deviceId: checkText(deviceId, 'deviceId', { max: 36 }),
    sender: checkText(sender, 'payload.sender', { max: 64 }),
    message,
    simNumber:
      simNumber === undefined || simNumber === null
        ? null
        : checkInt(simNumber, 'payload.simNumber', { min: 1, max: 16 }),
    receivedAt: checkTime(receivedAt, 'payload.receivedAt'),
  };
}
