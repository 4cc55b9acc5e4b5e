import { Injectable } from '@nestjs/common';
import { PHONE_REPORTABLE_STATUSES, StatusReport } from '@smsfleet/contracts';
import {
  checkInt,
  checkObject,
  checkOneOf,
  checkTime,
  InvalidInput,
  toStorableText,
} from '@smsfleet/validation';
import { StatusReportBatcher } from './status-report-batcher';

export const MAX_REPORTS_PER_EVENT = 1_000;
/** Longest failure text kept from a phone. */
export const MAX_ERROR_LENGTH = 500;

export class InvalidReport extends Error {}

/** Turns a phone's `status` event into rows of the status inbox; the phone is acked only after their commit. */
@Injectable()
export class StatusIntakeService {
  constructor(private readonly batcher: StatusReportBatcher) {}

  async accept(deviceId: number, payload: unknown): Promise<number> {
    const reports = parseReports(payload);
    await this.batcher.submit(deviceId, reports);
    return reports.length;
  }
}

/** `{id, status, at, error?}` or an array of them (docs/device-protocol.md §3). */
export function parseReports(payload: unknown): StatusReport[] {
  const items = Array.isArray(payload) ? payload : [payload];
  if (items.length === 0) throw new InvalidReport('no reports');
  if (items.length > MAX_REPORTS_PER_EVENT)
    throw new InvalidReport(`at most ${MAX_REPORTS_PER_EVENT} reports per event`);
  try {
    return items.map((item: unknown, index) => parseReport(item, `report ${index}`));
  } catch (error) {
    if (error instanceof InvalidInput) throw new InvalidReport(error.message);
    throw error;
  }
}

function parseReport(item: unknown, name: string): StatusReport {
  const { id, status, at, error } = checkObject(item, name);
  const messageId = checkInt(id, `${name}: id`, { min: 1, max: Number.MAX_SAFE_INTEGER });
  const reported = checkOneOf(status, `${name}: status`, [...PHONE_REPORTABLE_STATUSES]);
  const when = checkTime(at, `${name}: at`);
  if (error !== undefined && error !== null && typeof error !== 'string')
    throw new InvalidInput(`${name}: error`, `${name}: error must be text`);
  // The outcome matters more than its wording: text PostgreSQL would refuse is repaired, not refused.
  const text = typeof error === 'string' ? toStorableText(error.slice(0, MAX_ERROR_LENGTH)) : '';
  return { messageId, status: reported, at: when.toISOString(), ...(text !== '' ? { error: text } : {}) };
}
