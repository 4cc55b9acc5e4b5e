import { DeviceRules, isSendHours, isSimQuotas, SendHours, SimQuotas } from '@smsfleet/contracts';

/**
 * The columns of `devices` that make a phone's settings, read by every path that opens a session (the
 * socket handshake, the SMSGate app) and written by `POST /v1/devices/:id/settings`: one list, so a new
 * setting cannot be forgotten by one of them.
 */
export const DEVICE_SETTINGS_COLUMNS =
  'delay_between_sms, delay_max_between_sms, send_window, send_hours, sim_quotas';

export interface DeviceSettingsRow {
  delay_between_sms: number;
  delay_max_between_sms: number | null;
  send_window: number | null;
  send_hours: SendHours | null;
  sim_quotas: SimQuotas | null;
}

/** The rules a session obeys; `defaultWindow` stands in for a window never set. */
export function deviceSettingsFromRow(row: DeviceSettingsRow, defaultWindow: number): DeviceRules {
  const settings: DeviceRules = {
    delaybetweeneachsms: row.delay_between_sms,
    window: row.send_window ?? defaultWindow,
  };
  // Only a real range is shown: a fixed pace keeps the settings phones have always received.
  if (row.delay_max_between_sms !== null && row.delay_max_between_sms > row.delay_between_sms)
    settings.delaybetweeneachsms_max = row.delay_max_between_sms;
  // Written only through the API's parser; a row that is not well formed would be a bug, and sending at
  // any hour is what the phone did before hours existed.
  if (row.send_hours !== null && isSendHours(row.send_hours)) settings.sendHours = row.send_hours;
  if (row.sim_quotas !== null && isSimQuotas(row.sim_quotas)) settings.simQuotas = row.sim_quotas;
  return settings;
}
