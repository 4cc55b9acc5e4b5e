import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Account } from '@smsfleet/auth';
import { DeviceMessageCounts, deviceMessageCounts } from '@smsfleet/persistence';

/** Per device of an account: messages waiting and sent today (libs/persistence/src/messages/listing.ts). */
@Injectable()
export class DeviceCountsRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  of(account: Account, dayStart: Date, deviceId?: number): Promise<Map<number, DeviceMessageCounts>> {
    return deviceMessageCounts(this.db, account.id, dayStart, deviceId);
  }
}
