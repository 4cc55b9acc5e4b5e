import { Init1764000000000 } from './1764000000000-init';
import { PendingMessagesIndex1764300000000 } from './1764300000000-pending-messages-index';

/** Every migration, in order. */
export const MIGRATIONS = [Init1764000000000, PendingMessagesIndex1764300000000];
