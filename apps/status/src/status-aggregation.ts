import { isFailureStatus, MessageStatus, statusRank, StatusReport } from '@smsfleet/contracts';
import { MessageStatusChange } from '@smsfleet/persistence';

export interface DeviceStatusReport extends StatusReport {
  deviceId: number;
}

/** Folds a batch of reports into one change per message, sorted by id (a stable lock order across writers). */
export function aggregateReports(reports: DeviceStatusReport[]): MessageStatusChange[] {
  const changes = new Map<string, MessageStatusChange>();
  for (const report of reports) {
    const key = `${report.messageId}:${report.deviceId}`;
    let change = changes.get(key);
    if (!change) {
      change = {
        messageId: report.messageId,
        deviceId: report.deviceId,
        status: report.status,
        error: report.error ?? null,
        takenAt: null,
        sentAt: null,
        deliveredAt: null,
        failedAt: null,
      };
      changes.set(key, change);
    } else if (statusRank(report.status) > statusRank(change.status)) {
      change.status = report.status;
      change.error = report.error ?? null;
    }
    if (report.status === MessageStatus.TakenFromServer) change.takenAt ??= report.at;
    if (report.status === MessageStatus.SentByPhone) change.sentAt ??= report.at;
    if (report.status === MessageStatus.Delivered) change.deliveredAt ??= report.at;
    if (isFailureStatus(report.status)) change.failedAt ??= report.at;
  }
  return [...changes.values()].sort((a, b) => a.messageId - b.messageId || a.deviceId - b.deviceId);
}
