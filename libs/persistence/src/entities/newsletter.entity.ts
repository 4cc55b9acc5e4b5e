import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** A newsletter ("paket"): at `timeToSend` the scheduler makes one message per contact carrying any of its tags. */
@Entity({ name: 'newsletters' })
export class NewsletterEntity {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ name: 'user_id', type: 'int' })
  userId!: number;

  @Column({ name: 'device_id', type: 'int' })
  deviceId!: number;

  @Column({ type: 'varchar', length: 255 })
  title!: string;

  @Column({ type: 'text' })
  body!: string;

  @Column({ type: 'smallint' })
  sim!: number;

  @Column({ name: 'tag_ids', type: 'int', array: true })
  tagIds!: number[];

  @Column({ name: 'time_to_send', type: 'timestamptz' })
  timeToSend!: Date;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'expanded_at', type: 'timestamptz', nullable: true })
  expandedAt!: Date | null;

  @Column({ name: 'message_count', type: 'int', nullable: true })
  messageCount!: number | null;
}
