import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isFailureStatus, MessageStatus } from '@smsfleet/contracts';
import {
  deviceEvent,
  failureCodes,
  isWebhookEventType,
  messageEvent,
  messageEventType,
  messageStepEvent,
  WebhookMessageRow,
  WEBHOOK_EVENT_TYPES,
} from './webhook-event';

const at = (iso: string) => new Date(iso);
const row: WebhookMessageRow = {
  id: '9007',
  sendto: '+4915752982212',
  body: 'Your code is 1234',
  customer_id: '77',
  status: MessageStatus.SentByPhone,
  status_error: null,
  device_id: 12,
  sim: 1,
  urgent: true,
  created_at: at('2026-03-01T10:00:00Z'),
  time_to_send: at('2026-03-01T10:00:00Z'),
  taken_at: at('2026-03-01T10:00:01Z'),
  sent_at: at('2026-03-01T10:00:03Z'),
  delivered_at: null,
  failed_at: null,
  newsletter_id: null,
  newsletter_title: null,
  newsletter_body: null,
};

describe('webhook events', () => {
  it('maps every message status to its event; New and Queued are not news', () => {
    const numeric = Object.values(MessageStatus).filter((v): v is number => typeof v === 'number');
    for (const status of numeric) {
      const type = messageEventType(status);
      if (isFailureStatus(status)) expect(type).toBe('message.failed');
      else if (status === MessageStatus.New || status === MessageStatus.Queued) expect(type).toBeUndefined();
      else expect(type).toBeDefined();
    }
    expect(messageEventType(MessageStatus.TakenFromServer)).toBe('message.taken');
    expect(messageEventType(MessageStatus.SentByPhone)).toBe('message.sent');
    expect(messageEventType(MessageStatus.Delivered)).toBe('message.delivered');
    expect(messageEventType(MessageStatus.Income)).toBe('message.incoming');
    expect(messageEventType(999)).toBeUndefined();
  });

  it('lists every failure and final-failure code with its text', () => {
    expect(failureCodes().map(({ code }) => code)).toEqual([
      8, 9, 10, 11, 12, 100, 101, 201, 202, 203, 204, 205,
    ]);
    expect(failureCodes()).toContainEqual({ code: 201, text: 'Not sent - Rejected by phone' });
    expect(failureCodes()).toContainEqual({ code: 8, text: 'Sms Not Delivered' });
  });

  it('builds the envelope with the message in the getallsms shape, times in ISO 8601 UTC', () => {
    const event = messageEvent(row, 3, at('2026-03-01T10:00:03Z'), 'b3f0c1de-0000-4000-8000-000000000001');
    expect(event).toEqual({
      id: 'b3f0c1de-0000-4000-8000-000000000001',
      type: 'message.sent',
      occurred_at: '2026-03-01T10:00:03.000Z',
      account_id: 3,
      data: {
        id: 9007,
        sendto: '+4915752982212',
        body: 'Your code is 1234',
        customerid: 77,
        status: 6,
        statustitle: 'Sent by Phone',
        statuserror: null,
        deviceid: 12,
        sim: 1,
        urgent: 1,
        created: '2026-03-01T10:00:00.000Z',
        senttime: '2026-03-01T10:00:03.000Z',
        timetosend: '2026-03-01T10:00:00.000Z',
        paketid: null,
        pakettitle: null,
        paketbody: null,
        times: {
          taken: '2026-03-01T10:00:01.000Z',
          sent: '2026-03-01T10:00:03.000Z',
          delivered: null,
          failed: null,
        },
      },
    });
  });

  it('keeps every getallsms field of docs/api.md', () => {
    const api = readFileSync(join(__dirname, '../../../docs/api.md'), 'utf8');
    const line = api.split('\n').find((l) => l.startsWith('| `getallsms` |'));
    const fields = /`smss` keyed by id[^:]*: `([^|]+)`/.exec(line ?? '')?.[1].split(', ');
    expect(fields).toContain('customerid');
    const data = messageEvent(row, 3, new Date())?.data ?? {};
    for (const field of fields ?? []) expect(Object.keys(data)).toContain(field);
  });

  it('gives failures their code, text and reason, incoming SMS their sender, and a fresh uuid each', () => {
    const failed = messageEvent(
      {
        ...row,
        status: MessageStatus.RejectedByPhone,
        status_error: 'no such SIM slot',
        failed_at: at('2026-03-01T10:00:02Z'),
      },
      3,
      at('2026-03-01T10:00:02Z'),
    );
    expect(failed).toMatchObject({
      type: 'message.failed',
      data: { status: 201, statustitle: 'Not sent - Rejected by phone', statuserror: 'no such SIM slot' },
    });
    expect(failed?.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(messageEvent(row, 3, new Date())?.id).not.toBe(failed?.id);
    const incoming = messageEvent(
      { ...row, status: MessageStatus.Income, sendto: '+331234', customer_id: null },
      3,
      new Date(),
    );
    expect(incoming).toMatchObject({
      type: 'message.incoming',
      data: { from: '+331234', sendto: '+331234', customerid: null, status: 5 },
    });
    expect(messageEvent({ ...row, status: MessageStatus.New }, 3, new Date())).toBeUndefined();
  });

  it('builds device presence events', () => {
    const device = { id: 12, title: 'Pixel', lastSeen: at('2026-03-01T09:59:00Z') };
    expect(deviceEvent(false, device, 3, at('2026-03-01T10:01:00Z'), 'id-1')).toEqual({
      id: 'id-1',
      type: 'device.offline',
      occurred_at: '2026-03-01T10:01:00.000Z',
      account_id: 3,
      data: { device_id: 12, title: 'Pixel', online: false, lastseen: '2026-03-01T09:59:00.000Z' },
    });
    expect(deviceEvent(true, device, 3, new Date()).type).toBe('device.online');
  });

  it('knows its event types', () => {
    expect(WEBHOOK_EVENT_TYPES).toHaveLength(7);
    expect(isWebhookEventType('message.delivered')).toBe(true);
    expect(isWebhookEventType('message.*')).toBe(false);
    expect(isWebhookEventType(5)).toBe(false);
  });

  describe('messageStepEvent', () => {
    const delivered: WebhookMessageRow = {
      ...row,
      status: MessageStatus.Delivered,
      delivered_at: at('2026-03-01T10:00:09Z'),
    };

    it('shows the message as of each step, later steps null', () => {
      const taken = messageStepEvent(
        delivered,
        { status: 2, at: at('2026-03-01T10:00:01Z'), error: null },
        3,
      );
      const sent = messageStepEvent(delivered, { status: 6, at: at('2026-03-01T10:00:03Z'), error: null }, 3);
      const done = messageStepEvent(delivered, { status: 7, at: at('2026-03-01T10:00:09Z'), error: null }, 3);
      expect([taken?.type, sent?.type, done?.type]).toEqual([
        'message.taken',
        'message.sent',
        'message.delivered',
      ]);
      expect(taken?.data).toMatchObject({
        status: 2,
        senttime: null,
        times: { taken: '2026-03-01T10:00:01.000Z', sent: null, delivered: null, failed: null },
      });
      expect(sent?.data).toMatchObject({
        status: 6,
        senttime: '2026-03-01T10:00:03.000Z',
        times: { taken: '2026-03-01T10:00:01.000Z', sent: '2026-03-01T10:00:03.000Z', delivered: null },
      });
      expect(done?.data).toMatchObject({ status: 7, times: { delivered: '2026-03-01T10:00:09.000Z' } });
      expect(done?.occurred_at).toBe('2026-03-01T10:00:09.000Z');
    });

    it("carries a failure's code, text and error, and its time", () => {
      const event = messageStepEvent(
        { ...row, status: 201 },
        { status: 201, at: at('2026-03-01T10:00:05Z'), error: 'blocked' },
        3,
      );
      expect(event?.type).toBe('message.failed');
      expect(event?.data).toMatchObject({
        status: 201,
        statustitle: 'Not sent - Rejected by phone',
        statuserror: 'blocked',
        times: { failed: '2026-03-01T10:00:05.000Z', delivered: null },
      });
    });

    it('gives an incoming SMS its sender, and nothing for New or Queued', () => {
      const incoming = messageStepEvent(
        { ...row, status: MessageStatus.Income },
        { status: MessageStatus.Income, at: at('2026-03-01T10:00:00Z'), error: null },
        3,
      );
      expect(incoming?.type).toBe('message.incoming');
      expect(incoming?.data).toMatchObject({ from: row.sendto, sendto: row.sendto, status: 5 });
      expect(
        messageStepEvent(row, { status: MessageStatus.Queued, at: new Date(), error: null }, 3),
      ).toBeUndefined();
    });
  });
});
