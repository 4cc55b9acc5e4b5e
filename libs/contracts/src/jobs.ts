import { SimSlot } from './sim-slot';
import { DeviceRules } from './device-rules';

/** A message waiting in a device queue: everything the dispatcher needs to emit it without a database read. */
export interface SendSmsJob {
  messageId: number;
  sendto: string;
  body: string;
  sim: SimSlot;
  urgent: boolean;
  /** Epoch milliseconds after which the message must not be handed to a phone. */
  validUntil: number;
  /** How often it was sent to a phone that did not acknowledge it in time (absent: never). */
  unackedSends?: number;
  /**
   * Set when a session moved the due job back to delayed because the phone may not send now (outside its
   * send hours, or its SIM's quota used up): a settings change promotes exactly these, never a message scheduled for later.
   */
  held?: 'hours' | 'quota';
  /**
   * The SIM quota counters this message was counted in when it was first emitted: a resend (no ack in
   * time, the phone moved) may already have been sent by the phone, so it is never counted twice and
   * never given back, except when the phone refuses it (ADR 2201).
   */
  quotaKeys?: string[];
  /**
   * The pool the message was sent to (absent: pinned to its device). A session marks such a job as emitted
   * before it first reaches a phone, so the pool mover never moves a message a phone may hold (ADR 2221).
   */
  poolId?: number;
}

/**
 * Every BullMQ job smsfleet produces, its name bound to its data once (as immich's `JobItem`). A device
 * queue carries one kind: the `sms` a phone sends. Status reports travel through the status inbox table,
 * not a queue.
 */
export interface DeviceJobItems {
  sms: SendSmsJob;
}

export type DeviceJobName = keyof DeviceJobItems;

/** The job names, for code that must spell one. */
export const DeviceJobName = { sms: 'sms' } as const satisfies { [N in DeviceJobName]: N };

/** A job of a device queue: its name fixes its data's type. */
export type DeviceJobItem = { [N in DeviceJobName]: { name: N; data: DeviceJobItems[N] } }[DeviceJobName];

/** One status change of one message, as it travels to the status service. */
export interface StatusReport {
  messageId: number;
  status: number;
  /** ISO-8601, the moment the change happened (the phone's clock for phone reports). */
  at: string;
  error?: string;
}

/** Reports of one device, checked against that device when applied. */
export interface DeviceReports {
  deviceId: number;
  reports: StatusReport[];
}

/** Published on the device-settings channel after the settings of a device changed in PostgreSQL. */
export interface DeviceSettingsChanged {
  deviceId: number;
  settings: DeviceRules;
}

/** Published on the device-acks channel: messages a pulling phone reported a state for. */
export interface DeviceAcks {
  deviceId: number;
  messageIds: number[];
}

/** Published on the device-lease channel when a node takes a device over (the newer connection wins). */
export interface DeviceLeaseTaken {
  deviceId: number;
  owner: string;
}
