import { Injectable } from '@nestjs/common';
import { StatusReport, StatusReportJob } from '@smsfleet/contracts';
import { StatusQueueProducer } from '@smsfleet/queueing';

/** Reports of one device per job, at most this many (the status app batches jobs again). */
const MAX_REPORTS_PER_JOB = 500;

interface Pending {
  deviceId: number;
  reports: StatusReport[];
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * Puts status reports on the status queue together: everything submitted by all sessions and phones of
 * this node in the same moment goes out in one `addBulk`, one job per device. Each caller is answered only
 * once its reports are durably queued (a phone is acked, a job completed, only after that).
 */
@Injectable()
export class StatusReportBatcher {
  private pending: Pending[] = [];
  private scheduled = false;

  constructor(private readonly statusQueue: StatusQueueProducer) {}

  submit(deviceId: number, reports: StatusReport[]): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ deviceId, reports, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => void this.flush());
      }
    });
  }

  private async flush(): Promise<void> {
    const batch = this.pending;
    this.pending = [];
    this.scheduled = false;
    try {
      await this.statusQueue.addMany(toJobs(batch));
      for (const entry of batch) entry.resolve();
    } catch (error) {
      for (const entry of batch) entry.reject(error);
    }
  }
}

function toJobs(batch: Pending[]): StatusReportJob[] {
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
