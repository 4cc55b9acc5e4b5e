/**
 * Counts the messages of a JSON bulk body (`{"smsdata":[…]}`, `{"datajson":{"smsdata":[…]}}`, or that
 * object as JSON text in a `datajson` string, decoded as it is read; a `smsdata` list as JSON text in a
 * string likewise) byte by byte as it arrives, the way
 * readBulkItems counts them (an object item makes one message per comma-separated `sendto` number, or one
 * without a text `sendto`): a body over the cap is known after its first few kilobytes instead of after
 * the whole body is decoded and parsed on the event loop (16 MB cost a few hundred ms there, during which
 * every other tenant waits).
 *
 * It never refuses what the parser would accept: each `smsdata` list counts on its own, a repeated
 * `sendto` counts as its last value (JSON.parse keeps the last), escaped keys and commas are decoded. Input
 * that is not JSON makes it stop counting; JSON.parse refuses that body afterwards.
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
/** A key longer than this (raw bytes) is none of the ones looked for, even fully escaped. */
const MAX_KEY_BYTES = 64;
/** What a one-letter escape stands for (`\"`, `\\` and `\/` stand for themselves). */
const ESCAPED: Record<number, number> = { 0x62: 0x08, 0x66: 0x0c, 0x6e: 0x0a, 0x72: 0x0d, 0x74: 0x09 };

type Role = 'root' | 'wrapper' | 'items' | 'item' | 'other';

interface Container {
  array: boolean;
  role: Role;
  /** Object: the last key read (undefined until one is). */
  key?: string;
  /** Object: the next string is a key. Array: the next non-space byte starts a value. */
  awaiting: boolean;
  /** Items list: values started so far, and messages of the items closed so far. */
  values: number;
  messages: number;
  /** Item: messages its (last) `sendto` makes; its index in the list. */
  itemMessages: number;
  index: number;
}

export type BulkCountVerdict = { over: false } | { over: true; reason: 'items' | 'messages'; index: number };

/**
 * What the text is: the bulk object (a JSON body, a `datajson` field) or the items list itself (a form's
 * `smsdata` field).
 */
export type BulkTextShape = 'object' | 'items';

export class BulkCountScanner {
  private readonly stack: Container[] = [];
  private inString = false;
  /**
   * What the current string is: a key to collect, a sendto to count commas of, a `datajson` holding the
   * bulk object as JSON text (its decoded text is counted by a scanner of its own), or none of them.
   */
  private stringKind: 'key' | 'sendto' | 'nested' | 'skip' = 'skip';
  private nested?: BulkCountScanner;
  /** One decoded byte of a `datajson` string, for `nested`. */
  private readonly decoded = new Uint8Array(1);
  private escape = false;
  /** Hex digits of a \u escape still to come, and the value so far. */
  private hexLeft = 0;
  private hexValue = 0;
  private keyBytes: number[] = [];
  private keyEscaped = false;
  private commas = 0;
  private stopped = false;
  private result: BulkCountVerdict = { over: false };

  /** `innermost`: the scanner of a `datajson` string, which holds no further one (it is unwrapped once). */
  constructor(
    private readonly cap: number,
    private readonly innermost = false,
    private readonly shape: BulkTextShape = 'object',
  ) {}

  get verdict(): BulkCountVerdict {
    return this.result;
  }

  /** Reads one more piece of the body; returns the verdict so far (once over, it stays over). */
  write(chunk: Uint8Array): BulkCountVerdict {
    if (this.stopped) return this.result;
    let nextBackslash = -1;
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i];
      if (this.inString) {
        const plain = this.stringKind === 'skip' || this.stringKind === 'nested';
        if (plain && !this.escape && this.hexLeft === 0) {
          // Most of a body is text nobody counts (or counts as it is): skip to its next quote or
          // backslash. (Both found natively; the next backslash is looked up again only once passed.)
          if (nextBackslash < i) nextBackslash = positionOf(chunk, BACKSLASH, i);
          const next = Math.min(positionOf(chunk, QUOTE, i), nextBackslash);
          if (this.stringKind === 'nested' && next > i) this.decodedText(chunk.subarray(i, next));
          i = next;
          if (i === chunk.length || this.stopped) break;
          this.stringByte(chunk[i]);
        } else this.stringByte(byte);
        if (this.stopped) break;
        continue;
      }
      this.structureByte(byte);
      if (this.stopped) break;
    }
    return this.result;
  }

  private stringByte(byte: number): void {
    if (this.hexLeft > 0) {
      this.hexValue = this.hexValue * 16 + hexDigit(byte);
      if (--this.hexLeft === 0 && this.stringKind === 'sendto' && this.hexValue === COMMA) this.commas++;
      // Beyond ASCII, only "not a structural byte" matters to the nested scanner.
      if (this.hexLeft === 0 && this.stringKind === 'nested') this.decodedByte(Math.min(this.hexValue, 0x80));
      this.keyByte(byte);
      return;
    }
    if (this.escape) {
      this.escape = false;
      if (byte === 0x75) {
        this.hexLeft = 4;
        this.hexValue = 0;
      } else if (this.stringKind === 'nested') this.decodedByte(ESCAPED[byte] ?? byte);
      this.keyByte(byte);
      return;
    }
    if (byte === BACKSLASH) {
      this.escape = true;
      this.keyEscaped = true;
      this.keyByte(byte);
      return;
    }
    if (byte === QUOTE) {
      this.inString = false;
      this.endString();
      return;
    }
    if (byte === COMMA && this.stringKind === 'sendto') this.commas++;
    if (this.stringKind === 'nested') this.decodedByte(byte);
    this.keyByte(byte);
  }

  private decodedByte(byte: number): void {
    this.decoded[0] = byte;
    this.decodedText(this.decoded);
  }

  private decodedText(text: Uint8Array): void {
    const verdict = (this.nested as BulkCountScanner).write(text);
    if (verdict.over) this.over(verdict.reason, verdict.index);
  }

  private keyByte(byte: number): void {
    if (this.stringKind === 'key' && this.keyBytes.length <= MAX_KEY_BYTES) this.keyBytes.push(byte);
  }

  private endString(): void {
    const top = this.stack[this.stack.length - 1];
    if (this.stringKind === 'key') {
      top.key = this.keyBytes.length > MAX_KEY_BYTES ? undefined : this.keyText();
      top.awaiting = false;
    } else if (this.stringKind === 'sendto') top.itemMessages = this.commas + 1;
  }

  private keyText(): string | undefined {
    const bytes = this.keyBytes;
    const raw = bytes.every((byte) => byte < 0x80)
      ? String.fromCharCode(...bytes)
      : Buffer.from(bytes).toString('utf8');
    if (!this.keyEscaped) return raw;
    try {
      return JSON.parse(`"${raw}"`) as string;
    } catch {
      return undefined;
    }
  }

  private structureByte(byte: number): void {
    if (byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09) return;
    const top = this.stack[this.stack.length - 1] as Container | undefined;
    if (top?.array && top.awaiting && byte !== 0x5d) {
      top.awaiting = false;
      if (top.role === 'items' && ++top.values > this.cap) return this.over('items', top.values - 1);
    }
    switch (byte) {
      case 0x7b: // {
        return this.open(false, top);
      case 0x5b: // [
        return this.open(true, top);
      case 0x7d: // }
      case 0x5d: // ]
        return this.close(byte === 0x5d);
      case COMMA:
        if (top === undefined) return this.stop();
        top.awaiting = true;
        if (!top.array) top.key = undefined;
        return;
      case COLON:
        return;
      case QUOTE:
        this.inString = true;
        this.escape = false;
        this.hexLeft = 0;
        if (top !== undefined && !top.array && top.awaiting) {
          this.stringKind = 'key';
          this.keyBytes = [];
          this.keyEscaped = false;
        } else if (top?.role === 'item' && top.key === 'sendto') {
          this.stringKind = 'sendto';
          this.commas = 0;
        } else if (top?.role === 'root' && top.key === 'datajson' && !this.innermost) {
          this.stringKind = 'nested';
          this.nested = new BulkCountScanner(this.cap, true);
        } else if ((top?.role === 'root' || top?.role === 'wrapper') && top.key === 'smsdata') {
          // readSmsData parses a list given as JSON text too.
          this.stringKind = 'nested';
          this.nested = new BulkCountScanner(this.cap, true, 'items');
        } else this.stringKind = 'skip';
        return;
      default:
        // A number, true, false or null: nothing to count.
        if (top?.role === 'item' && top.key === 'sendto') top.itemMessages = 1;
        return;
    }
  }

  private open(array: boolean, parent: Container | undefined): void {
    const role = parent === undefined && array && this.shape === 'items' ? 'items' : roleOf(array, parent);
    const container: Container = {
      array,
      role,
      awaiting: true,
      values: 0,
      messages: 0,
      itemMessages: 1,
      index: parent?.role === 'items' ? parent.values - 1 : 0,
    };
    if (parent?.role === 'item' && parent.key === 'sendto') parent.itemMessages = 1;
    this.stack.push(container);
  }

  private close(array: boolean): void {
    const closed = this.stack.pop();
    if (closed === undefined || closed.array !== array) return this.stop();
    const parent = this.stack[this.stack.length - 1];
    if (closed.role === 'item' && parent !== undefined) {
      parent.messages += closed.itemMessages;
      if (parent.messages > this.cap) this.over('messages', closed.index);
    }
    if (this.stack.length === 0) this.stop();
  }

  private over(reason: 'items' | 'messages', index: number): void {
    this.result = { over: true, reason, index };
    this.stop();
  }

  private stop(): void {
    this.stopped = true;
  }
}

function roleOf(array: boolean, parent: Container | undefined): Role {
  if (parent === undefined) return array ? 'other' : 'root';
  if (parent.role === 'items') return array ? 'other' : 'item';
  if (parent.array) return 'other';
  if (array && parent.key === 'smsdata' && (parent.role === 'root' || parent.role === 'wrapper'))
    return 'items';
  if (!array && parent.key === 'datajson' && parent.role === 'root') return 'wrapper';
  return 'other';
}

function positionOf(chunk: Uint8Array, byte: number, from: number): number {
  const at = chunk.indexOf(byte, from);
  return at === -1 ? chunk.length : at;
}

function hexDigit(byte: number): number {
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30;
  const lower = byte | 0x20;
  return lower >= 0x61 && lower <= 0x66 ? lower - 0x61 + 10 : 0;
}
