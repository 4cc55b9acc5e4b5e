import { DeviceQueue } from '@smsfleet/contracts';
import { DEVICE_QUEUE_EVENTS_MAX_LEN } from '@smsfleet/queueing';
import { SimulatedFleet } from '../../tools/simulator/fleet';
import { getdata } from '../helpers/api-client';
import { Account, TestSystem } from '../harness/test-system';
import { waitFor } from '../harness/wait-for';

describe('the whole message path (API → PostgreSQL → BullMQ → dispatcher → phone → status → PostgreSQL)', () => {
  let system: TestSystem;
  let account: Account;

  beforeAll(async () => {
    system = await TestSystem.start();
    account = system.createAccount();
  });

  afterAll(async () => {
    await system?.stop();
  });

  function fleet(): SimulatedFleet {
    return new SimulatedFleet({
      apiUrl: system.apiUrl,
      dispatcherUrl: system.dispatcherUrl,
      email: account.email,
      password: account.password,
      behaviour: { sendDelayMs: 20, deliveryDelayMs: 20, failureShare: 0 },
    });
  }

  it('delivers one message: token → addsms → phone → reports → getsmsstatus says 7 Delivered', async () => {
    const phones = fleet();
    const [phone] = await phones.provision(1);
    await phones.connectAll();
    try {
      const token = await getdata(system.apiUrl, 'gettoken', {
        email: account.email,
        pass: account.password,
      });
      expect(token).toEqual({ status: 200, body: { error: 0, message: 'OK', token: account.token } });

      const added = await getdata(system.apiUrl, 'addsms', {
        token: account.token,
        sendto: '+4915752982212',
        body: 'hello from the e2e test',
        device_id: phone.deviceId,
        sim: 0,
      });
      expect(added.status).toBe(200);
      expect(added.body).toMatchObject({ error: 0, message: 'Sms has been saved successfully' });
      const smsId = added.body.sms_id as number;
      expect(typeof smsId).toBe('number');

      const final = await waitFor(
        'status 7',
        async () => {
          const answer = await getdata(system.apiUrl, 'getsmsstatus', {
            token: account.token,
            sms_id: smsId,
          });
          return answer.body.status === 7 ? answer : undefined;
        },
        15_000,
      );
      expect(final.body).toEqual({
        error: 0,
        message: 'Ok',
        sms_id: smsId,
        status: 7,
        status_description: 'Delivered',
      });
      expect(phones.ledger.received.map((entry) => entry.id)).toEqual([smsId]);

      const [row] = await system.query<{
        taken_at: Date;
        sent_at: Date;
        delivered_at: Date;
        enqueued_at: Date;
      }>('SELECT enqueued_at, taken_at, sent_at, delivered_at FROM messages WHERE id = $1', [smsId]);
      expect(row.enqueued_at).toBeInstanceOf(Date);
      // taken_at is the dispatcher's clock when it handles the phone's ack; sent_at is the phone's own stamp,
      // which a fast phone may take before that ack is handled (CI saw 2 ms): two clocks, ordered within a trip.
      expect(row.taken_at.getTime()).toBeLessThanOrEqual(row.sent_at.getTime() + 1_000);
      expect(row.sent_at.getTime()).toBeLessThanOrEqual(row.delivered_at.getTime());
      const history = await system.query<{ status: number }>(
        'SELECT status FROM message_events WHERE message_id = $1 ORDER BY at, status',
        [smsId],
      );
      expect(history.map((event) => event.status)).toEqual([2, 6, 7]);

      // Online state lives in Redis (no database write per heartbeat) and ends with the connection.
      const presenceKey = `${system.redisPrefix}:presence:${phone.deviceId}`;
      expect(await system.redis().exists(presenceKey)).toBe(1);
      phones.stop();
      await waitFor('presence cleared', async () => (await system.redis().exists(presenceKey)) === 0, 10_000);
      expect(Number(await system.redis().get(`${presenceKey}:last-seen`))).toBeGreaterThan(
        Date.now() - 60_000,
      );
    } finally {
      phones.stop();
    }
  });

  it('delivers 500 messages over 5 phones with none lost and none duplicated', async () => {
    const phones = fleet();
    const devices = await phones.provision(5);
    await phones.connectAll();
    try {
      const accepted: number[] = [];
      // Per phone: one request of 80 recipients, then 20 single messages in different encodings.
      for (const [index, device] of devices.entries()) {
        const numbers = Array.from(
          { length: 80 },
          (_, n) => `+49157${String(index * 1000 + n).padStart(7, '0')}`,
        );
        const bulk = await getdata(
          system.apiUrl,
          'addsms',
          {
            token: account.token,
            sendto: numbers.join(','),
            body: `batch ${index}`,
            device_id: device.deviceId,
          },
          'form',
        );
        expect(bulk.body.error).toBe(0);
        expect(bulk.body.sms_ids).toHaveLength(80);
        accepted.push(...(bulk.body.sms_ids as number[]));
        for (let n = 0; n < 20; n++) {
          const encoding = (['get', 'form', 'json', 'multipart'] as const)[n % 4];
          const single = await getdata(
            system.apiUrl,
            'addsms',
            {
              token: account.token,
              sendto: `+4916${index}${String(n).padStart(6, '0')}`,
              body: `single ${n}`,
              device_id: device.deviceId,
              sim: n % 2,
            },
            encoding,
          );
          expect(single.body.error).toBe(0);
          accepted.push(single.body.sms_id as number);
        }
      }
      expect(new Set(accepted).size).toBe(500);

      await waitFor(
        'all 500 delivered',
        async () => {
          const [{ delivered }] = await system.query<{ delivered: number }>(
            'SELECT count(*)::int AS delivered FROM messages WHERE id = ANY($1) AND status = 7',
            [accepted],
          );
          return delivered === 500;
        },
        60_000,
        250,
      );
      const firstReceipts = phones.ledger.received.filter((entry) => !entry.repeat).map((entry) => entry.id);
      expect(new Set(firstReceipts)).toEqual(new Set(accepted));
      expect(firstReceipts).toHaveLength(500);
      expect(phones.ledger.duplicateSends).toBe(0);
      // Each message reached the phone it was addressed to.
      const rows = await system.query<{ id: number; device_id: number }>(
        'SELECT id, device_id FROM messages WHERE id = ANY($1)',
        [accepted],
      );
      const deviceOf = new Map(rows.map((row) => [Number(row.id), row.device_id]));
      for (const entry of phones.ledger.received) expect(entry.deviceId).toBe(deviceOf.get(entry.id));
      const [{ events }] = await system.query<{ events: number }>(
        'SELECT count(*)::int AS events FROM message_events WHERE message_id = ANY($1)',
        [accepted],
      );
      expect(events).toBe(1_500);
      // Each queue's BullMQ event stream got at least 4 events per message (added, waiting, active,
      // completed: 400 here) and keeps about DEVICE_QUEUE_EVENTS_MAX_LEN of them (Redis trims whole
      // nodes of 100), not BullMQ's default 10,000.
      for (const device of devices) {
        const length = await system
          .redis()
          .xlen(`${system.redisPrefix}:${DeviceQueue.name(device.deviceId)}:events`);
        expect(length).toBeGreaterThanOrEqual(DEVICE_QUEUE_EVENTS_MAX_LEN);
        expect(length).toBeLessThanOrEqual(DEVICE_QUEUE_EVENTS_MAX_LEN + 100);
      }
    } finally {
      phones.stop();
    }
  });

  it('sends an urgent message added behind 200 normal ones for the same phone before them', async () => {
    const phones = fleet();
    const [device] = await phones.provision(1);
    const normal = await getdata(
      system.apiUrl,
      'addsms',
      {
        token: account.token,
        sendto: Array.from({ length: 200 }, (_, n) => `+4917${String(n).padStart(8, '0')}`).join(','),
        body: 'newsletter',
        device_id: device.deviceId,
      },
      'form',
    );
    expect(normal.body.sms_ids).toHaveLength(200);
    const urgent = await getdata(system.apiUrl, 'addsms', {
      token: account.token,
      sendto: '+4915700000001',
      body: 'OTP 123456',
      device_id: device.deviceId,
      urgent: 1,
    });
    const urgentId = urgent.body.sms_id as number;

    await phones.connectAll();
    try {
      await waitFor('201 messages at the phone', () => phones.ledger.received.length >= 201, 30_000);
      const order = phones.ledger.received.map((entry) => entry.id);
      expect(order[0]).toBe(urgentId);
      expect(phones.ledger.received[0].urgent).toBe(true);
      // Normal ones keep their order among themselves (first in, first out).
      expect(order.slice(1)).toEqual([...(normal.body.sms_ids as number[])]);
    } finally {
      phones.stop();
    }
  });
});
