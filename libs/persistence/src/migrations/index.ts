import { Init1764000000000 } from './1764000000000-init';
import { NoReportStatus1764200000000 } from './1764200000000-no-report-status';
import { PendingMessagesIndex1764300000000 } from './1764300000000-pending-messages-index';

/** Every migration, in order. */
export const MIGRATIONS = [Init1764000000000, NoReportStatus1764200000000, PendingMessagesIndex1764300000000];
