import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

/**
 * One message to one recipient (or one incoming SMS). Rows are written with raw multi-row SQL on the
 * hot paths; this entity serves reads and documents the columns. Indexes live in the migrations.
 */
@Entity({ name: 'messages' })
export class MessageEntity {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id!: number;

  @Column({ name: 'user_id', type: 'int' })
  userId!: number;

  /** The phone whose queue holds (or will hold) the job; a pool message's may change until a phone took it. */
  @Column({ name: 'device_id', type: 'int' })
  deviceId!: number;

  /** The pool it was sent to (ADR 2221); null: pinned to its device, or its pool was deleted. */
  @Column({ name: 'pool_id', type: 'int', nullable: true })
  poolId!: number | null;

  /** The recipient as the client wrote it. */
  @Column({ type: 'varchar', length: 64 })
  sendto!: string;

  /** The recipient normalised (digits, leading + kept), for search. */
  @Column({ type: 'varchar', length: 32 })
  phone!: string;

  @Column({ type: 'text' })
  body!: string;

  @Column({ type: 'smallint' })
  sim!: number;

  @Column({ type: 'boolean', default: false })
  urgent!: boolean;

  @Column({ name: 'customer_id', type: 'bigint', nullable: true })
  customerId!: number | null;

  @Column({ name: 'time_to_send', type: 'timestamptz' })
  timeToSend!: Date;

  @Column({ name: 'valid_until', type: 'timestamptz' })
  validUntil!: Date;

  @Column({ type: 'smallint', default: 1 })
  status!: number;

  @Column({ name: 'status_error', type: 'text', nullable: true })
  statusError!: string | null;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt!: Date;

  /** Set once the message is in its device queue; NULL marks the outbox the scheduler sweeps. */
  @Column({ name: 'enqueued_at', type: 'timestamptz', nullable: true })
  enqueuedAt!: Date | null;

  @Column({ name: 'taken_at', type: 'timestamptz', nullable: true })
  takenAt!: Date | null;

  @Column({ name: 'sent_at', type: 'timestamptz', nullable: true })
  sentAt!: Date | null;

  @Column({ name: 'delivered_at', type: 'timestamptz', nullable: true })
  deliveredAt!: Date | null;

  @Column({ name: 'failed_at', type: 'timestamptz', nullable: true })
  failedAt!: Date | null;

  /** The newsletter this message was made from, if any. */
  @Column({ name: 'newsletter_id', type: 'int', nullable: true })
  newsletterId!: number | null;

  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' })
  updatedAt!: Date;
}
