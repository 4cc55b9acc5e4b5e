import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { Account, newSecret, sha256Hex } from '@smsfleet/auth';
import { SimInfo } from '@smsfleet/contracts';
import { DeviceEntity } from '@smsfleet/persistence';

export interface DeviceDetails {
  title: string;
  imei?: string;
  serialNumber?: string;
  appVersion?: string;
  simInfo: SimInfo[];
}

export interface RegisteredDevice {
  deviceId: number;
  /** Shown once; only its SHA-256 is stored. */
  secret: string;
}

@Injectable()
export class DeviceRegistrationService {
  constructor(@InjectRepository(DeviceEntity) private readonly devices: Repository<DeviceEntity>) {}

  async register(account: Account, details: DeviceDetails): Promise<RegisteredDevice> {
    const secret = newSecret();
    const device = await this.devices.save(
      this.devices.create({
        userId: account.id,
        title: details.title,
        imei: details.imei ?? null,
        serialNumber: details.serialNumber ?? null,
        appVersion: details.appVersion ?? null,
        simInfo: details.simInfo,
        secretHash: sha256Hex(secret),
      }),
    );
    return { deviceId: device.id, secret };
  }
}
