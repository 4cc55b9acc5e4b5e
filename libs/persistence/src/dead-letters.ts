import { StatusReport } from '@smsfleet/contracts';
import { toStorableText } from '@smsfleet/validation';
import { Queryable } from './queryable';
import { Refused, SplitResult, sqlStateOf, writeSplittingRefusals } from './refusal-split';

/** What a dead letter was when it came in. */
export type DeadLetterKind = 'status' | 'hello' | 'touch' | 'incoming';

export interface DeadLetter {
  kind: DeadLetterKind;
  deviceId: number | null;
  payload: unknown;
  error: unknown;
}

/** Longest error text kept. */
const MAX_ERROR_TEXT = 1_000;

/**
 * Keeps what PostgreSQL refused (ADR 1601), with the account of its device (looked up now: the device
 * may be gone, then the account is unknown). The payload is made storable first: jsonb refuses what
 * PostgreSQL's text does (NUL, lone surrogates), and a dead letter must never be refused in turn.
 */
export async function recordDeadLetters(db: Queryable, letters: DeadLetter[]): Promise<void> {
  if (letters.length === 0) return;
  await db.query(
    `INSERT INTO dead_letters (kind, device_id, account_id, payload, error)
     SELECT v.kind, v.device_id, d.user_id, v.payload::jsonb, v.error
       FROM unnest($1::text[], $2::int[], $3::text[], $4::text[]) WITH ORDINALITY AS v(kind, device_id, payload, error, n)
       LEFT JOIN devices d ON d.id = v.device_id
      ORDER BY v.n`,
    [
      letters.map((l) => l.kind),
      letters.map((l) => l.deviceId),
      letters.map((l) => JSON.stringify(storable(l.payload) ?? null)),
      letters.map((l) => errorText(l.error)),
    ],
  );
}

/** What a refused item is kept as; `messageId`, when the item is about a message, is logged with it. */
export interface DeadLetterItem {
  deviceId: number | null;
  payload: unknown;
  messageId?: number;
}

/** A phone's status report as a dead letter. */
export function statusReportLetter({
  deviceId,
  ...report
}: StatusReport & { deviceId: number }): DeadLetterItem {
  return { deviceId, messageId: report.messageId, payload: report };
}

/** Dead letters of one kind from a split's refused items. */
function deadLettersOf<T>(
  kind: DeadLetterKind,
  refused: Refused<T>[],
  describe: (item: T) => DeadLetterItem,
): DeadLetter[] {
  return refused.map(({ item, error }) => {
    const { deviceId, payload } = describe(item);
    return { kind, deviceId, payload, error };
  });
}

/** A counter by `kind` (the app's prom-client Counters fit; this library imports no observability). */
interface KindCounter {
  inc(labels: { kind: DeadLetterKind }, value: number): void;
}

/** Where a dead-lettering write counts and logs what PostgreSQL refused. */
export interface RefusalObserver {
  metrics: { batchSplits: KindCounter; deadLetters: KindCounter };
  logger: { warn(fields: Record<string, unknown>, message: string): void };
}

/**
 * `writeSplittingRefusals`, then what PostgreSQL refused on its own kept in dead_letters through `db`
 * (ADR 1601), counted and logged alike by every writer. Pass the transaction when the write runs in one,
 * so the dead letters commit with their neighbours.
 */
export async function writeDeadLettering<T, R>(
  db: Queryable,
  kind: DeadLetterKind,
  items: T[],
  write: (items: T[]) => Promise<R[]>,
  describe: (item: T) => DeadLetterItem,
  observer: RefusalObserver,
): Promise<SplitResult<T, R>> {
  const outcome = await writeSplittingRefusals(items, write);
  const { refused, splits } = outcome;
  if (splits > 0) observer.metrics.batchSplits.inc({ kind }, splits);
  if (refused.length === 0) return outcome;
  await recordDeadLetters(db, deadLettersOf(kind, refused, describe));
  observer.metrics.deadLetters.inc({ kind }, refused.length);
  for (const { item } of refused) {
    const { deviceId, messageId } = describe(item);
    observer.logger.warn({ kind, deviceId, messageId }, 'refused by PostgreSQL: dead-lettered');
  }
  return outcome;
}

/** SQLSTATE and message; never the statement's parameters or PostgreSQL's detail (they may hold values). */
function errorText(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const state = sqlStateOf(error);
  return toStorableText(`${state ? `${state}: ` : ''}${message}`.slice(0, MAX_ERROR_TEXT));
}

function storable(value: unknown): unknown {
  if (typeof value === 'string') return toStorableText(value);
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(storable);
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>).map(([key, v]) => [toStorableText(key), storable(v)]),
    );
  return value;
}

/** A dead letter as `cli dead-letters` lists it. */
export interface DeadLetterRow {
  id: string;
  kind: DeadLetterKind;
  device_id: number | null;
  account_id: number | null;
  payload: unknown;
  error: string;
  created_at: Date;
}

/** The newest dead letters first, of one account or all. */
export async function listDeadLetters(
  db: Queryable,
  options: { accountId?: number; limit: number },
): Promise<DeadLetterRow[]> {
  return (await db.query(
    `SELECT id, kind, device_id, account_id, payload, error, created_at FROM dead_letters
      WHERE $1::int IS NULL OR account_id = $1::int
      ORDER BY id DESC LIMIT $2`,
    [options.accountId ?? null, options.limit],
  )) as DeadLetterRow[];
}
