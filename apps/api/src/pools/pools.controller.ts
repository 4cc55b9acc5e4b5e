import { Controller, Delete, Get, HttpCode, Param, Patch, Post, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { ApiError } from '../common/api-error';
import { CallerService } from '../common/caller.service';
import { Params } from '../common/params.decorator';
import { RequestParams } from '../common/request-params';
import { pathId, poolDeviceIds, poolName } from './pool-input';
import { PoolsService } from './pools.service';

/**
 * `/v1/pools` (token or dashboard session): the account's phone pools and their members (docs/api.md,
 * ADR 2221). Another account's pool or device is not found / not yours.
 */
@Controller('v1/pools')
export class PoolsController {
  constructor(
    private readonly caller: CallerService,
    private readonly pools: PoolsService,
  ) {}

  @Post()
  @HttpCode(200)
  async create(@Params() params: RequestParams, @Req() request: FastifyRequest) {
    const account = await this.caller.byToken(params, request);
    const name = poolName(params, true) as string;
    const pool = await this.pools.create(account, name, poolDeviceIds(params, false));
    return { error: 0, message: 'OK', pool };
  }

  @Get()
  async list(@Params() params: RequestParams, @Req() request: FastifyRequest) {
    const account = await this.caller.byToken(params, request);
    return { error: 0, message: 'OK', pools: await this.pools.list(account) };
  }

  @Get(':id')
  async get(@Param('id') id: string, @Params() params: RequestParams, @Req() request: FastifyRequest) {
    const account = await this.caller.byToken(params, request);
    return { error: 0, message: 'OK', pool: await this.pools.get(account, poolId(id)) };
  }

  @Post(':id')
  @HttpCode(200)
  rename(@Param('id') id: string, @Params() params: RequestParams, @Req() request: FastifyRequest) {
    return this.renamed(id, params, request);
  }

  @Patch(':id')
  patch(@Param('id') id: string, @Params() params: RequestParams, @Req() request: FastifyRequest) {
    return this.renamed(id, params, request);
  }

  @Delete(':id')
  async delete(@Param('id') id: string, @Params() params: RequestParams, @Req() request: FastifyRequest) {
    const account = await this.caller.byToken(params, request);
    const pool = poolId(id);
    await this.pools.delete(account, pool);
    return { error: 0, message: 'OK', pool_id: pool };
  }

  @Post(':id/devices')
  @HttpCode(200)
  async add(@Param('id') id: string, @Params() params: RequestParams, @Req() request: FastifyRequest) {
    const account = await this.caller.byToken(params, request);
    const pool = poolId(id);
    const deviceIds = poolDeviceIds(params, true) as number[];
    return { error: 0, message: 'OK', pool: await this.pools.addDevices(account, pool, deviceIds) };
  }

  @Post(':id/devices/remove')
  @HttpCode(200)
  async remove(@Param('id') id: string, @Params() params: RequestParams, @Req() request: FastifyRequest) {
    const account = await this.caller.byToken(params, request);
    const pool = poolId(id);
    const deviceIds = poolDeviceIds(params, true) as number[];
    return { error: 0, message: 'OK', pool: await this.pools.removeDevices(account, pool, deviceIds) };
  }

  @Delete(':id/devices/:deviceId')
  async removeOne(
    @Param('id') id: string,
    @Param('deviceId') deviceId: string,
    @Params() params: RequestParams,
    @Req() request: FastifyRequest,
  ) {
    const account = await this.caller.byToken(params, request);
    const pool = poolId(id);
    const device = pathId(deviceId);
    if (device === undefined) throw ApiError.notFound(`device ${deviceId.slice(0, 20)} not in pool ${pool}`);
    return { error: 0, message: 'OK', pool: await this.pools.removeDevices(account, pool, [device]) };
  }

  private async renamed(id: string, params: RequestParams, request: FastifyRequest) {
    const account = await this.caller.byToken(params, request);
    const pool = poolId(id);
    const name = poolName(params, true) as string;
    return { error: 0, message: 'OK', pool: await this.pools.rename(account, pool, name) };
  }
}

function poolId(id: string): number {
  const value = pathId(id);
  if (value === undefined) throw ApiError.notFound(`pool ${id.slice(0, 20)} not found among yours`);
  return value;
}
