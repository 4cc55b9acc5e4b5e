import { Init1764000000000 } from './1764000000000-init';
import { ContactsAndNewsletters1764100000000 } from './1764100000000-contacts-and-newsletters';
import { IncomingOnce1764100100000 } from './1764100100000-incoming-once';
import { MessagesBySim1764100200000 } from './1764100200000-messages-by-sim';
import { PendingMessagesIndex1764300000000 } from './1764300000000-pending-messages-index';

/** Every migration, in order. */
export const MIGRATIONS = [
  Init1764000000000,
  ContactsAndNewsletters1764100000000,
  IncomingOnce1764100100000,
  MessagesBySim1764100200000,
  PendingMessagesIndex1764300000000,
];
