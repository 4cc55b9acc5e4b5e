import { Injectable } from '@nestjs/common';
import { StatusReport, StatusReportJob } from '@smsfleet/contracts';
import { StatusQueueProducer } from '@smsfleet/queueing';
import { CoalescingWriter } from '@smsfleet/persistence';

/** Reports of one device per job, at most this many (the status app batches jobs again). */
const MAX_REPORTS_PER_JOB = 500;
/**
 * `addBulk` calls in flight at once. Beyond, reports wait for one to finish and go out together: under
 * load the batches grow instead of the calls (each MULTI costs the node a pipeline object and Redis a
 * round trip), and a slow Redis is not buried under ever more small batches.
 */
export const MAX_FLUSHES_IN_FLIGHT = 2;

interface DeviceReports {
  deviceId: number;
  reports: StatusReport[];
}

/**
 * Puts status reports on the status queue together: everything submitted by all sessions and phones of
 * this node in the same moment goes out in one `addBulk`, one job per device, with at most
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

function toJobs(batch: DeviceReports[]): StatusReportJob[] {
  const jobs: StatusReportJob[] = [];
  const open = new Map<number, StatusReportJob>();
  for (const { deviceId, reports } of batch) {
    let job = open.get(deviceId);
    if (!job || job.reports.length + reports.length > MAX_REPORTS_PER_JOB) {
      job = { deviceId, reports: [] };
      open.set(deviceId, job);
      jobs.push(job);
    }
    job.reports.push(...reports);
  }
  return jobs;
}
