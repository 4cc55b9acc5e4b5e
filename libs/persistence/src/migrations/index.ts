import { Init1764000000000 } from './1764000000000-init';

/** Every migration, in order. */
export const MIGRATIONS = [Init1764000000000];
