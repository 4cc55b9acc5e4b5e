import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import type { DeviceKind, SendHours, SimInfo, SimQuotas, SimSlot } from '@smsfleet/contracts';

@Entity({ name: 'devices' })
@Index('devices_user_id_id', ['userId', 'id'])
export class DeviceEntity {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ name: 'user_id', type: 'int' })
  userId!: number;

  @Column({ type: 'varchar', length: 255, default: '' })
  title!: string;

  /** SHA-256 of the device secret. */
  @Column({ name: 'secret_hash', type: 'char', length: 64 })
  secretHash!: string;

  @Column({ type: 'varchar', length: 64, nullable: true })
  imei!: string | null;

  @Column({ name: 'serial_number', type: 'varchar', length: 128, nullable: true })
  serialNumber!: string | null;

  @Column({ name: 'app_version', type: 'varchar', length: 64, nullable: true })
  appVersion!: string | null;

  @Column({ name: 'sim_info', type: 'jsonb', default: () => `'[]'::jsonb` })
  simInfo!: SimInfo[];

  /** Seconds between two messages sent to this phone (0 = no pacing). */
  @Column({ name: 'delay_between_sms', type: 'int', default: 0 })
  delayBetweenSms!: number;

  /** The upper end of a random pace (seconds; null = a fixed pace of `delayBetweenSms`). */
  @Column({ name: 'delay_max_between_sms', type: 'int', nullable: true })
  delayMaxBetweenSms!: number | null;

  /** The hours it may send in, in its own time zone (`SendHours`; null = any hour). */
  @Column({ name: 'send_hours', type: 'jsonb', nullable: true })
  sendHours!: SendHours | null;

  /** Per-SIM limits per hour, day and month (`SimQuotas`; null = none). */
  @Column({ name: 'sim_quotas', type: 'jsonb', nullable: true })
  simQuotas!: SimQuotas | null;

  /** Messages that may be on the phone unacknowledged at once (null = the server default). */
  @Column({ name: 'send_window', type: 'int', nullable: true })
  sendWindow!: number | null;

  /** Which app the phone runs: our socket protocol, or the SMSGate Android app (docs/phones.md). */
  @Column({ type: 'varchar', length: 16, default: 'socket' })
  kind!: DeviceKind;

  /** The SIM slots this device can send from (its capabilities); intake refuses messages for others. */
  @Column({ name: 'send_slots', type: 'smallint', array: true, default: () => `'{0,1,2,3,4,5}'` })
  sendSlots!: SimSlot[];

  @Column({ name: 'push_token', type: 'varchar', length: 512, nullable: true })
  pushToken!: string | null;

  /** Key the SMSGate app signs its webhooks with (HMAC-SHA256); given to the phone in its settings. */
  @Column({ name: 'webhook_signing_key', type: 'varchar', length: 64, nullable: true })
  webhookSigningKey!: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'last_seen_at', type: 'timestamptz', nullable: true })
  lastSeenAt!: Date | null;

  /** Removed by its account or an operator: found by no path any more, its secret replaced. */
  @Column({ name: 'removed_at', type: 'timestamptz', nullable: true })
  removedAt!: Date | null;

  /** An SMSGate device whose token was rotated: the account's next app registration takes it over. */
  @Column({ name: 'awaiting_registration', type: 'boolean', default: false })
  awaitingRegistration!: boolean;
}
