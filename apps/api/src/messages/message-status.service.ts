import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Account } from '@smsfleet/auth';
import { statusTitle } from '@smsfleet/contracts';
import { messageStatusOf } from '@smsfleet/persistence';
import { ApiError } from '../common/api-error';

export interface MessageStatusView {
  smsId: number;
  status: number;
  title: string;
}

@Injectable()
export class MessageStatusService {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async statusOf(account: Account, smsId: number): Promise<MessageStatusView> {
    const status = await messageStatusOf(this.db, account.id, smsId);
    if (status === undefined) throw ApiError.notFound(`sms_id ${smsId} not found`);
    return { smsId, status, title: statusTitle(status) };
  }
}
