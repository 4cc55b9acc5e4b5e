import { Injectable } from '@nestjs/common';
import { DeviceReports, StatusReport, StatusReportJob } from '@smsfleet/contracts';
import { StatusQueueProducer } from '@smsfleet/queueing';
import { CoalescingWriter } from '@smsfleet/persistence';

/** Reports per job, at most (the status app batches jobs again). */
export const MAX_REPORTS_PER_JOB = 500;
/**
 * `addBulk` calls in flight at once. Beyond, reports wait for one to finish and go out together: under
 * load the batches grow instead of the calls (each MULTI costs the node a pipeline object and Redis a
 * round trip), and a slow Redis is not buried under ever more small batches.
 */
export const MAX_FLUSHES_IN_FLIGHT = 2;

/**
 * Puts status reports on the status queue together: everything submitted by all sessions and phones of
 * this node in the same moment goes out in one `addBulk`, in as few jobs as MAX_REPORTS_PER_JOB allows, with at most
 * MAX_FLUSHES_IN_FLIGHT of them outstanding. Each caller is answered only once its reports are durably
 * queued (a phone is acked, a job completed, only after that).
 */
@Injectable()
export class StatusReportBatcher {
  private readonly writer: CoalescingWriter<DeviceReports>;

  constructor(statusQueue: StatusQueueProducer) {
    this.writer = new CoalescingWriter((batch) => statusQueue.addMany(toJobs(batch)), MAX_FLUSHES_IN_FLIGHT);
  }

  submit(deviceId: number, reports: StatusReport[]): Promise<void> {
    return this.writer.submit({ deviceId, reports });
  }
}

/** The batch in jobs of at most MAX_REPORTS_PER_JOB reports, each device's reports together where they fit. */
function toJobs(batch: DeviceReports[]): StatusReportJob[] {
  const jobs: StatusReportJob[] = [];
  let job: StatusReportJob = { devices: [] };
  let size = 0;
  const byDevice = new Map<number, DeviceReports>();
  for (const { deviceId, reports } of batch) {
    for (let start = 0; start < reports.length;) {
      if (size === MAX_REPORTS_PER_JOB) {
        jobs.push(job);
        job = { devices: [] };
        size = 0;
        byDevice.clear();
      }
      const part = reports.slice(start, start + MAX_REPORTS_PER_JOB - size);
      const entry = byDevice.get(deviceId);
      if (entry) entry.reports.push(...part);
      else {
        const added = { deviceId, reports: part };
        byDevice.set(deviceId, added);
        job.devices.push(added);
      }
      size += part.length;
      start += part.length;
    }
  }
  if (size > 0) jobs.push(job);
  return jobs;
}
