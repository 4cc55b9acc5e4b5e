import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** Status history: each (message, status) is recorded once, however often a phone repeats it. */
@Entity({ name: 'message_events' })
export class MessageEventEntity {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id!: number;

  @Column({ name: 'message_id', type: 'bigint' })
  messageId!: number;

  @Column({ type: 'smallint' })
  status!: number;

  /** When it happened, by the reporter's clock. */
  @Column({ type: 'timestamptz' })
  at!: Date;

  @Column({ name: 'recorded_at', type: 'timestamptz', default: () => 'now()' })
  recordedAt!: Date;

  @Column({ type: 'text', nullable: true })
  error!: string | null;
}
