/** One parameter of a `/getdata/*` method, as the OpenAPI description shows it. */
export interface ParamDescription {
  name: string;
  type: 'string' | 'integer' | 'file';
  required?: boolean;
  description: string;
  example?: string | number;
}

export interface EndpointDescription {
  paths: string[];
  summary: string;
  description: string;
  params: ParamDescription[];
  example: unknown;
  /** Only POST (multipart or JSON bodies too big for a query string). */
  postOnly?: boolean;
  /** Takes an optional `Idempotency-Key` header. */
  idempotent?: boolean;
}

const token: ParamDescription = {
  name: 'token',
  type: 'string',
  required: true,
  description: 'From gettoken; `Authorization: Bearer <token>` works too.',
  example: 'df427bfcf113c9a21c67718035076b5b',
};
const sim: ParamDescription = {
  name: 'sim',
  type: 'integer',
  description: 'Slot: 0/1 SMS from SIM 1/2, 2 WhatsApp Business, 3 WhatsApp, 4/5 RCS. Default 0.',
  example: 0,
};
const deviceId: ParamDescription = {
  name: 'device_id',
  type: 'integer',
  required: true,
  description: 'One of your devices (alias `deviceid`).',
  example: 260,
};
const date = (value: string) => ({ date: value, timezone_type: 3, timezone: 'Europe/Paris' });
const message = {
  id: 62050971,
  sendto: '+4912312312332',
  body: 'Hello! Thank you for Order!',
  customerid: null,
  status: 7,
  statustitle: 'Delivered',
  deviceid: 260,
  sim: 0,
  urgent: 0,
  created: date('2023-11-02 22:44:43.000000'),
  senttime: date('2023-11-02 22:44:45.000000'),
  timetosend: date('2023-11-02 22:44:43.000000'),
  paketid: null,
  pakettitle: null,
  paketbody: null,
};
const messageFields: ParamDescription[] = [
  {
    name: 'sendto',
    type: 'string',
    required: true,
    description:
      'Recipient; several separated by commas (one message each). Kept as sent; searched in E.164.',
    example: '+4915752982212',
  },
  {
    name: 'body',
    type: 'string',
    required: true,
    description: 'The text (not needed with `file`).',
    example: 'Hello',
  },
  {
    ...deviceId,
    required: false,
    description: 'One of your devices (alias `deviceid`). Required unless `pool_id` is given; never both.',
  },
  {
    name: 'pool_id',
    type: 'integer',
    description:
      'One of your pools (alias `poolid`), in place of `device_id`: a device of the pool is chosen, online, inside its send hours, under its SIM quotas and least loaded, that can send `sim` (docs/api.md, Pools).',
    example: 3,
  },
  sim,
  {
    name: 'timetosend',
    type: 'string',
    description: "YYYY-MM-DD[ HH:MM[:SS]] in the account's zone; past or absent = now.",
    example: '2026-05-29 17:21:27',
  },
  {
    name: 'customerid',
    type: 'integer',
    description: 'Your own id for the message (alias `customerId`).',
    example: 122,
  },
  {
    name: 'urgent',
    type: 'integer',
    description: '1: ahead of everything waiting for that device (OTP).',
    example: 0,
  },
];

/** Every `/getdata/*` method: what it takes and what it answers (docs/api.md). */
export const ENDPOINTS: EndpointDescription[] = [
  {
    paths: ['gettoken'],
    summary: 'The account token',
    description: 'The same token on every call until it is rotated.',
    params: [
      { name: 'email', type: 'string', required: true, description: 'Login', example: 'me@example.com' },
      { name: 'pass', type: 'string', required: true, description: 'Password', example: 'secret' },
    ],
    example: { error: 0, message: 'OK', token: 'df427bfcf113c9a21c67718035076b5b' },
  },
  {
    paths: ['addsms', 'smstosend'],
    idempotent: true,
    summary: 'Send a message (one per number in sendto)',
    description:
      '`token`, or `email` + `pass` instead. With `file` (multipart, a JPEG/PNG/WebP/GIF image checked by content) the stored image URL replaces `body`. Several numbers: `sms_ids` lists every id.',
    params: [
      token,
      ...messageFields,
      { name: 'file', type: 'file', description: 'An image (multipart/form-data only).' },
    ],
    example: { error: 0, sms_id: 62807347, message: 'Sms has been saved successfully' },
  },
  {
    paths: ['addalotofsms'],
    idempotent: true,
    summary: 'Send up to 10,000 messages at once, all or none',
    description:
      '`datajson`: a JSON string {"token":…,"smsdata":[{sendto, body, device_id or pool_id, sim, timetosend, customerid, urgent}, …]}; or that object as the JSON body. A bad item rejects the request; `errors` lists each by index and field.',
    params: [
      {
        name: 'datajson',
        type: 'string',
        required: true,
        description: 'The request as JSON text.',
        example:
          '{"token":"df427bfcf113c9a21c67718035076b5b","smsdata":[{"sendto":"+4915752982212","body":"Test","sim":1,"device_id":260}]}',
      },
    ],
    example: {
      error: 0,
      message: 'Sms has been saved successfully',
      count: 2,
      sms_ids: [62807347, 62807348],
    },
  },
  {
    paths: ['getallsms'],
    summary: 'List messages (sent and incoming)',
    description:
      '`smss` is keyed by id in the order asked for. `count` counts every match; `limit` (default 1,000, at most 10,000) and `offset` page. Dates in the caller zone: a name gives timezone_type 3, an hour offset type 1.',
    params: [
      token,
      { ...deviceId, required: false },
      {
        name: 'status',
        type: 'integer',
        description: 'Status code, e.g. 7 Delivered, 5 Income.',
        example: 7,
      },
      {
        name: 'begindate',
        type: 'string',
        description: 'Created at or after (inclusive).',
        example: '2026-03-01',
      },
      {
        name: 'enddate',
        type: 'string',
        description: 'Created at or before (a date: that whole day).',
        example: '2026-03-31',
      },
      { ...sim, description: 'SIM slot' },
      { name: 'customerid', type: 'integer', description: 'Your id', example: 122 },
      {
        name: 'phone',
        type: 'string',
        description: 'Number, in any usual notation.',
        example: '+4915752982212',
      },
      { name: 'onlycount', type: 'integer', description: '1: only `count`.', example: 0 },
      { name: 'orderbydesc', type: 'integer', description: '1: newest first.', example: 1 },
      { name: 'timezone', type: 'string', description: 'Zone name or hour offset.', example: 'Europe/Paris' },
      {
        name: 'limit',
        type: 'integer',
        description: 'Rows per answer (1–10,000, default 1,000).',
        example: 100,
      },
      { name: 'offset', type: 'integer', description: 'Rows to skip.', example: 0 },
    ],
    example: { error: 0, message: 'Ok', count: 1, smss: { '62050971': message } },
  },
  {
    paths: ['getsmsstatus'],
    summary: 'Status of one message',
    description:
      'Our own final codes: 201 rejected by phone, 202 expired, 203 no report from phone, 204 no ack from phone, 205 cancelled by the account.',
    params: [
      token,
      { name: 'sms_id', type: 'integer', required: true, description: 'From addsms', example: 62807347 },
    ],
    example: { error: 0, message: 'Ok', sms_id: 62807347, status: 7, status_description: 'Delivered' },
  },
  {
    paths: ['savetag'],
    summary: 'Create a tag (a group of contacts)',
    description: 'Unknown extra fields are ignored.',
    params: [
      token,
      { name: 'title', type: 'string', required: true, description: 'Name', example: 'Customers' },
    ],
    example: { error: 0, tag_id: 8303, message: 'OK' },
  },
  {
    paths: ['savecontact'],
    summary: 'Add a number to a tag',
    description: 'A known number gets one more tag (same contact_id): a newsletter reaches it once.',
    params: [
      token,
      { name: 'phone', type: 'string', required: true, description: 'Number', example: '+4915752982212' },
      {
        name: 'ctag_id',
        type: 'integer',
        required: true,
        description: 'One of your tags (alias `tag_id`).',
        example: 8303,
      },
      { name: 'name', type: 'string', description: 'Name (alias `fullname`).', example: 'Ann' },
    ],
    example: { error: 0, contact_id: 15954765, message: 'ok' },
  },
  {
    paths: ['savepaket', 'createpaket'],
    idempotent: true,
    summary: 'Create a newsletter',
    description:
      'At `time_to_send` (absent or 0: now) one message per contact carrying any of the tags, each contact once; listings show paketid, pakettitle, paketbody.',
    params: [
      token,
      { name: 'title', type: 'string', required: true, description: 'Title', example: 'Winter sale' },
      deviceId,
      { name: 'body', type: 'string', required: true, description: 'Text', example: 'All -50%' },
      {
        name: 'tags',
        type: 'string',
        required: true,
        description: 'Tag ids, comma separated',
        example: '12,13,14',
      },
      sim,
      {
        name: 'time_to_send',
        type: 'string',
        description: 'DD.MM.YYYY H:i:s, or 0',
        example: '29.05.2026 17:21:27',
      },
    ],
    example: { error: 0, message: 'OK', paket_id: 5312, paket: 5312 },
  },
  {
    paths: ['getalldevices'],
    summary: 'Your devices',
    description:
      '`online` (ours) from the live connection; lastseen is never null. `kind` (ours): `socket` for our app, `smsgate` for the SMSGate app; `sendslots` (ours): the SIM slots it can send from (a message for another slot is refused).',
    params: [token],
    example: {
      error: 0,
      message: 'OK',
      count: 1,
      device: {
        '1576': {
          id: 1576,
          title: 'Shop phone',
          number: '+4915752982212',
          imei: '358240051111110',
          created: date('2020-03-28 20:10:29.000000'),
          createdhumanformat: '28.03.2020 20:10:29',
          lastseen: date('2020-04-23 17:02:21.000000'),
          lastseenhumanformat: '23.04.2020 17:02:21',
          serialnumber: 'R58M12ABCDE',
          siminfo: [
            {
              Slot: '0',
              IccId: '8949226172233934327',
              Number: '+4915752982212',
              Roaming: '0',
              CountryIso: 'de',
              CarrierName: 'o2',
            },
          ],
          appversion: '1.4.0',
          isappversionactual: true,
          delaybetweeneachsms: null,
          delaybetweenrequest: 1,
          subscription: true,
          online: true,
          kind: 'socket',
          sendslots: [0, 1, 2, 3, 4, 5],
          delaybetweeneachsms_max: null,
          sendhours: 'mon 08:00-21:00; tue 08:00-21:00; wed 08:00-21:00; thu 08:00-21:00; fri 08:00-21:00',
          sendhours_timezone: 'Europe/Berlin',
          sendhours_urgent: true,
          simquotas: '0 100/hour 1000/day',
          simquotas_used: { '0': { hour: 12, day: 340 } },
        },
      },
    },
  },
  {
    paths: ['getdevicestatus'],
    summary: 'Is a device online, and since when was it last seen',
    description: 'A phone that never connected: lastseen is its registration time.',
    params: [token, deviceId],
    example: {
      error: 0,
      message: 'OK',
      online: false,
      device_id: 260,
      lastseen: date('2026-11-25 09:00:00.000000'),
      diffseconds: 3600,
      title: 'Shop phone',
    },
  },
];
