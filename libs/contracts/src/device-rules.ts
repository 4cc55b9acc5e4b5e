import { isSendHours, SendHours } from './send-hours';
import { isSimQuotas, SimQuotas } from './sim-quotas';
import { DeviceSettings } from './socket-events';

/**
 * Everything a device session obeys: what the phone is told (`DeviceSettings`) and the rules only the
 * server keeps (issue 22). Carried by the device-settings signal; `phoneSettings` strips it for the phone.
 */
export interface DeviceRules extends DeviceSettings {
  /** The hours it may send in; absent: any hour. */
  sendHours?: SendHours;
  /** Per-SIM limits per hour, day and month; absent: none. */
  simQuotas?: SimQuotas;
}

/** What a phone hears in the `hello` ack and `settings`: never the server's own rules. */
export function phoneSettings(rules: DeviceRules): DeviceSettings {
  const settings: DeviceSettings = { delaybetweeneachsms: rules.delaybetweeneachsms, window: rules.window };
  if (rules.delaybetweeneachsms_max !== undefined)
    settings.delaybetweeneachsms_max = rules.delaybetweeneachsms_max;
  return settings;
}

/** The server's rules of a value from outside (a pub/sub message) are well formed, or absent. */
export function hasValidRules(rules: DeviceRules): boolean {
  return (
    (rules.sendHours === undefined || isSendHours(rules.sendHours)) &&
    (rules.simQuotas === undefined || isSimQuotas(rules.simQuotas))
  );
}
