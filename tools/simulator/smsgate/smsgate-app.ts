import { createHmac, randomBytes } from 'node:crypto';
import { MessageStatus } from '@smsfleet/contracts';
import { PhoneLedger } from '../phone-ledger';
import { AppHttp, AppHttpError } from './app-http';
import { aggregateState, gsonDate, ProcessingState } from './app-states';
import { EventStreamReader } from './event-stream-reader';

/**
 * A double of the SMSGate Android app (capcom6/android-sms-gateway) set to a private server with
 * "SSE only", written from the app's source: `GatewayApi`/`GatewayService` (register, PATCH /device on
 * start, re-register on 401, pull and process messages, report states), `SSEManager` (pull on connect
 * and on `MessageEnqueued`, its reconnect delays), `MessagesService` (its state machine, "TTL expired",
 * the aggregate rule), `SendStateWorker` (retries), the webhook worker and its HMAC signature.
 */

export interface AppBehaviour {
  /** From handing an SMS to the radio (Processed) to its sent report (ms). */
  sendDelayMs: number;
  /** From sent to the delivery report (ms). */
  deliveryDelayMs: number;
  /** Share (0–1) of messages whose sending fails (RESULT_ERROR_GENERIC_FAILURE). */
  failureShare: number;
}

export interface AppOptions {
  /** The API URL entered in Settings → Cloud Server (e.g. https://sms.example.com/mobile/v1). */
  serverUrl: string;
  /** The Private Token: the account's phone registration token. */
  privateToken: string;
  behaviour: AppBehaviour;
  ledger: PhoneLedger;
  /** `MANUFACTURER/PRODUCT`. */
  name?: string;
  /** Registration kept from an earlier run (the app keeps it in its preferences). */
  registration?: AppRegistration;
  /** false: no event stream (notification channel AUTO with FCM, or a pull-only phone). */
  sse?: boolean;
  /** The "ping" interval (Settings → Ping), which pulls this often; absent: the 15-minute pull only. */
  pingIntervalMs?: number;
  ca?: string | Buffer;
  /** First retry pause of a failed state report (WorkManager's minimum backoff is 10 s; tests shorten it). */
  retryBackoffMs?: number;
  version?: string;
  /** Called with each event the stream delivers and when it arrived (benchmarks time the wake-up). */
  onEvent?: (event: string, at: number) => void;
  /** Called when a message is handed to the radio (benchmarks check the pace there). */
  onSent?: (messageId: number, at: number) => void;
}

export interface AppRegistration {
  id: string;
  token: string;
  login: string;
  password?: string | null;
}

interface WebHook {
  id: string;
  url: string;
  event: string;
}

interface LocalMessage {
  id: string;
  text: string;
  phoneNumbers: string[];
  simNumber: number | null;
  validUntil: Date | null;
  priority: number;
  recipients: Map<string, { state: ProcessingState; error: string | null }>;
  states: Map<ProcessingState, Date>;
}

/** What `GET /message` answers (`GatewayApi.Message`). */
interface ServerMessage {
  id: string;
  textMessage?: { text: string } | null;
  message?: string | null;
  phoneNumbers: string[];
  simNumber?: number | null;
  validUntil?: string | null;
  priority?: number | null;
  state?: ProcessingState | null;
}

const PULL_PERIOD_MS = 15 * 60_000;
const STATE_RETRY_COUNT = 10;
const WEBHOOK_RETRY_COUNT = 15;
const WEBHOOK_BACKOFF_MS = 5_000;
const PRIORITY_EXPEDITED = 100;

/** `SSEManager.scheduleReconnect`: 5 s for attempts 1–5, 30 s for 6–10, then a minute. */
export function reconnectDelayMs(attempt: number): number {
  return attempt > 10 ? 60_000 : attempt > 5 ? 30_000 : 5_000;
}

export class SmsGateApp {
  private readonly http: AppHttp;
  registration?: AppRegistration;
  private readonly messages = new Map<string, LocalMessage>();
  /** Local send queue (`SendMessagesWorker`), in the order the app takes them. */
  private readonly pending: string[] = [];
  private sending = false;
  private webhooks: WebHook[] = [];
  private signingKey = randomBytes(6).toString('base64url').slice(0, 8);
  private sendIntervalS: [number, number] | null = null;
  private readonly timers = new Set<NodeJS.Timeout>();
  private cancelStream?: () => void;
  private reconnectAttempts = 0;
  private pulling?: Promise<void>;
  private pullAgain = false;
  private stopped = false;
  /** Events and counters a test reads. */
  readonly seen = { pulls: 0, registrations: 0, streamOpens: 0, events: [] as string[], unauthorized: 0 };
  streamOpen = false;

  constructor(private readonly options: AppOptions) {
    this.http = new AppHttp({
      ca: options.ca,
      userAgent: `me.capcom.smsgateway/${options.version ?? '1.68.0'}`,
    });
    this.registration = options.registration;
  }

  get deviceId(): number {
    return Number(this.registration?.id);
  }

  private get base(): string {
    return this.options.serverUrl.replace(/\/$/, '');
  }

  private auth(): Record<string, string> {
    return { authorization: `Bearer ${this.registration?.token ?? ''}` };
  }

  /** `GatewayService.start`: register (or update), then the pull, webhooks and settings workers, and SSE. */
  async start(): Promise<void> {
    this.stopped = false;
    await this.registerDevice();
    await Promise.all([this.updateWebhooks(), this.updateSettings()]);
    if (this.options.sse !== false) this.connectStream();
    this.schedulePulls();
    this.requestPull();
  }

  stop(): void {
    this.stopped = true;
    this.cancelStream?.();
    this.cancelStream = undefined;
    this.streamOpen = false;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  /** `registerDevice`: with a token, PATCH /device; a 401 (unknown token) registers anew. */
  async registerDevice(): Promise<void> {
    if (this.registration) {
      try {
        await this.http.expect(
          'PATCH',
          `${this.base}/device`,
          this.auth(),
          JSON.stringify({ id: this.registration.id, pushToken: null, simCards: this.simCards() }),
        );
        return;
      } catch (error) {
        if (!(error instanceof AppHttpError) || error.status !== 401) throw error;
        this.seen.unauthorized++;
      }
    }
    const text = await this.http.expect(
      'POST',
      `${this.base}/device`,
      { authorization: `Bearer ${this.options.privateToken}` },
      JSON.stringify({
        name: this.options.name ?? 'Google/sdk_gphone64',
        pushToken: null,
        simCards: this.simCards(),
      }),
    );
    this.registration = JSON.parse(text) as AppRegistration;
    this.seen.registrations++;
  }

  private simCards() {
    return [{ slotIndex: 0, simNumber: 1, phoneNumber: '****2212', carrierName: '****mobile', iccid: null }];
  }

  /** `SettingsUpdateWorker`: the groups the app imports (messages, webhooks). */
  async updateSettings(): Promise<void> {
    const settings = JSON.parse(await this.http.expect('GET', `${this.base}/settings`, this.auth())) as {
      messages?: { send_interval_min?: number | null; send_interval_max?: number | null };
      webhooks?: { signing_key?: string | null };
    };
    const min = settings.messages?.send_interval_min ?? 0;
    const max = settings.messages?.send_interval_max ?? null;
    this.sendIntervalS = max === null || min > max ? null : [min, max];
    if (settings.webhooks?.signing_key) this.signingKey = settings.webhooks.signing_key;
  }

  /** `WebhooksUpdateWorker`: the server's list replaces the cloud webhooks. */
  async updateWebhooks(): Promise<void> {
    this.webhooks = JSON.parse(
      await this.http.expect('GET', `${this.base}/webhooks`, this.auth()),
    ) as WebHook[];
  }

  // ── SSE (`SSEManager`) ─────────────────────────────────────────────────────────────────────────────

  private connectStream(): void {
    if (this.stopped) return;
    const reader = new EventStreamReader((type, data) => this.onEvent(type, data));
    this.cancelStream = this.http.stream(`${this.base}/events`, this.auth(), {
      onOpen: () => {
        this.reconnectAttempts = 0;
        this.streamOpen = true;
        this.seen.streamOpens++;
        this.requestPull();
      },
      onText: (text) => reader.push(text),
      onEnd: () => {
        this.streamOpen = false;
        this.scheduleReconnect();
      },
    });
  }

  private scheduleReconnect(): void {
    if (this.stopped) return;
    this.reconnectAttempts++;
    this.later(reconnectDelayMs(this.reconnectAttempts), () => this.connectStream());
  }

  /** `SSEForegroundService.processEvent`: no event name means MessageEnqueued. */
  private onEvent(type: string | null, _data: string): void {
    const event = type ?? 'MessageEnqueued';
    this.options.onEvent?.(event, Date.now());
    this.seen.events.push(event);
    if (event === 'MessageEnqueued') this.requestPull();
    else if (event === 'SettingsUpdated') void this.updateSettings().catch(() => undefined);
    else if (event === 'WebhooksUpdated') void this.updateWebhooks().catch(() => undefined);
  }

  // ── Pulling (`PullMessagesWorker`, `GatewayService.getNewMessages`) ────────────────────────────────

  private schedulePulls(): void {
    const every = this.options.pingIntervalMs ?? PULL_PERIOD_MS;
    this.later(every, () => {
      this.requestPull();
      this.schedulePulls();
    });
  }

  /** Starts the pull worker; one runs at a time, and a request meanwhile runs it once more after. */
  requestPull(): void {
    if (this.stopped) return;
    if (this.pulling) {
      this.pullAgain = true;
      return;
    }
    this.pulling = this.pull()
      .catch(() => this.later(1_000, () => this.requestPull()))
      .finally(() => {
        this.pulling = undefined;
        if (this.pullAgain) {
          this.pullAgain = false;
          this.requestPull();
        }
      });
  }

  private async pull(): Promise<void> {
    if (!this.registration) return;
    this.seen.pulls++;
    const text = await this.http.expect('GET', `${this.base}/message?order=fifo`, this.auth());
    for (const message of JSON.parse(text) as ServerMessage[]) this.processMessage(message);
  }

  /** `processMessage`: a known id has its state sent again; a new one is enqueued locally. */
  private processMessage(message: ServerMessage): void {
    if (message.state && message.state !== 'Pending') return;
    const numericId = Number(message.id);
    const known = this.messages.has(message.id);
    this.options.ledger.received.push({
      id: numericId,
      deviceId: this.deviceId,
      at: Date.now(),
      repeat: known,
      urgent: (message.priority ?? 0) >= PRIORITY_EXPEDITED,
    });
    if (known) {
      this.sendState(message.id);
      return;
    }
    const text = message.textMessage?.text ?? message.message;
    if (text === undefined || text === null) return;
    const local: LocalMessage = {
      id: message.id,
      text,
      phoneNumbers: message.phoneNumbers,
      simNumber: message.simNumber ?? null,
      validUntil: message.validUntil ? new Date(message.validUntil) : null,
      priority: message.priority ?? 0,
      recipients: new Map(message.phoneNumbers.map((phone) => [phone, { state: 'Pending', error: null }])),
      states: new Map([['Pending', new Date()]]),
    };
    this.messages.set(message.id, local);
    // Expedited messages first (the app's queue orders by priority), then first in first out.
    const at =
      local.priority >= PRIORITY_EXPEDITED
        ? this.pending.findIndex((id) => (this.messages.get(id)?.priority ?? 0) < PRIORITY_EXPEDITED)
        : -1;
    if (at >= 0) this.pending.splice(at, 0, message.id);
    else this.pending.push(message.id);
    void this.sendPending();
  }

  // ── Sending (`MessagesService`) ────────────────────────────────────────────────────────────────────

  private async sendPending(): Promise<void> {
    if (this.sending) return;
    this.sending = true;
    try {
      let previousPriority = -128;
      while (!this.stopped && this.pending.length > 0) {
        const message = this.messages.get(this.pending.shift() as string) as LocalMessage;
        if (!this.sendMessage(message)) continue;
        if (message.priority >= PRIORITY_EXPEDITED && previousPriority < message.priority) {
          previousPriority = message.priority;
          continue;
        }
        previousPriority = message.priority;
        if (this.sendIntervalS) {
          const [min, max] = this.sendIntervalS;
          await new Promise((resolve) =>
            this.later((min + Math.random() * (max - min)) * 1_000, () => resolve(undefined)),
          );
        }
      }
    } finally {
      this.sending = false;
    }
  }

  /** `sendMessage`: past its validity it fails ("TTL expired"); else each recipient is handed to the radio. */
  private sendMessage(message: LocalMessage): boolean {
    if (message.validUntil && message.validUntil.getTime() < Date.now()) {
      this.updateState(message, null, 'Failed', 'TTL expired');
      return false;
    }
    for (const phone of message.phoneNumbers) {
      this.updateState(message, phone, 'Processed');
      this.options.onSent?.(Number(message.id), Date.now());
      const fails = Math.random() < this.options.behaviour.failureShare;
      this.later(this.options.behaviour.sendDelayMs, () => {
        if (fails) {
          this.updateState(
            message,
            phone,
            'Failed',
            'Send result: RESULT_ERROR_GENERIC_FAILURE (Generic failure cause)',
          );
          return;
        }
        // On air: what the phone ledger counts as a send (a failed send never left the phone).
        this.options.ledger.sends.set(
          Number(message.id),
          (this.options.ledger.sends.get(Number(message.id)) ?? 0) + 1,
        );
        this.updateState(message, phone, 'Sent');
        this.later(this.options.behaviour.deliveryDelayMs, () =>
          this.updateState(message, phone, 'Delivered'),
        );
      });
    }
    return true;
  }

  private updateState(
    message: LocalMessage,
    phone: string | null,
    state: ProcessingState,
    error: string | null = null,
  ): void {
    for (const [number, recipient] of message.recipients)
      if (phone === null || number === phone) Object.assign(recipient, { state, error });
    const aggregate = aggregateState([...message.recipients.values()].map((r) => r.state));
    if (!message.states.has(aggregate)) message.states.set(aggregate, new Date());
    this.sendState(message.id);
  }

  /** `SendStateWorker`: PATCH /message with the message's state now, retried with a backoff (10 tries). */
  private sendState(id: string, attempt = 0): void {
    const message = this.messages.get(id);
    if (!message || this.stopped) return;
    const recipients = [...message.recipients].map(([phoneNumber, r]) => ({
      phoneNumber,
      state: r.state,
      error: r.error,
    }));
    const body = JSON.stringify([
      {
        id,
        state: aggregateState(recipients.map((r) => r.state)),
        recipients,
        states: Object.fromEntries([...message.states].map(([state, at]) => [state, gsonDate(at)])),
      },
    ]);
    this.http.expect('PATCH', `${this.base}/message`, this.auth(), body).then(
      () => {
        // What the server now holds for good (L9): the sent and delivered states of this history.
        const states = [...message.states.keys()];
        if (states.includes('Sent')) this.options.ledger.acked(Number(id), MessageStatus.SentByPhone);
        if (states.includes('Delivered')) this.options.ledger.acked(Number(id), MessageStatus.Delivered);
        this.options.ledger.reported++;
      },
      () => {
        if (attempt + 1 >= STATE_RETRY_COUNT) return;
        this.later((this.options.retryBackoffMs ?? 10_000) * 2 ** attempt, () =>
          this.sendState(id, attempt + 1),
        );
      },
    );
  }

  // ── Incoming SMS (`WebHooksService.emit`, the webhook worker, `PayloadSingingPlugin`) ──────────────

  /** An SMS arrives: posted to every `sms:received` webhook, signed, retried until a 2xx. */
  receiveSms(sender: string, text: string, simNumber = 1, receivedAt = new Date()): Promise<boolean[]> {
    const hooks = this.webhooks.filter((hook) => hook.event === 'sms:received');
    return Promise.all(
      hooks.map((hook) => {
        const body = JSON.stringify({
          id: randomBytes(10).toString('base64url'),
          webhookId: hook.id,
          event: 'sms:received',
          deviceId: this.registration?.id,
          payload: {
            messageId: randomBytes(4).toString('hex'),
            sender,
            recipient: null,
            simNumber,
            phoneNumber: sender,
            message: text,
            receivedAt: gsonDate(receivedAt),
          },
        });
        return this.postWebhook(hook.url, body, 0);
      }),
    );
  }

  /** Each attempt is signed anew: `X-Signature` = hex HMAC-SHA256(key, body + X-Timestamp). */
  private async postWebhook(url: string, body: string, attempt: number): Promise<boolean> {
    const timestamp = String(Math.floor(Date.now() / 1_000));
    const signature = createHmac('sha256', this.signingKey)
      .update(body + timestamp)
      .digest('hex');
    const answer = await this.http
      .call('POST', url, { 'x-signature': signature, 'x-timestamp': timestamp }, body)
      .catch(() => ({ status: 0, text: '' }));
    if (answer.status >= 200 && answer.status <= 299) return true;
    if (this.stopped || attempt + 1 >= WEBHOOK_RETRY_COUNT) return false;
    await new Promise((resolve) =>
      this.later(
        Math.min(WEBHOOK_BACKOFF_MS, this.options.retryBackoffMs ?? WEBHOOK_BACKOFF_MS) * (attempt + 1),
        () => resolve(undefined),
      ),
    );
    return this.postWebhook(url, body, attempt + 1);
  }

  /** The local state of a message (as the app's message list shows it). */
  stateOf(id: number): ProcessingState | undefined {
    const message = this.messages.get(String(id));
    return message ? aggregateState([...message.recipients.values()].map((r) => r.state)) : undefined;
  }

  private later(ms: number, action: () => void): void {
    if (this.stopped) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      action();
    }, ms);
    this.timers.add(timer);
  }
}
