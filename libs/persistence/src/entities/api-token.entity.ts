import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * An account's API token: looked up by its SHA-256, and kept sealed with TOKEN_SECRET (which never enters
 * the database) so that gettoken can answer it again.
 */
@Entity({ name: 'api_tokens' })
@Index('api_tokens_one_active_per_user', ['userId'], { unique: true, where: 'revoked_at IS NULL' })
export class ApiTokenEntity {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ name: 'user_id', type: 'int' })
  userId!: number;

  /** Rotation counter (tokens issued before sealing were derived from it). */
  @Column({ type: 'int' })
  version!: number;

  @Column({ name: 'token_hash', type: 'char', length: 64, unique: true })
  tokenHash!: string;

  /** `v1:<key id>:<iv>:<ciphertext>:<tag>` (TokenVault); null for a token derived from an older secret. */
  @Column({ type: 'text', nullable: true })
  sealed!: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true })
  revokedAt!: Date | null;
}
