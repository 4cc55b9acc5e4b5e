import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Account } from '@smsfleet/auth';
import {
  addPoolMembers,
  deletePool,
  findPool,
  insertPool,
  listPools,
  lockAndCountPools,
  lockPool,
  PoolRow,
  poolsOfAccount,
  refusedMembers,
  removePoolMembers,
  renamePool,
} from '@smsfleet/persistence';
import { DevicePresence, PoolChangedSignal } from '@smsfleet/queueing';
import { ApiError } from '../common/api-error';
import { livePresence } from '../devices/live-presence';
import { MAX_POOLS_PER_ACCOUNT } from './pool-input';

/** A pool as the routes answer it: its members with their live state. */
export interface PoolView {
  id: number;
  name: string;
  members: Array<{ device_id: number; title: string; online: boolean }>;
  online: number;
  created_at: string;
  updated_at: string;
}

/**
 * Phone pools of one account (ADR 2221): names unique per account, a device of the account in at most one
 * pool. A change of members tells the routers at once (PoolChangedSignal): none routes to a phone that left.
 */
@Injectable()
export class PoolsService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly presence: DevicePresence,
    private readonly changed: PoolChangedSignal,
  ) {}

  async create(account: Account, name: string, deviceIds: number[] | undefined): Promise<PoolView> {
    const id = await this.db.transaction(async (tx) => {
      if ((await lockAndCountPools(tx, account.id)) >= MAX_POOLS_PER_ACCOUNT)
        throw ApiError.validation(
          `an account may have at most ${MAX_POOLS_PER_ACCOUNT} pools; delete one first`,
        );
      const created = await insertPool(tx, account.id, name);
      if (created === undefined) throw nameTaken(name);
      if (deviceIds !== undefined && deviceIds.length > 0) await this.join(tx, account, created, deviceIds);
      return created;
    });
    if (deviceIds !== undefined && deviceIds.length > 0) await this.changed.publish({ poolId: id });
    return this.get(account, id);
  }

  async list(account: Account): Promise<PoolView[]> {
    return this.views(await listPools(this.db, account.id));
  }

  /** The pool is the caller's (another account's reads as none), else 404. */
  async assertOwnPool(account: Account, poolId: number): Promise<void> {
    if ((await poolsOfAccount(this.db, account.id, [poolId])).length === 0) throw notFound(poolId);
  }

  async get(account: Account, poolId: number): Promise<PoolView> {
    const row = await findPool(this.db, account.id, poolId);
    if (!row) throw notFound(poolId);
    return (await this.views([row]))[0];
  }

  async rename(account: Account, poolId: number, name: string): Promise<PoolView> {
    let outcome: 'renamed' | 'absent' | 'taken';
    try {
      outcome = await this.db.transaction((tx) => renamePool(tx, account.id, poolId, name));
    } catch (error) {
      // Two renames to one name at once: the unique index refuses the second.
      if ((error as { code?: string }).code !== '23505') throw error;
      outcome = 'taken';
    }
    if (outcome === 'absent') throw notFound(poolId);
    if (outcome === 'taken') throw nameTaken(name);
    return this.get(account, poolId);
  }

  /** Adds devices; all or none (the first refused device is named, with why). */
  async addDevices(account: Account, poolId: number, deviceIds: number[]): Promise<PoolView> {
    await this.db.transaction(async (tx) => {
      if (!(await lockPool(tx, account.id, poolId))) throw notFound(poolId);
      await this.join(tx, account, poolId, deviceIds);
    });
    await this.changed.publish({ poolId });
    return this.get(account, poolId);
  }

  /** Removes devices; one that is not in the pool is a 404 (nothing is removed then). */
  async removeDevices(account: Account, poolId: number, deviceIds: number[]): Promise<PoolView> {
    await this.db.transaction(async (tx) => {
      if (!(await lockPool(tx, account.id, poolId))) throw notFound(poolId);
      const removed = await removePoolMembers(tx, account.id, poolId, deviceIds);
      const missing = deviceIds.filter((id) => !removed.includes(id));
      if (missing.length > 0) throw ApiError.notFound(`device_ids: ${list(missing)} not in pool ${poolId}`);
    });
    await this.changed.publish({ poolId });
    return this.get(account, poolId);
  }

  async delete(account: Account, poolId: number): Promise<void> {
    if (!(await deletePool(this.db, account.id, poolId))) throw notFound(poolId);
    await this.changed.publish({ poolId });
  }

  private async join(
    tx: Parameters<typeof refusedMembers>[0],
    account: Account,
    poolId: number,
    deviceIds: number[],
  ): Promise<void> {
    const refused = await refusedMembers(tx, account.id, poolId, deviceIds);
    const foreign = refused.filter((entry) => entry.reason === 'not_yours').map((entry) => entry.device_id);
    if (foreign.length > 0) throw ApiError.validation(`device_ids: ${list(foreign)} not among your devices`);
    if (refused.length > 0) {
      const first = refused[0];
      throw ApiError.validation(
        `device_ids: device ${first.device_id} is in pool ${first.pool_id}; a device is in one pool at most, remove it there first`,
      );
    }
    await addPoolMembers(tx, account.id, poolId, deviceIds);
  }

  private async views(rows: PoolRow[]): Promise<PoolView[]> {
    const presence = await livePresence(
      this.presence,
      rows.flatMap((row) => row.members.map((member) => member.id)),
    );
    return rows.map((row) => {
      const members = row.members.map((member) => ({
        device_id: member.id,
        title: member.title,
        online: presence.get(member.id)?.online ?? false,
      }));
      return {
        id: row.id,
        name: row.name,
        members,
        online: members.filter((member) => member.online).length,
        created_at: row.created_at.toISOString(),
        updated_at: row.updated_at.toISOString(),
      };
    });
  }
}

function list(ids: number[]): string {
  return `${ids.slice(0, 5).join(', ')}${ids.length > 5 ? ', …' : ''}`;
}

function notFound(poolId: number): ApiError {
  return ApiError.notFound(`pool ${poolId} not found among yours`);
}

function nameTaken(name: string): ApiError {
  return ApiError.validation(`name: you already have a pool named "${name}"`);
}
