import { Injectable } from '@nestjs/common';
import { PHONE_REPORTABLE_STATUSES, StatusReport } from '@smsfleet/contracts';
import { StatusReportBatcher } from './status-report-batcher.service';

export const MAX_REPORTS_PER_EVENT = 1_000;

export class InvalidReport extends Error {}

/** Turns a phone's `status` event into a job for the status service; the phone is acked only after that. */
@Injectable()
export class StatusIntakeService {
  constructor(private readonly batcher: StatusReportBatcher) {}

  async accept(deviceId: number, payload: unknown): Promise<number> {
    const reports = parseReports(payload);
    await this.batcher.submit(deviceId, reports);
    return reports.length;
  }
}

/** `{id, status, at, error?}` or an array of them (DEVICE-PROTOCOL.md §3). */
export function parseReports(payload: unknown): StatusReport[] {
  const items = Array.isArray(payload) ? payload : [payload];
  if (items.length === 0) throw new InvalidReport('no reports');
  if (items.length > MAX_REPORTS_PER_EVENT)
    throw new InvalidReport(`at most ${MAX_REPORTS_PER_EVENT} reports per event`);
  return items.map((item: unknown, index) => {
    if (item === null || typeof item !== 'object')
      throw new InvalidReport(`report ${index} must be an object`);
    const { id, status, at, error } = item as Record<string, unknown>;
    if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 1)
      throw new InvalidReport(`report ${index}: id must be a message id`);
    if (typeof status !== 'number' || !PHONE_REPORTABLE_STATUSES.has(status)) {
      throw new InvalidReport(
        `report ${index}: status must be one of ${[...PHONE_REPORTABLE_STATUSES].join(', ')}`,
      );
    }
    const when = typeof at === 'string' ? new Date(at) : new Date(NaN);
    if (Number.isNaN(when.getTime())) throw new InvalidReport(`report ${index}: at must be an ISO-8601 time`);
    if (error !== undefined && error !== null && typeof error !== 'string')
      throw new InvalidReport(`report ${index}: error must be text`);
    return {
      messageId: id,
      status,
      at: when.toISOString(),
      ...(typeof error === 'string' && error !== '' ? { error: error.slice(0, 500) } : {}),
    };
  });
}
