import {
  DeviceRules,
  formatSendHours,
  formatSimQuotas,
  phoneSettings,
  SendHours,
  SimInfo,
} from '@smsfleet/contracts';
import { CallerZone } from '../common/caller-zone';
import { humanDate, phpDate } from '../common/php-date';
import { DeviceView } from './device-views.service';

/** One device of getalldevices, field by field as the original answers it. */
export function deviceJson(device: DeviceView, zone: CallerZone) {
  return {
    id: device.id,
    title: device.title,
    number: device.simInfo.find((sim) => sim.Number)?.Number ?? null,
    imei: device.imei,
    created: phpDate(device.createdAt, zone),
    createdhumanformat: humanDate(device.createdAt, zone),
    lastseen: phpDate(device.lastSeen, zone),
    lastseenhumanformat: humanDate(device.lastSeen, zone),
    serialnumber: device.serialNumber,
    siminfo: device.simInfo.map(simInfoJson),
    appversion: device.appVersion,
    // We publish no app of our own to compare against: any version the phone reports is current.
    isappversionactual: device.appVersion !== null,
    delaybetweeneachsms: device.delayBetweenSms > 0 ? device.delayBetweenSms : null,
    // The original's polling interval; our phones hold a socket and are pushed to at once.
    delaybetweenrequest: 1,
    subscription: true,
    online: device.online,
    // Ours as well: which app the phone runs (`socket`: ours, `smsgate`: the SMSGate app) and the SIM
    // slots it can send from; a message for another slot is refused at intake.
    kind: device.kind,
    sendslots: device.sendSlots,
    // Ours: the upper end of a random pace (each gap drawn between delaybetweeneachsms and this); null: fixed.
    delaybetweeneachsms_max: device.delayMaxBetweenSms,
    // Ours: the hours it may send in (null: any hour), read in its own time zone.
    ...sendHoursJson(device.sendHours),
    ...simQuotasJson(device),
    // Ours: the pool it is in (null: none); messages are not routed through pools yet (ADR 2221).
    pool_id: device.poolId,
  };
}

/** The original sends every SIM field as a string ("Slot":"0", "Roaming":"0"). */
function simInfoJson(sim: SimInfo) {
  return {
    Slot: String(sim.Slot),
    IccId: sim.IccId ?? null,
    Number: sim.Number ?? null,
    Roaming: sim.Roaming ? '1' : '0',
    CountryIso: sim.CountryIso ?? null,
    CarrierName: sim.CarrierName ?? null,
  };
}

/**
 * The settings route's answer: what the phone is told, plus the send hours when there are any (so the
 * answer of a device without them is the one clients have always had).
 */
export function deviceSettingsJson(rules: DeviceRules) {
  return {
    ...phoneSettings(rules),
    ...(rules.sendHours ? sendHoursJson(rules.sendHours) : {}),
    ...(rules.simQuotas ? { simquotas: formatSimQuotas(rules.simQuotas) } : {}),
  };
}

/** Quotas as the settings route reads them, and what each slot's counters hold now (hour, day, month; UTC). */
export function simQuotasJson(device: Pick<DeviceView, 'simQuotas' | 'simQuotaUse'>) {
  return {
    simquotas: device.simQuotas ? formatSimQuotas(device.simQuotas) : null,
    simquotas_used: device.simQuotaUse,
  };
}

/** Send hours in the form the settings route reads them (`sendhours`, `sendhours_timezone`, `sendhours_urgent`). */
export function sendHoursJson(hours: SendHours | null) {
  return {
    sendhours: hours ? formatSendHours(hours) : null,
    sendhours_timezone: hours?.zone ?? null,
    sendhours_urgent: hours?.urgent ?? false,
  };
}
