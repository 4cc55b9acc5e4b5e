import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** One phone number of an account; its tags live in `contact_tags`. */
@Entity({ name: 'contacts' })
export class ContactEntity {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ name: 'user_id', type: 'int' })
  userId!: number;

  /** Normalised, unique per account. */
  @Column({ type: 'varchar', length: 32 })
  phone!: string;

  /** As the client wrote it; newsletters send to this. */
  @Column({ type: 'varchar', length: 64 })
  sendto!: string;

  @Column({ type: 'varchar', length: 255, default: '' })
  name!: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
