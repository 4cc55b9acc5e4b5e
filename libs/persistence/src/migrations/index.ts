import { Init1764000000000 } from './1764000000000-init';
import { NoReportStatus1764200000000 } from './1764200000000-no-report-status';

/** Every migration, in order. */
export const MIGRATIONS = [Init1764000000000, NoReportStatus1764200000000];
